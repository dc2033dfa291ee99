"""V2 inference throughput and latency of a stack's sklearn model on the local MLServer (not a test).

    python benchmarks/bench_local_inference.py                      # dev stack, model my-model
    python benchmarks/bench_local_inference.py --requests 4000 --concurrency 16

Serves the model twice through the same code `python -m cli serve` uses: once with the MLServer settings the
stack entry derives (`config/mlserver.py`), once with MLServer's defaults (the entry without `mlserver:`).
Each run: warm-up, then a bounded load on 127.0.0.1 (a fixed number of requests from N keep-alive clients,
stopped early at a time cap); prints requests/s and p50/p99 latency. The artifact is a scikit-learn
LogisticRegression trained on iris here (the stack's own storageUri is a cloud bucket this may not reach);
pass --model-dir to use a real artifact instead. Needs `pip install -r requirements-mlserver.txt`.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config.mlserver import mlserver_env
from config.models import ModelConfig
from localserve import preflight
from localserve.repository import LOOPBACK, Ports, build_repository
from localserve.server import MLServerProcess, free_port
from localserve.session import select_model
from offline.stackconfig import load_stack_config

WARMUP_REQUESTS = 50


@dataclass
class Result:
    label: str
    sent: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rps(self) -> float:
        return (self.sent - self.errors) / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def train_iris(folder: Path) -> None:
    import joblib  # optional dependencies: only for the benchmark artifact
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    features, labels = load_iris(return_X_y=True)
    folder.mkdir(parents=True, exist_ok=True)
    joblib.dump(LogisticRegression(max_iter=1000).fit(features, labels), folder / "model.joblib")


def load(
    port: int, path: str, body: bytes, total: int, clients: int, max_seconds: float
) -> tuple[int, int, float, list[float]]:
    """Send up to `total` requests from `clients` keep-alive connections; stop at `max_seconds`."""
    latencies: list[float] = []
    counters = {"sent": 0, "errors": 0}
    lock = threading.Lock()
    deadline = time.monotonic() + max_seconds

    def client() -> None:
        connection = http.client.HTTPConnection(LOOPBACK, port, timeout=30)
        while time.monotonic() < deadline:
            with lock:
                if counters["sent"] >= total:
                    break
                counters["sent"] += 1
            started = time.perf_counter()
            try:
                connection.request("POST", path, body=body, headers={"Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except OSError:
                ok = False
                connection.close()
                connection = http.client.HTTPConnection(LOOPBACK, port, timeout=30)
            elapsed_ms = (time.perf_counter() - started) * 1000
            with lock:
                if ok:
                    latencies.append(elapsed_ms)
                else:
                    counters["errors"] += 1
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return counters["sent"], counters["errors"], time.monotonic() - started, latencies


def run(label: str, model: ModelConfig, model_dir: Path, args: argparse.Namespace) -> Result:
    with tempfile.TemporaryDirectory(prefix="bench-mlserver-") as scratch:
        ports = Ports(http=free_port(), grpc=free_port(), metrics=free_port())
        repo = build_repository(model, Path(scratch) / "models", ports, model_dir=model_dir)
        workers = preflight.effective_parallel_workers(model, repo.settings)
        problems = preflight.problems(model, workers)
        if problems:
            raise SystemExit("\n".join(problems))
        print(f"[{label}] settings.json {json.dumps(repo.settings)}")
        print(f"[{label}] model-settings.json {json.dumps(repo.model_settings)}")
        print(f"[{label}] MLSERVER_* env {mlserver_env(model) or 'none'}; parallel workers {workers}")
        server = MLServerProcess(repo)
        server.start()
        try:
            server.wait_ready(args.ready_timeout)
            path = f"/v2/models/{repo.model_name}/infer"
            row = [5.1, 3.5, 1.4, 0.2]
            body = json.dumps(
                {"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP64", "data": row}]}
            ).encode()
            load(ports.http, path, body, WARMUP_REQUESTS, 2, 30)
            sent, errors, seconds, latencies = load(
                ports.http, path, body, args.requests, args.concurrency, args.max_seconds
            )
        finally:
            server.stop()
    return Result(label, sent, errors, seconds, latencies)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--config-file", type=Path)
    parser.add_argument("--model", default="my-model")
    parser.add_argument("--model-dir", type=Path, help="artifact to serve (default: train an iris model)")
    parser.add_argument("--requests", type=int, default=2000, help="requests per run (bounded load)")
    parser.add_argument("--concurrency", type=int, default=8, help="keep-alive clients sending in parallel")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="time cap per run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs per configuration (loopback is noisy)")
    parser.add_argument("--ready-timeout", type=float, default=120.0)
    args = parser.parse_args(argv)

    _, stack = load_stack_config(args.stack, args.config_file)
    model = select_model(stack, args.model)
    if model.format != "sklearn":
        parser.error(f"{args.model} is not a sklearn model")
    with tempfile.TemporaryDirectory(prefix="bench-artifact-") as artifact_root:
        model_dir = args.model_dir
        if model_dir is None:
            model_dir = Path(artifact_root) / "iris"
            train_iris(model_dir)
        runs = [("stack settings", model), ("MLServer defaults", model.model_copy(update={"mlserver": None}))]
        if model.mlserver is None:
            print(f"note: {args.model} sets no `mlserver:` block in this stack: both runs use MLServer's defaults")
        results: dict[str, list[Result]] = {label: [] for label, _ in runs}
        for _round in range(args.rounds):
            for label, entry in runs:
                results[label].append(run(label, entry, model_dir, args))

    print()
    print(
        f"{args.stack}/{args.model}: {args.rounds} rounds x {args.requests} requests x {args.concurrency} clients "
        f"on 127.0.0.1, cap {args.max_seconds:.0f}s per run; req/s per round, latency over all rounds"
    )
    print(f"{'run':<20}{'ok':>7}{'errors':>8}{'req/s (median, rounds)':>40}{'p50 ms':>9}{'p99 ms':>9}")
    for label, rounds in results.items():
        pooled = Result(label, 0, 0, 0.0, [latency for r in rounds for latency in r.latencies_ms])
        ok = sum(r.sent - r.errors for r in rounds)
        errors = sum(r.errors for r in rounds)
        per_round = ", ".join(f"{r.rps:.0f}" for r in rounds)
        median = statistics.median(r.rps for r in rounds)
        print(
            f"{label:<20}{ok:>7}{errors:>8}{f'{median:.0f} ({per_round})':>40}"
            f"{pooled.percentile(50):>9.2f}{pooled.percentile(99):>9.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
