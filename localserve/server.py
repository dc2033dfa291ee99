"""Run `mlserver start` on a local repository, wait until the model is ready, and stop it cleanly."""

from __future__ import annotations

import collections
import contextlib
import ctypes
import ctypes.util
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

from localserve.repository import LOOPBACK, LocalRepository

LOG_TAIL_LINES = 60
STOP_GRACE_S = 15.0
# `python -m mlserver.cli.main` makes runpy warn ("'mlserver.cli.main' found in sys.modules after import of package
# 'mlserver.cli'"): mlserver/cli/__init__.py imports .main itself. Calling the entry point the console script calls
# starts the same CLI without the warning, with this interpreter (so requirements-mlserver.txt pins are what runs).
MLSERVER_MAIN = "import sys; from mlserver.cli import main; sys.argv[0] = 'mlserver'; sys.exit(main())"
# MLServer runs two uvicorn servers (REST and metrics) that print the same lifecycle lines; echo each once (the
# log file keeps all of them). Access-log lines are never folded.
UVICORN_LIFECYCLE = re.compile(
    r"^INFO:\s+(Started server process \[\d+\]|Waiting for application startup\.|Application startup complete\.|"
    r"Shutting down|Waiting for application shutdown\.|Application shutdown complete\.|"
    r"Finished server process \[\d+\])$"
)
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _die_with_parent() -> None:
    """In the child, before exec: the kernel sends it SIGTERM when serve_local dies, even by SIGKILL, so no MLServer
    (and, as MLServer stops its workers on SIGTERM, no worker) is left behind. Linux only; elsewhere a no-op."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    parent = os.getppid()
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    # The parent may have died between fork and prctl: then the signal will never come.
    if os.getppid() != parent:
        os._exit(1)


def free_port() -> int:
    """A TCP port on loopback nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return True
        return False


def request(
    port: int, method: str, path: str, body: Any = None, timeout: float = 10.0
) -> tuple[int, dict[str, Any] | str]:
    """One HTTP request to the local server; the JSON body decoded when it is JSON."""
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
    finally:
        connection.close()
    try:
        return response.status, json.loads(text)
    except json.JSONDecodeError:
        return response.status, text


class ServerFailed(Exception):
    """MLServer exited or never reported the model ready; carries the tail of its log."""

    def __init__(self, message: str, log_tail: list[str]):
        super().__init__(message)
        self.log_tail = log_tail


class MLServerProcess:
    """`mlserver start <repo>` as a child process in its own session (so its workers stop with it)."""

    def __init__(self, repo: LocalRepository, echo: TextIO | None = None):
        self.repo = repo
        self.echo = echo
        self.tail: collections.deque[str] = collections.deque(maxlen=LOG_TAIL_LINES)
        self.log_path = repo.root.parent / "mlserver.log"
        self.process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    @property
    def http_port(self) -> int:
        return int(self.repo.settings["http_port"])

    def start(self) -> None:
        command = [sys.executable, "-c", MLSERVER_MAIN, "start", str(self.repo.root)]
        self.process = subprocess.Popen(
            command,
            cwd=self.repo.root.parent,  # MLServer writes .metrics/.envs into its working directory
            env=self.repo.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 (the child only calls prctl; no lock is taken)
        )
        self._reader = threading.Thread(target=self._pump, daemon=True)
        self._reader.start()

    def _pump(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        echoed_lifecycle: set[str] = set()
        with self.log_path.open("w", encoding="utf-8") as log:
            for line in self.process.stdout:
                text = line.rstrip("\n")
                self.tail.append(text)
                log.write(line)
                log.flush()
                if self.echo is None:
                    continue
                if UVICORN_LIFECYCLE.match(text):
                    if text in echoed_lifecycle:
                        continue
                    echoed_lifecycle.add(text)
                self.echo.write(line)
                self.echo.flush()

    def log_tail(self) -> list[str]:
        if self._reader is not None and self.process is not None and self.process.poll() is not None:
            self._reader.join(timeout=2)
        return list(self.tail)

    def wait_ready(self, timeout: float) -> float:
        """Seconds until `/v2/models/<name>/ready` answered 200; `ServerFailed` on exit or timeout."""
        assert self.process is not None
        started = time.monotonic()
        path = f"/v2/models/{self.repo.model_name}/ready"
        while True:
            code = self.process.poll()
            if code is not None:
                # MLServer 1.7.1 exits with status 0 when a model fails to load at start-up: the exit alone
                # is the failure signal.
                raise ServerFailed(
                    f"MLServer exited (status {code}) before model '{self.repo.model_name}' was ready: "
                    "the model failed to load or the server could not start",
                    self.log_tail(),
                )
            try:
                status, _ = request(self.http_port, "GET", path, timeout=2.0)
                if status == 200:
                    return time.monotonic() - started
            except OSError:
                pass  # not listening yet
            if time.monotonic() - started > timeout:
                self.stop()
                raise ServerFailed(
                    f"model '{self.repo.model_name}' was not ready after {timeout:.0f}s (GET {path} never returned "
                    "200); the server was stopped",
                    self.log_tail(),
                )
            time.sleep(0.2)

    def wait(self) -> int:
        assert self.process is not None
        return self.process.wait()

    def stop(self) -> int | None:
        """SIGTERM (MLServer shuts its workers down), then SIGKILL to the process group if it hangs."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            try:
                self.process.send_signal(signal.SIGTERM)
                self.process.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                pass
        # Workers left behind by a crash or a hang: they are in the session this class created.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        code = self.process.wait()
        if self._reader is not None:
            self._reader.join(timeout=2)
        return code


def log_location(repo: LocalRepository) -> Path:
    return repo.root.parent / "mlserver.log"
