"""Engine benchmark (not a test): time `pulumi preview` of generated models-only stacks through the real CLI,
language host and Kubernetes provider against the loopback cluster (e2e/cluster.py), next to the floor measured in
the same run: one `kubectl apply --server-side --dry-run=server` of the objects the offline render produces for the
same stack.

    python benchmarks/bench_engine.py [--sizes 10 100 1000] [--repeat 1] [--timeout 900]

Where the time goes, per size (each a separate process, best of --repeat):
- program: the offline render (`python -m cli render`), i.e. the program under Pulumi's mocks, no engine;
- no API server: `pulumi preview` with `kubernetes:renderYamlToDirectory` set (engine, language host, provider,
  program; the provider contacts no cluster);
- cluster: `pulumi preview` against the loopback cluster (the provider dry-runs every object on the API server and
  KServe's webhooks);
- kubectl: the floor, the same objects dry-run applied in one call.
The stack's namespaces are created on the cluster before timing, so both the preview and the floor dry-run every
namespaced object (the provider skips the dry run of an object whose namespace does not exist yet).
The generated models (bench_scaling.py) live in model files, one per namespace (`kserve-platform:modelFiles`), as a
stack of hundreds of models keeps them: inline, past about 440 generated models the whole config, handed to the
program in one `PULUMI_CONFIG` environment string, passes Linux's 128 KiB limit for one string and the engine cannot
start the program ("argument list too long"; `--inline` keeps them in the stack file to show it). A size whose
preview fails prints the engine's error instead of a row.
`--skip-checkpoints` runs the previews with PULUMI_SKIP_CHECKPOINTS=true, as the project's preview step does: the
v3.274.1 engine (unlike v3.259.0) keeps a snapshot manager during a preview too and serializes the whole snapshot
after every step, then discards it, which makes a preview quadratic in the number of resources.
Needs the end-to-end toolchain (`bash e2e/toolchain.sh`).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scaling import generated_stack  # noqa: E402

from e2e.cluster import Cluster, start  # noqa: E402
from e2e.pulumi_cli import PulumiProject, PulumiToolchain  # noqa: E402
from tests.end_to_end.stacks import (  # noqa: E402
    PROJECT,
    RENDER_DIR_KEY,
    models_only,
    write_stack_file,
)

# Kinds the loopback cluster serves (it has KServe's CRDs, not Gateway API's): the floor applies these.
APPLIED_KINDS = ("Namespace", "InferenceService", "ServingRuntime", "NetworkPolicy", "Secret", "ServiceAccount")


MODEL_FILES = "models/bench/*.yaml"
# What the offline render needs beside the program's own files (e2e.pulumi_cli.PROGRAM_DIRS) to run in a copy.
RENDER_DIRS = ("cli", "offline")


def with_model_files(config: dict[str, Any], *projects: Path) -> dict[str, Any]:
    """The stack with its models moved into one model file per namespace, written into each project directory."""
    by_namespace: dict[str, list[dict[str, Any]]] = {}
    for entry in config[f"{PROJECT}:models"]:
        by_namespace.setdefault(entry["namespace"], []).append(entry)
    for project in projects:
        for namespace, entries in by_namespace.items():
            path = project / MODEL_FILES.replace("*", namespace)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(yaml.safe_dump(entries, sort_keys=False))
    rest = {key: value for key, value in config.items() if key != f"{PROJECT}:models"}
    return {**rest, f"{PROJECT}:modelFiles": [MODEL_FILES]}


def render_in(project: Path, stack: str, stack_file: Path, out: Path) -> None:
    """`python -m cli render` run in a copy of the project, so it reads that copy's model files."""
    result = subprocess.run(
        [sys.executable, "-m", "cli", "render", "--stack", stack, "--config-file", str(stack_file), "--out", str(out)],
        check=False,
        cwd=project,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if result.returncode != 0:
        raise PreviewFailed(f"the offline render refused the stack: {result.stderr.strip()[-1000:]}")


def timed(action: Any, repeat: int) -> float:
    """Best wall seconds of `repeat` calls of `action`."""
    best = float("inf")
    for _ in range(repeat):
        start_time = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start_time)
    return best


def rendered_objects(out: Path) -> list[dict[str, Any]]:
    objects = [yaml.safe_load(path.read_text()) for path in sorted((out / "1-manifest").glob("*.yaml"))]
    return [manifest for manifest in objects if manifest["kind"] in APPLIED_KINDS]


class PreviewFailed(RuntimeError):
    """`pulumi preview` (or the offline render) exited non-zero; the message holds its error diagnostics only."""


def preview(project: PulumiProject, stack: str, timeout: float) -> int:
    """Run `pulumi preview` and return the number of steps it planned."""
    result = project.run("preview", "--json", stack=stack, timeout=timeout, check=False)
    if result.returncode != 0:
        try:
            diagnostics = json.loads(result.stdout).get("diagnostics", [])
            errors = [item["message"].strip() for item in diagnostics if item.get("severity") == "error"]
        except json.JSONDecodeError:
            errors = [result.stderr.strip()[-1000:]]
        raise PreviewFailed("; ".join(errors) or f"exit status {result.returncode}")
    return len(json.loads(result.stdout)["steps"])


def measure(size: int, work: Path, cluster: Cluster, toolchain: PulumiToolchain, args: argparse.Namespace) -> dict:
    stack = f"bench{size}"
    engine_env = {"PULUMI_SKIP_CHECKPOINTS": "true"} if args.skip_checkpoints else {}
    on_cluster = PulumiProject.copy_of(
        PROJECT_DIR,
        work / f"cluster{size}" / "project",
        toolchain,
        work / f"cluster{size}" / "state",
        KUBECONFIG=str(cluster.kubeconfig),
        **engine_env,
    )
    offline = PulumiProject.copy_of(
        PROJECT_DIR, work / f"offline{size}" / "project", toolchain, work / f"offline{size}" / "state", **engine_env
    )
    for name in RENDER_DIRS:
        shutil.copytree(PROJECT_DIR / name, offline.workdir / name, ignore=shutil.ignore_patterns("__pycache__"))
    config = models_only(generated_stack(size)["config"])
    if not args.inline:
        config = with_model_files(config, on_cluster.workdir, offline.workdir)
    stack_file = write_stack_file(work / f"Pulumi.{stack}.yaml", config, [])
    render_out = work / f"render{size}"

    def render() -> None:
        if render_out.exists():
            subprocess.run(["rm", "-rf", str(render_out)], check=True)
        render_in(offline.workdir, stack, stack_file, render_out)

    program_s = timed(render, args.repeat)
    objects = rendered_objects(render_out)
    namespaces = [manifest for manifest in objects if manifest["kind"] == "Namespace"]
    cluster.apply(namespaces)

    on_cluster.new_stack(stack, config)
    offline.new_stack(stack, {**config, RENDER_DIR_KEY: str(work / f"engine-render{size}")})

    steps: list[int] = []
    no_api_s = timed(lambda: steps.append(preview(offline, stack, args.timeout)), args.repeat)
    cluster_s = timed(lambda: steps.append(preview(on_cluster, stack, args.timeout)), args.repeat)
    kubectl_s = timed(lambda: cluster.apply(objects, dry_run=True), args.repeat)
    return {
        "models": size,
        "objects": len(objects),
        "steps": max(steps),
        "program": program_s,
        "no_api": no_api_s,
        "cluster": cluster_s,
        "kubectl": kubectl_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument(
        "--inline", action="store_true", help="keep the models in the stack file (past ~440 the engine cannot start)"
    )
    parser.add_argument(
        "--skip-checkpoints", action="store_true", help="PULUMI_SKIP_CHECKPOINTS=true, as the project's previews run"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement; the best wall time is kept")
    parser.add_argument("--timeout", type=float, default=900, help="seconds allowed for one `pulumi preview`")
    args = parser.parse_args()
    toolchain = PulumiToolchain.from_cache()
    if toolchain.missing():
        raise SystemExit(toolchain.not_built_message())
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as scratch:
        work = Path(scratch)
        started = time.perf_counter()
        cluster = start(work / "cluster")
        print(f"loopback cluster up in {time.perf_counter() - started:.1f} s", flush=True)
        try:
            header = (
                f"{'models':>6} {'objects':>7} {'steps':>5} {'preview s':>9} {'kubectl s':>9} {'ratio':>6}"
                f" {'no-API preview s':>16} {'program s':>9}"
            )
            print(header, flush=True)
            for size in args.sizes:
                try:
                    row = measure(size, work, cluster, toolchain, args)
                except PreviewFailed as failure:
                    print(f"{size:>6} failed: {failure}", flush=True)
                    continue
                print(
                    f"{row['models']:>6} {row['objects']:>7} {row['steps']:>5} {row['cluster']:>9.2f}"
                    f" {row['kubectl']:>9.2f} {row['cluster'] / row['kubectl']:>6.1f}"
                    f" {row['no_api']:>16.2f} {row['program']:>9.2f}",
                    flush=True,
                )
        finally:
            cluster.stop()
    print(
        "preview s: pulumi preview against the cluster; kubectl s: the floor (one server-side dry-run apply of the"
        " same objects); no-API preview s: pulumi preview with renderYamlToDirectory (no API server); program s:"
        " the offline render (program under mocks, no engine)."
    )


if __name__ == "__main__":
    main()
