"""Shared test harness: run the whole Pulumi program under mocks for a stack and return what it registered."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from config.models import ModelConfig  # noqa: E402
from config.stack import PROJECT, StackConfig  # noqa: E402
from offline.program import ProgramRun, run_program  # noqa: E402
from offline.stackconfig import load_stack_config  # noqa: E402
from offline.stackfile import StackSettings, read_stack_settings  # noqa: E402

STACKS = ("dev", "staging", "prod", "local")
# Stack files with fixed content for tests that assert exact names, counts and outputs. The committed
# Pulumi.<stack>.yaml files are the user's to edit: tests of those assert what holds for any valid stack.
FIXTURE_STACKS_DIR = PROJECT_DIR / "tests" / "fixtures" / "stacks"


def render(*args: str | Path, project: Path = PROJECT_DIR, timeout: float = 120) -> subprocess.CompletedProcess:
    """`python -m cli render ARGS` in the project (or a copy of it: `project`), as a user runs it (exit status,
    stdout, stderr)."""
    return subprocess.run(
        [sys.executable, "-m", "cli", "render", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=project,
        timeout=timeout,
        check=False,
    )


def settings_for(
    values: dict[str, Any], secret_keys: tuple[str, ...] = (), extra: dict[str, str] | None = None
) -> StackSettings:
    """Stack settings from raw `kserve-platform:` values, as the CLI would pass them (JSON text per key)."""
    config = {
        f"{PROJECT}:{key}": value if isinstance(value, str) else json.dumps(value) for key, value in values.items()
    }
    config.update(extra or {})
    return StackSettings(config=config, secret_keys=[f"{PROJECT}:{key}" for key in secret_keys])


def stack_settings(stack: str) -> StackSettings:
    return read_stack_settings(PROJECT_DIR / "Pulumi.yaml", PROJECT_DIR / f"Pulumi.{stack}.yaml")


def fixture_stack_file(stack: str) -> Path:
    return FIXTURE_STACKS_DIR / f"Pulumi.{stack}.yaml"


def committed_config(stack: str) -> StackConfig:
    """The typed config of a committed stack file, whatever the user put there."""
    return load_stack_config(stack)[1]


def committed_models(stack: str) -> list[ModelConfig]:
    """The models a committed stack deploys (entries with `deploy: false` are validated but not declared)."""
    return list(committed_config(stack).deployed_models)


@pytest.fixture
def run_stack() -> Callable[[str], ProgramRun]:
    """Run the program for a committed stack file (mocks are installed per call, never at import)."""

    def run(stack: str) -> ProgramRun:
        return run_program(stack_settings(stack), stack)

    return run


@pytest.fixture
def run_fixture_stack() -> Callable[[str], ProgramRun]:
    """Run the program for a fixture stack (tests/fixtures/stacks/Pulumi.<stack>.yaml): fixed, known content."""

    def run(stack: str) -> ProgramRun:
        return run_program(read_stack_settings(PROJECT_DIR / "Pulumi.yaml", fixture_stack_file(stack)), stack)

    return run


@pytest.fixture
def run_config() -> Callable[..., ProgramRun]:
    """Run the program for raw stack values: `run_config({"models": [...]}, stack="test")`."""

    def run(values: dict[str, Any], stack: str = "test", secret_keys: tuple[str, ...] = (), extra=None) -> ProgramRun:
        return run_program(settings_for(values, secret_keys, extra), stack)

    return run


MODEL_NAMESPACE_COMPONENT = "kserve-platform:models:ModelNamespace"


def model_namespace_resources(run: ProgramRun, type_token: str) -> list:
    """Resources of `type_token` owned by a model namespace (the install creates namespaces of its own)."""
    components = {r.urn for r in run.resources if r.type == MODEL_NAMESPACE_COMPONENT}
    return [r for r in run.by_type(type_token) if r.parent in components]
