"""Run the Pulumi program (`__main__.py`) in-process under mocks and keep everything it registers.

This is Pulumi's own unit-test mode: no CLI, no provider plugin, no cluster, no network. The program does
not know it is being run this way.
"""

from __future__ import annotations

import logging
import runpy
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.output import Unknown
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from config.stack import PROJECT
from offline.recorder import SECRET, EchoMocks, RecordingMonitor, RegisteredResource, unwrap_secrets
from offline.stackfile import StackSettings

PROJECT_DIR = Path(__file__).resolve().parent.parent
# How a stack output shows when its value is only known once `pulumi up` has created the resources.
UNKNOWN_OUTPUT = "[unknown until pulumi up]"


class _Collect(logging.Handler):
    """Keeps what the program logs (`pulumi.log.warn`...) for the caller, instead of printing it bare."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.warnings: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.warnings.append(record.getMessage())


@dataclass
class ProgramRun:
    stack: str
    resources: list[RegisteredResource]
    outputs: dict[str, Any] = field(default_factory=dict)
    # The outputs as `pulumi stack output` shows them after `up`: secrets as "[secret]", unknowns marked.
    shown_outputs: dict[str, Any] = field(default_factory=dict)
    # What the program logged as a warning (or error), in order.
    warnings: list[str] = field(default_factory=list)

    def by_type(self, type_token: str) -> list[RegisteredResource]:
        return [r for r in self.resources if r.type == type_token]

    def by_urn(self) -> dict[str, RegisteredResource]:
        return {r.urn: r for r in self.resources}

    def duplicate_urns(self) -> list[str]:
        # The mock monitor, unlike the engine, accepts two resources with one URN; check it here.
        seen: set[str] = set()
        return sorted({r.urn for r in self.resources if r.urn in seen or seen.add(r.urn)})


def run_program(
    settings: StackSettings,
    stack: str,
    program: Path = PROJECT_DIR / "__main__.py",
    preview: bool = False,
    project_dir: Path | None = None,
) -> ProgramRun:
    """Run `program` with the given stack config under recording mocks; exceptions propagate unchanged.

    `project_dir`: the project root the program reads model files from (default: the program's directory)."""
    pulumi.runtime.set_all_config(dict(settings.config), list(settings.secret_keys))
    monitor = RecordingMonitor(EchoMocks())
    collected = _Collect()
    logger = logging.Logger("kserve-platform.program", logging.WARNING)  # unattached: nothing reaches the root
    logger.addHandler(collected)
    # A fresh root stack resource per run, so several runs can share one process (the tests do).
    runtime_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(
        monitor.mocks, project=PROJECT, stack=stack, preview=preview, logger=logger, monitor=monitor
    )
    runtime_settings.SETTINGS.rpc_manager.clear()
    runtime_settings.SETTINGS.outputs.clear()
    # What `pulumi.get_root_directory()` answers under the engine (the directory of Pulumi.yaml); the mocks leave it.
    runtime_settings.SETTINGS.root_directory = str(project_dir or program.parent)

    if str(program.parent) not in sys.path:
        sys.path.insert(0, str(program.parent))

    def main() -> None:
        runpy.run_path(str(program), run_name="__main__")

    try:
        _sync_await(run_pulumi_func(main))
    except Exception as error:
        # Lets callers prove that a failing program (e.g. invalid config) registered nothing.
        error.registered_before_failure = list(monitor.recorded)  # type: ignore[attr-defined]
        raise
    root = runtime_settings.get_root_resource()
    outputs: dict[str, Any] = {}
    shown: dict[str, Any] = {}
    if root is not None:
        resolved = _sync_await(pulumi.Output.from_input(dict(root.outputs)).future())
        outputs = unwrap_secrets(resolved) if resolved else {}
        shown = {key: _shown(value) for key, value in sorted(root.outputs.items())}
    return ProgramRun(
        stack=stack,
        resources=list(monitor.recorded),
        outputs=outputs,
        shown_outputs=shown,
        warnings=list(collected.warnings),
    )


def _shown(value: Any) -> Any:
    """One stack output as the CLI shows it: "[secret]" for a secret, unknown parts marked."""
    output = pulumi.Output.from_input(value)
    if _sync_await(output.is_secret()):
        return SECRET
    return _mark_unknowns(_sync_await(output.future(with_unknowns=True)))


def _mark_unknowns(value: Any) -> Any:
    if isinstance(value, Unknown):
        return UNKNOWN_OUTPUT
    if isinstance(value, dict):
        return {key: _mark_unknowns(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_mark_unknowns(item) for item in value]
    return unwrap_secrets(value)
