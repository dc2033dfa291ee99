"""One local serving session: stack config -> repository -> `mlserver start` -> ready -> serve until stopped."""

from __future__ import annotations

import json
import signal
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from config.errors import ConfigError
from config.models import ModelConfig
from config.monitoring import MLSERVER_METRICS_PATH
from config.stack import StackConfig
from localserve import examples, preflight
from localserve.repository import LocalRepository, NotServable, Ports, build_repository
from localserve.server import MLServerProcess, ServerFailed, free_port, port_in_use, request
from offline.stackconfig import load_stack_config

EXIT_OK = 0
EXIT_INVALID_CONFIG = 2  # as `cli render`: the stack file or the arguments are wrong
EXIT_NOT_SERVABLE = 3  # missing package, artifact or runtime folder: nothing was started
EXIT_LOAD_FAILED = 4  # MLServer started but the model never became ready
DEFAULT_READY_TIMEOUT_S = 120.0


@dataclass
class Request:
    stack: str
    model: str
    config_file: Path | None = None
    model_dir: Path | None = None
    port: int | None = None
    # Where MLServer serves Prometheus metrics locally (default: a free port; the cluster's is MLServer's default).
    metrics_port: int | None = None
    ready_timeout: float = DEFAULT_READY_TIMEOUT_S
    quiet: bool = False  # do not echo MLServer's log (it is still kept and its tail shown on failure)


def select_model(stack: StackConfig, wanted: str) -> ModelConfig:
    """`name` or `namespace/name` of a model entry; `NotServable` listing the entries otherwise."""
    matches = [m for m in stack.models if wanted in (m.name, f"{m.namespace}/{m.name}")]
    if len(matches) == 1:
        return matches[0]
    listed = ", ".join(f"{m.namespace}/{m.name}" for m in stack.models) or "none"
    if matches:
        raise NotServable(f"'{wanted}' names several entries; use namespace/name, one of: {listed}")
    raise NotServable(f"no model '{wanted}' in the stack; its models are: {listed}")


class _Stop(Exception):
    """SIGTERM arrived: stop like Ctrl-C."""


def _raise_stop(_signum: int, _frame: object) -> None:
    raise _Stop


def _say(out: TextIO, text: str = "") -> None:
    out.write(text + "\n")
    out.flush()


def serve(req: Request, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Serve until Ctrl-C / SIGTERM; the exit status says how it ended (see EXIT_*)."""
    try:
        stack_file, stack = load_stack_config(req.stack, req.config_file)
        model = select_model(stack, req.model)
    except ConfigError as error:
        _say(err, f"serve_local: {error}")
        return EXIT_INVALID_CONFIG
    except NotServable as error:
        _say(err, f"serve_local: {error}")
        return EXIT_INVALID_CONFIG
    for option, port in (("--port", req.port), ("--metrics-port", req.metrics_port)):
        if port is not None and port_in_use(port):
            _say(err, f"serve_local: port {port} on 127.0.0.1 is in use; pick another {option} or omit it")
            return EXIT_INVALID_CONFIG

    with tempfile.TemporaryDirectory(prefix=f"serve-local-{model.name}-") as scratch:
        ports = Ports(http=req.port or free_port(), grpc=free_port(), metrics=req.metrics_port or free_port())
        try:
            repo = build_repository(model, Path(scratch) / "models", ports, model_dir=req.model_dir)
            workers = preflight.effective_parallel_workers(model, repo.settings)
            problems = preflight.problems(model, workers)
        except NotServable as error:
            _say(err, f"serve_local: {error}")
            return EXIT_NOT_SERVABLE
        if problems:
            for problem in problems:
                _say(err, f"serve_local: {problem}")
            return EXIT_NOT_SERVABLE
        if model.format is not None:
            note = preflight.image_version_note(stack.kserve.mlserver_image)
            if note:
                repo.notes.append(note)
        _describe(out, req, stack_file, model, repo, workers)
        return _run(req, model, repo, out, err)


def _describe(
    out: TextIO, req: Request, stack_file: Path, model: ModelConfig, repo: LocalRepository, workers: int
) -> None:
    _say(out, f"serve_local: {model.namespace}/{model.name} from {stack_file} on MLServer (127.0.0.1 only)")
    _say(out, f"  settings.json: {_compact(repo.settings)}")
    _say(out, f"  model-settings.json: {_compact(repo.model_settings)}")
    derived = {k: v for k, v in repo.env.items() if k.startswith("MLSERVER_")}
    _say(out, f"  MLSERVER_* env (as on the InferenceService): {derived or 'none: MLServer defaults'}")
    _say(out, f"  parallel workers: {workers}")
    for note in repo.notes:
        _say(out, f"  note: {note}")


def _compact(data: dict) -> str:
    return json.dumps(data, separators=(", ", ": "))


def _run(req: Request, model: ModelConfig, repo: LocalRepository, out: TextIO, err: TextIO) -> int:
    server = MLServerProcess(repo, echo=None if req.quiet else err)
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_stop) if in_main_thread else None
    try:
        server.start()
        try:
            seconds = server.wait_ready(req.ready_timeout)
        except ServerFailed as failure:
            _say(err, f"serve_local: {failure}")
            _say(err, "serve_local: last lines of MLServer's log:")
            for line in failure.log_tail:
                _say(err, f"  | {line}")
            return EXIT_LOAD_FAILED
        _ready(out, model, repo, server, seconds)
        code = server.wait()
        _say(err, f"serve_local: MLServer exited unexpectedly (status {code}); last lines of its log:")
        for line in server.log_tail():
            _say(err, f"  | {line}")
        return EXIT_LOAD_FAILED
    except (KeyboardInterrupt, _Stop):
        _say(out, "serve_local: stopping MLServer ...")
        server.stop()
        _say(out, "serve_local: stopped")
        return EXIT_OK
    finally:
        server.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _ready(out: TextIO, model: ModelConfig, repo: LocalRepository, server: MLServerProcess, seconds: float) -> None:
    port = server.http_port
    try:
        status, metadata = request(port, "GET", f"/v2/models/{repo.model_name}")
    except OSError:
        status, metadata = 0, None
    artifact = None
    uri = (repo.model_settings.get("parameters") or {}).get("uri")
    if model.format is not None and uri:
        artifact = Path(uri)
    reported = metadata if status == 200 and isinstance(metadata, dict) else None
    columns = examples.feature_count(reported, artifact, model.format)
    inputs = examples.declared_inputs(reported, repo.model_settings)
    version = model.mlserver.model_version if model.mlserver else None
    _say(
        out,
        f"serve_local: model '{repo.model_name}' is ready after {seconds:.1f}s at "
        f"http://127.0.0.1:{port}{model.inference_path} (Ctrl-C stops it)",
    )
    metrics_path = repo.settings.get("metrics_endpoint") or MLSERVER_METRICS_PATH
    _say(out, f"  Prometheus metrics: http://127.0.0.1:{repo.settings['metrics_port']}{metrics_path}")
    _say(out, "try:")
    for line in examples.curl_examples(port, repo.model_name, columns, version, inputs):
        _say(out, f"  {line}")
