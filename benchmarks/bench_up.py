"""Where `pulumi up` spends its time (not a test): `pulumi up --skip-preview` of a generated models-only stack on a
fresh loopback cluster (e2e/cluster.py) per variant, a variant being environment for the CLI (its own settings and the
Kubernetes provider's), next to the floor on a fresh cluster of its own: `kubectl apply --server-side` of the objects
the offline render produces, then `kubectl wait --for=condition=Ready` on every InferenceService.

    python benchmarks/bench_up.py [--models 300] [--variant LABEL:KEY=VALUE,KEY=VALUE ...] [--no-floor]

    e.g. --variant default: --variant parallel64:PULUMI_PARALLEL=64 --variant no-checkpoints:PULUMI_SKIP_CHECKPOINTS=true

For each run it prints the wall time; the CPU seconds every process of the run used, per program (the Pulumi CLI,
the provider, the language host, the Python program, kube-apiserver, etcd, KServe's `manager`, the controller
manager, the scheduler, kwok: benchmarks/process_cpu.py); and, from the cluster, each InferenceService's seconds from
creation to its Ready condition and the span over which they were created. The engine holds at most `--parallel`
steps at once (default: 4 per CPU, PULUMI_PARALLEL) and a create step of an InferenceService lasts until it is Ready
(`pulumi.com/waitFor`), so the creations of `up` are spread over about models x ready-latency / parallel seconds;
`kubectl apply` creates them all at once. A fresh cluster per run keeps runs alike (no deletions in flight).
Needs the end-to-end toolchain (`bash e2e/toolchain.sh`).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_engine import (  # noqa: E402
    RENDER_DIRS,
    EngineFailed,
    pulumi,
    render_in,
    rendered_objects,
    wait_ready,
    with_model_files,
)
from bench_scaling import generated_stack  # noqa: E402
from process_cpu import DescendantCpu, cpu_line  # noqa: E402

from e2e.cluster import Cluster, start  # noqa: E402
from e2e.pulumi_cli import PulumiProject, PulumiToolchain  # noqa: E402
from tests.end_to_end.stacks import models_only, write_stack_file  # noqa: E402

STACK = "bench"
FLOOR = "floor"


def parse_variant(text: str) -> tuple[str, dict[str, str]]:
    label, _, settings = text.partition(":")
    env = {}
    for pair in filter(None, settings.split(",")):
        key, separator, value = pair.partition("=")
        if not separator:
            raise SystemExit(f"--variant {text!r}: {pair!r} is not KEY=VALUE")
        env[key] = value
    return label or "default", env


def timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def readiness(cluster: Cluster) -> str:
    """Each InferenceService's seconds from creation to Ready (the API server's one-second timestamps)."""
    items = json.loads(cluster.kubectl("get", "inferenceservice", "-A", "-o", "json", timeout=300).stdout)["items"]
    created = [timestamp(item["metadata"]["creationTimestamp"]) for item in items]
    latencies = sorted(
        (timestamp(condition["lastTransitionTime"]) - timestamp(item["metadata"]["creationTimestamp"])).total_seconds()
        for item in items
        for condition in item.get("status", {}).get("conditions", [])
        if condition["type"] == "Ready" and condition["status"] == "True"
    )
    if not latencies:
        return f"0/{len(items)} InferenceServices Ready"
    spread = (max(created) - min(created)).total_seconds()
    return (
        f"{len(latencies)}/{len(items)} Ready; creation to Ready s: median {statistics.median(latencies):.0f},"
        f" max {latencies[-1]:.0f}; created over {spread:.0f} s"
    )


def project_for(work: Path, toolchain: PulumiToolchain, cluster: Cluster, models: int, env: dict[str, str]) -> Any:
    project = PulumiProject.copy_of(
        PROJECT_DIR, work / "project", toolchain, work / "state", KUBECONFIG=str(cluster.kubeconfig), **env
    )
    config = with_model_files(models_only(generated_stack(models)["config"]), project.workdir)
    return project, config


def run_up(work: Path, toolchain: PulumiToolchain, models: int, env: dict[str, str], timeout: float) -> list[str]:
    cluster = start(work / "cluster")
    try:
        project, config = project_for(work, toolchain, cluster, models, env)
        project.new_stack(STACK, config)
        with DescendantCpu() as cpu:
            started = time.perf_counter()
            pulumi(project, STACK, timeout, "up")
            wall = time.perf_counter() - started
        return [f"up {wall:.1f} s", cpu_line(cpu.by_program(), wall), readiness(cluster)]
    finally:
        cluster.stop()


def run_floor(work: Path, toolchain: PulumiToolchain, models: int, timeout: float) -> list[str]:
    cluster = start(work / "cluster")
    try:
        project, config = project_for(work, toolchain, cluster, models, {})
        for name in RENDER_DIRS:
            shutil.copytree(PROJECT_DIR / name, project.workdir / name, ignore=shutil.ignore_patterns("__pycache__"))
        stack_file = write_stack_file(work / f"Pulumi.{STACK}.yaml", config, [])
        render_in(project.workdir, STACK, stack_file, work / "render")
        objects = rendered_objects(work / "render")
        # Namespaces first: kubectl applies in the order given.
        in_order = sorted(objects, key=lambda manifest: manifest["kind"] != "Namespace")
        with DescendantCpu() as cpu:
            started = time.perf_counter()
            cluster.apply(in_order, timeout=timeout)
            applied = time.perf_counter() - started
            wait_ready(cluster, objects, timeout)
            wall = time.perf_counter() - started
        return [
            f"apply {applied:.1f} s, apply+Ready {wall:.1f} s",
            cpu_line(cpu.by_program(), wall),
            readiness(cluster),
        ]
    finally:
        cluster.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, default=300)
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        help="LABEL:KEY=VALUE,... environment for one `pulumi up` (repeatable; default: one run as is)",
    )
    parser.add_argument("--no-floor", action="store_true", help="skip kubectl apply + wait for Ready")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds allowed for one command")
    args = parser.parse_args()
    toolchain = PulumiToolchain.from_cache()
    if toolchain.missing():
        raise SystemExit(toolchain.not_built_message())
    variants = [parse_variant(text) for text in args.variant or ["default:"]]
    runs: list[tuple[str, dict[str, str] | None]] = [*variants, *([] if args.no_floor else [(FLOOR, None)])]
    for label, env in runs:
        with tempfile.TemporaryDirectory(prefix="bench-up-") as scratch:
            work = Path(scratch)
            try:
                lines = (
                    run_floor(work, toolchain, args.models, args.timeout)
                    if env is None
                    else run_up(work, toolchain, args.models, env, args.timeout)
                )
            except EngineFailed as failure:
                lines = [f"failed: {failure}"]
        settings = " ".join(f"{key}={value}" for key, value in (env or {}).items())
        print(f"{args.models} models, {label}{f' ({settings})' if settings else ''}:", flush=True)
        for line in lines:
            print(f"    {line}", flush=True)


if __name__ == "__main__":
    main()
