"""Run the Pulumi program (`__main__.py`) in-process under mocks and keep everything it registers.

This is Pulumi's own unit-test mode: no CLI, no provider plugin, no cluster, no network. The program does
not know it is being run this way.
"""

from __future__ import annotations

import runpy
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from config.stack import PROJECT
from offline.recorder import EchoMocks, RecordingMonitor, RegisteredResource, unwrap_secrets
from offline.stackfile import StackSettings

PROJECT_DIR = Path(__file__).resolve().parent.parent


@dataclass
class ProgramRun:
    stack: str
    resources: list[RegisteredResource]
    outputs: dict[str, Any] = field(default_factory=dict)

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
) -> ProgramRun:
    """Run `program` with the given stack config under recording mocks; exceptions propagate unchanged."""
    pulumi.runtime.set_all_config(dict(settings.config), list(settings.secret_keys))
    monitor = RecordingMonitor(EchoMocks())
    # A fresh root stack resource per run, so several runs can share one process (the tests do).
    runtime_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(monitor.mocks, project=PROJECT, stack=stack, preview=preview, monitor=monitor)
    runtime_settings.SETTINGS.rpc_manager.clear()
    runtime_settings.SETTINGS.outputs.clear()

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
    if root is not None:
        resolved = _sync_await(pulumi.Output.from_input(dict(root.outputs)).future())
        outputs = unwrap_secrets(resolved) if resolved else {}
    return ProgramRun(stack=stack, resources=list(monitor.recorded), outputs=outputs)
