"""Serve one model of a stack on the real MLServer, locally, with the settings the cluster gets.

    python -m cli serve --stack dev --model my-model --model-dir ./iris       # artifact from disk
    python -m cli serve --stack dev --model custom-model                      # runtimes/custom-mlserver
    python -m cli serve --stack dev --config-file /tmp/Pulumi.try.yaml --model my-model --port 8080

MLServer's settings.json / model-settings.json and MLSERVER_* env are derived from the model entry by
`config/mlserver.py`, the same code that sets the InferenceService env. Listens on 127.0.0.1 only; waits for
/v2/models/<name>/ready, prints curl examples, serves until Ctrl-C or SIGTERM.
Needs `pip install -r requirements-mlserver.txt && pip install --no-deps -r requirements-no-deps.txt`.
Exit status: 0 stopped by Ctrl-C/SIGTERM, 2 invalid config or arguments, 3 cannot be served here (missing
package, artifact or runtime folder), 4 MLServer did not get the model ready (its log tail is printed).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from localserve.session import DEFAULT_READY_TIMEOUT_S, Request, serve


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stack", required=True, help="stack name: reads Pulumi.<stack>.yaml")
    parser.add_argument("--model", required=True, help="model entry to serve: name or namespace/name")
    parser.add_argument("--config-file", type=Path, help="read the stack settings from this file instead")
    parser.add_argument(
        "--model-dir",
        type=Path,
        help="built-in formats: local artifact (file or folder) instead of storageUri; "
        "custom images: the runtime folder the image is built from (default: the runtimes/ folder serving it)",
    )
    parser.add_argument("--port", type=int, help="HTTP port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--metrics-port", type=int, help="Prometheus metrics port on 127.0.0.1 (default: a free one)")
    parser.add_argument(
        "--ready-timeout", type=float, default=DEFAULT_READY_TIMEOUT_S, help="seconds to wait for the model"
    )
    parser.add_argument(
        "--quiet", action="store_true", help="do not echo MLServer's log (its tail still shows on failure)"
    )
    args = parser.parse_args(argv)
    for option, port in (("--port", args.port), ("--metrics-port", args.metrics_port)):
        if port is not None and not 1 <= port <= 65535:
            parser.error(f"{option} must be between 1 and 65535")
    return serve(
        Request(
            stack=args.stack,
            model=args.model,
            config_file=args.config_file,
            model_dir=args.model_dir,
            port=args.port,
            metrics_port=args.metrics_port,
            ready_timeout=args.ready_timeout,
            quiet=args.quiet,
        )
    )
