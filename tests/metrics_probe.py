"""Serve one model with `python -m cli serve`, send it inference requests (some failing), and record what MLServer
exposes: run inside a private network namespace by tests/test_monitoring_live.py, so the model can listen on the
cluster's own ports (8080 for HTTP, the metrics port the config names) whatever else runs on this machine.

    python -m tests.metrics_probe --stack-file F --model NAME --http-port 8080 --metrics-port 8082 \
        --metrics-path /metrics --out result.json
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from localserve.server import request

PROJECT_DIR = Path(__file__).resolve().parent.parent
READY_TIMEOUT_S = 120
GOOD_ROW = [5.1, 3.5, 1.4, 0.2]


def _infer(port: int, model: str, rows: list[list[float]]) -> int:
    body = {
        "inputs": [
            {
                "name": "input-0",
                "shape": [len(rows), len(rows[0])],
                "datatype": "FP64",
                "data": [value for row in rows for value in row],
            }
        ]
    }
    status, _ = request(port, "POST", f"/v2/models/{model}/infer", body)
    return status


def _get(port: int, path: str) -> tuple[int, str]:
    status, body = request(port, "GET", path)
    return status, body if isinstance(body, str) else json.dumps(body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stack-file", type=Path, required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--http-port", type=int, required=True)
    parser.add_argument("--metrics-port", type=int, required=True)
    parser.add_argument("--metrics-path", required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    log = args.out.with_suffix(".log")
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "cli", "serve", "--stack", "probe", "--config-file", str(args.stack_file),
             "--model", args.model, "--port", str(args.http_port), "--metrics-port", str(args.metrics_port),
             "--quiet"],
            cwd=PROJECT_DIR, stdout=output, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
    result: dict = {}
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while "is ready after" not in log.read_text():
            if server.poll() is not None or time.monotonic() > deadline:
                result["error"] = f"serve_local did not get ready:\n{log.read_text()}"
                return 1
            time.sleep(0.2)
        result["infer_statuses"] = [_infer(args.http_port, args.model, [GOOD_ROW]) for _ in range(3)]
        # Three features for a four-feature model: scikit-learn raises, MLServer answers 500.
        result["infer_statuses"].append(_infer(args.http_port, args.model, [GOOD_ROW[:3]]))
        result["http_port_metrics_status"] = _get(args.http_port, args.metrics_path)[0]
        result["metrics_status"], result["metrics"] = _get(args.metrics_port, args.metrics_path)
        result["ready_output"] = log.read_text()
        return 0
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        args.out.write_text(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
