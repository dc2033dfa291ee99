"""Engine benchmark (not a test): time `pulumi preview` and `pulumi up` of generated models-only stacks through the
real CLI, language host and Kubernetes provider against the loopback cluster (e2e/cluster.py: KServe's webhooks and
controller, kwok's fake nodes), next to the floor measured in the same run: `kubectl apply --server-side` of the
objects the offline render produces for the same stack, and a bare Pulumi program (benchmarks/bare_program) that
registers those same objects directly.

    python benchmarks/bench_engine.py [--sizes 10 100 1000] [--repeat 1] [--timeout 1800] [--no-up]
        [--inline] [--skip-checkpoints]

Where the time goes, per size (each a separate process; previews best of --repeat, up once):
- program: the offline render (`python -m cli render`), i.e. the program under Pulumi's mocks, no engine;
- no API server: `pulumi preview` with `kubernetes:renderYamlToDirectory` set (engine, language host, provider,
  program; the provider contacts no cluster);
- cluster: `pulumi preview` against the loopback cluster (the provider dry-runs every object on the API server and
  KServe's webhooks);
- kubectl: the floor, the same objects dry-run applied in one call;
- bare preview: `pulumi preview` against the cluster of benchmarks/bare_program, which registers the same objects in
  one `yaml/v2:ConfigGroup` (no components, no config models, no validation): the engine's and provider's floor.
The stack's namespaces are created on the cluster before timing, so both the preview and the floor dry-run every
namespaced object (the provider skips the dry run of an object whose namespace does not exist yet).

Then, on the emptied cluster (unless --no-up):
- up: `pulumi up --skip-preview`: every object created and every InferenceService waited for until Ready
  (`pulumi.com/waitFor`), which takes KServe's controller, the controller manager, the scheduler and kwok;
- apply / apply+Ready: the floor, `kubectl apply --server-side` of the same objects in one call, and that plus
  `kubectl wait --for=condition=Ready` on every InferenceService (the same end state as `up`);
- destroy: `pulumi destroy --skip-preview` (namespaces deleted and waited for);
- bare up / bare destroy: the bare program's `pulumi up --skip-preview` and `pulumi destroy --skip-preview`. Its copy
  of the objects has `pulumi.com/skipAwait: "true"` on every InferenceService, so its `up` creates them without
  waiting for Ready (compare with apply s, not apply+Ready s); its destroy waits for the namespaces as ours does.
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
from tests.conftest import render  # noqa: E402
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
BARE_PROGRAM_DIR = Path(__file__).resolve().parent / "bare_program"
SKIP_AWAIT_ANNOTATION = "pulumi.com/skipAwait"


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
    result = render("--stack", stack, "--config-file", stack_file, "--out", out, project=project, timeout=900)
    if result.returncode != 0:
        raise EngineFailed(f"the offline render refused the stack: {result.stderr.strip()[-1000:]}")


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


def not_awaited(manifest: dict[str, Any]) -> dict[str, Any]:
    annotations = {**manifest["metadata"].get("annotations", {}), SKIP_AWAIT_ANNOTATION: "true"}
    return {**manifest, "metadata": {**manifest["metadata"], "annotations": annotations}}


def bare_program(
    objects: list[dict[str, Any]], workdir: Path, toolchain: PulumiToolchain, state_dir: Path, **extra_env: str
) -> PulumiProject:
    """A copy of benchmarks/bare_program in `workdir` (venv linked to the program's) with `objects` in a JSON file,
    every InferenceService marked `pulumi.com/skipAwait`; its stack's config names that file."""
    workdir.mkdir(parents=True)
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy2(BARE_PROGRAM_DIR / name, workdir / name)
    (workdir / "venv").symlink_to(toolchain.venv, target_is_directory=True)
    state_dir.mkdir(parents=True, exist_ok=True)
    bare_objects = [
        not_awaited(manifest) if manifest["kind"] == "InferenceService" else manifest for manifest in objects
    ]
    (workdir / "objects.json").write_text(json.dumps(bare_objects))
    return PulumiProject(workdir=workdir, toolchain=toolchain, state_dir=state_dir, extra_env=dict(extra_env))


class EngineFailed(RuntimeError):
    """A `pulumi` command exited non-zero; the message holds the engine's error diagnostics only."""


def engine_errors(result: subprocess.CompletedProcess[str]) -> str:
    try:
        document = json.loads(result.stdout)
        events = document if isinstance(document, list) else document.get("diagnostics", [])
        diagnostics = [event.get("diagnosticEvent", event) for event in events]
        errors = [item["message"].strip() for item in diagnostics if item.get("severity") == "error"]
    except (json.JSONDecodeError, AttributeError, KeyError):
        errors = [result.stderr.strip()[-1000:] or result.stdout.strip()[-1000:]]
    return "; ".join(errors) or f"exit status {result.returncode}"


def preview(project: PulumiProject, stack: str, timeout: float) -> int:
    """Run `pulumi preview` and return the number of steps it planned."""
    result = project.run("preview", "--json", stack=stack, timeout=timeout, check=False)
    if result.returncode != 0:
        raise EngineFailed(engine_errors(result))
    return len(json.loads(result.stdout)["steps"])


def pulumi(project: PulumiProject, stack: str, timeout: float, *args: str) -> None:
    result = project.run(*args, "--yes", "--skip-preview", stack=stack, timeout=timeout, check=False)
    if result.returncode != 0:
        raise EngineFailed(f"pulumi {args[0]}: {engine_errors(result)}")


def delete_namespaces(cluster: Cluster, namespaces: list[dict[str, Any]]) -> None:
    names = [namespace["metadata"]["name"] for namespace in namespaces]
    cluster.kubectl("delete", "namespace", *names, "--wait=true", "--timeout=1200s", timeout=1300)


def wait_ready(cluster: Cluster, objects: list[dict[str, Any]], timeout: float) -> None:
    for namespace in sorted({o["metadata"]["namespace"] for o in objects if o["kind"] == "InferenceService"}):
        cluster.kubectl(
            "wait", "--for=condition=Ready", "inferenceservice", "--all", "-n", namespace,
            f"--timeout={timeout:.0f}s", timeout=timeout + 30,
        )  # fmt: skip


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
    bare = bare_program(
        objects,
        work / f"bare{size}" / "project",
        toolchain,
        work / f"bare{size}" / "state",
        KUBECONFIG=str(cluster.kubeconfig),
        **engine_env,
    )
    bare.new_stack(stack, {"bare-objects:objectsFile": str(bare.workdir / "objects.json")})
    offline.new_stack(stack, {**config, RENDER_DIR_KEY: str(work / f"engine-render{size}")})

    steps: list[int] = []
    no_api_s = timed(lambda: steps.append(preview(offline, stack, args.timeout)), args.repeat)
    cluster_s = timed(lambda: steps.append(preview(on_cluster, stack, args.timeout)), args.repeat)
    kubectl_s = timed(lambda: cluster.apply(objects, dry_run=True), args.repeat)
    bare_steps: list[int] = []
    bare_s = timed(lambda: bare_steps.append(preview(bare, stack, args.timeout)), args.repeat)
    row: dict[str, Any] = {
        "models": size,
        "objects": len(objects),
        "steps": max(steps),
        "program": program_s,
        "no_api": no_api_s,
        "cluster": cluster_s,
        "kubectl": kubectl_s,
        "bare_steps": max(bare_steps),
        "bare": bare_s,
    }
    # `up` creates the namespaces itself: the cluster starts empty of the stack.
    delete_namespaces(cluster, namespaces)
    if args.no_up:
        return row
    # `pulumi up` keeps its checkpoints (the state it writes is the point), as the project's deploy step does.
    on_cluster.extra_env.pop("PULUMI_SKIP_CHECKPOINTS", None)
    row["up"] = timed(lambda: pulumi(on_cluster, stack, args.timeout, "up"), 1)
    row["destroy"] = timed(lambda: pulumi(on_cluster, stack, args.timeout, "destroy"), 1)
    # Namespaces first: kubectl applies in the order given.
    in_order = sorted(objects, key=lambda manifest: manifest["kind"] != "Namespace")
    row["apply"] = timed(lambda: cluster.apply(in_order, timeout=args.timeout), 1)
    row["apply_ready"] = row["apply"] + timed(lambda: wait_ready(cluster, objects, args.timeout), 1)
    delete_namespaces(cluster, namespaces)
    bare.extra_env.pop("PULUMI_SKIP_CHECKPOINTS", None)
    row["bare_up"] = timed(lambda: pulumi(bare, stack, args.timeout, "up"), 1)
    row["bare_destroy"] = timed(lambda: pulumi(bare, stack, args.timeout, "destroy"), 1)
    return row


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
    parser.add_argument("--timeout", type=float, default=1800, help="seconds allowed for one `pulumi` command")
    parser.add_argument("--no-up", action="store_true", help="time the previews only")
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
                f" {'no-API preview s':>16} {'program s':>9} {'bare steps':>10} {'bare preview s':>14}"
            )
            if not args.no_up:
                header += (
                    f" {'up s':>7} {'apply s':>7} {'apply+Ready s':>13} {'destroy s':>9}"
                    f" {'bare up s':>9} {'bare destroy s':>14}"
                )
            print(header, flush=True)
            for size in args.sizes:
                try:
                    row = measure(size, work, cluster, toolchain, args)
                except EngineFailed as failure:
                    print(f"{size:>6} failed: {failure}", flush=True)
                    continue
                line = (
                    f"{row['models']:>6} {row['objects']:>7} {row['steps']:>5} {row['cluster']:>9.2f}"
                    f" {row['kubectl']:>9.2f} {row['cluster'] / row['kubectl']:>6.1f}"
                    f" {row['no_api']:>16.2f} {row['program']:>9.2f} {row['bare_steps']:>10} {row['bare']:>14.2f}"
                )
                if "up" in row:
                    line += (
                        f" {row['up']:>7.2f} {row['apply']:>7.2f} {row['apply_ready']:>13.2f} {row['destroy']:>9.2f}"
                        f" {row['bare_up']:>9.2f} {row['bare_destroy']:>14.2f}"
                    )
                print(line, flush=True)
        finally:
            cluster.stop()
    print(
        "preview s: pulumi preview against the cluster; kubectl s: the floor (one server-side dry-run apply of the"
        " same objects); no-API preview s: pulumi preview with renderYamlToDirectory (no API server); program s:"
        " the offline render (program under mocks, no engine); up s: pulumi up until every InferenceService is"
        " Ready; apply s: kubectl apply --server-side of the same objects; apply+Ready s: that plus waiting for every"
        " InferenceService to be Ready; destroy s: pulumi destroy; bare ...: the same for benchmarks/bare_program, the"
        " same objects in one yaml/v2:ConfigGroup (its up does not wait for Ready: skipAwait on InferenceServices)."
    )


if __name__ == "__main__":
    main()
