"""Scaling benchmark (not a test): render generated stacks of 1, 10, 100 and 1000 models and report process wall
time and peak memory, next to a floor measured in the same run: a bare Pulumi program that registers the same
Kubernetes objects directly under the same mocks (`floor_program.py`), with no components or validation.

    python benchmarks/bench_scaling.py [--sizes 1 10 100 1000] [--repeat 3]

Targets (issue 7): at 1000 models at most 2x the floor's wall time and at most 250 MiB peak; growth from 100 to
1000 models close to linear; the dev stack's render under 1.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
RENDER = ["-m", "cli", "render"]  # run from PROJECT_DIR
FLOOR = Path(__file__).resolve().parent / "floor_program.py"
NAMESPACES = 10


def generated_stack(models: int) -> dict:
    entries = []
    for index in range(models):
        namespace = f"team-{index % NAMESPACES}"
        if index % 3 == 2:
            entries.append(
                {
                    "name": f"custom-{index}",
                    "namespace": namespace,
                    "image": "registry.example.com/ml/custom-server:0.1.0",
                    "env": {"PROTOCOL": "v2"},
                    "minReplicas": 1,
                    "maxReplicas": 3,
                    "resources": {
                        "requests": {"cpu": "500m", "memory": "1Gi"},
                        "limits": {"cpu": "1", "memory": "1Gi"},
                    },
                }
            )
        else:
            entries.append(
                {
                    "name": f"model-{index}",
                    "namespace": namespace,
                    "format": "sklearn" if index % 3 == 0 else "xgboost",
                    "protocolVersion": "v2",
                    "storageUri": f"gs://example-models/{namespace}/model-{index}",
                    "minReplicas": 1,
                    "maxReplicas": 3,
                    "resources": {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"cpu": "1", "memory": "2Gi"}},
                }
            )
    # The artifacts are in a public bucket: no per-model "credentials missing" warning.
    return {
        "config": {
            "kserve-platform:models": entries,
            "kserve-platform:publicStorageUriPrefixes": ["gs://example-models/"],
        }
    }


def measure(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident MiB of one child process."""
    # stderr goes to a file, not a pipe: a child writing more than a pipe holds would block while we wait for it.
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=PROJECT_DIR, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            errors.seek(0)
            raise SystemExit(f"{' '.join(command)} failed: {errors.read().decode(errors='replace')[-2000:]}")
    return wall, usage.ru_maxrss / 1024  # ru_maxrss is KiB on Linux


def best(command: list[str], repeat: int) -> tuple[float, float]:
    runs = [measure(command) for _ in range(repeat)]
    return min(wall for wall, _ in runs), max(peak for _, peak in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100, 1000])
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best wall time is kept")
    args = parser.parse_args()
    python = sys.executable
    results: dict[int, tuple[float, float, float, float]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        dev_wall, dev_peak = best([python, *RENDER, "--stack", "dev", "--out", str(work / "dev")], args.repeat)
        print(f"dev stack render: {dev_wall:.2f} s wall, {dev_peak:.0f} MiB peak (target < 1.5 s)")
        print(f"{'models':>7} {'render s':>9} {'floor s':>8} {'ratio':>6} {'render MiB':>11} {'floor MiB':>10}")
        for size in args.sizes:
            stack_file = work / f"Pulumi.bench{size}.yaml"
            stack_file.write_text(yaml.safe_dump(generated_stack(size)))
            out = work / f"render{size}"
            render_cmd = [
                python,
                *RENDER,
                "--stack",
                f"bench{size}",
                "--config-file",
                str(stack_file),
                "--out",
                str(out),
            ]
            wall, peak = best(render_cmd, args.repeat)
            objects = [
                yaml.safe_load(p.read_text()) for p in sorted(out.rglob("*.yaml")) if p.name != "helm-releases.yaml"
            ]
            objects_file = work / f"objects{size}.json"
            objects_file.write_text(json.dumps(objects))
            floor_wall, floor_peak = best(
                [python, str(FLOOR), str(objects_file), str(work / f"floor{size}")], args.repeat
            )
            results[size] = (wall, floor_wall, peak, floor_peak)
            print(
                f"{size:>7} {wall:>9.2f} {floor_wall:>8.2f} {wall / floor_wall:>6.2f} {peak:>11.0f} {floor_peak:>10.0f}"
            )
    if 100 in results and 1000 in results:
        growth = results[1000][0] / results[100][0]
        floor_growth = results[1000][1] / results[100][1]
        print(
            f"growth 100 -> 1000 models: render x{growth:.2f}, floor x{floor_growth:.2f} (linear would be x10 of the per-model part)"
        )
    if 1000 in results:
        wall, floor_wall, peak, _ = results[1000]
        print(
            f"1000 models: {wall / floor_wall:.2f}x the floor (target <= 2x), {peak:.0f} MiB peak (target <= 250 MiB)"
        )


if __name__ == "__main__":
    main()
