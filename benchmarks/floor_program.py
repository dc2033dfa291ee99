"""The floor for the scaling benchmark: a bare Pulumi program that registers the given Kubernetes objects
directly (one generic resource each, no components, no config, no validation) under the same recording mocks,
and writes them the way the render does.

    python benchmarks/floor_program.py OBJECTS.json OUT_DIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pulumi
import pulumi_kubernetes as k8s
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from offline import manifests
from offline.program import ProgramRun
from offline.recorder import EchoMocks, RecordingMonitor


def main() -> None:
    objects = json.loads(Path(sys.argv[1]).read_text())
    monitor = RecordingMonitor(EchoMocks())
    pulumi.runtime.set_mocks(monitor.mocks, project="floor", stack="bench", preview=False, monitor=monitor)

    def program() -> None:
        for obj in objects:
            meta = obj["metadata"]
            body = {key: value for key, value in obj.items() if key not in ("apiVersion", "kind", "metadata")}
            k8s.apiextensions.CustomResource(
                f"{meta.get('namespace', '')}/{meta['name']}/{obj['kind']}",
                api_version=obj["apiVersion"],
                kind=obj["kind"],
                metadata=meta,
                **body,
            )

    _sync_await(run_pulumi_func(program))
    assert runtime_settings.get_root_resource() is not None
    rendered = manifests.render(ProgramRun(stack="bench", resources=monitor.recorded))
    manifests.write(rendered, Path(sys.argv[2]))
    print(len(rendered.objects))


if __name__ == "__main__":
    main()
