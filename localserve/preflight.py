"""Checks before MLServer starts: it is installed, the runtime package is, and the known-bad pins are not.

Nothing here imports mlserver (it is read through package metadata), so the checks are quick and their
messages say exactly what to install.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path

from config import mlserver as translate
from config.models import ModelConfig

REQUIREMENTS_FILE = "requirements-mlserver.txt"
# Packages installed without their declared dependencies (mlserver-xgboost would pull the CUDA xgboost wheel).
NO_DEPS_FILE = "requirements-no-deps.txt"
INSTALL_HINT = f"pip install -r {REQUIREMENTS_FILE} && pip install --no-deps -r {NO_DEPS_FILE}"
# MLServer <= 1.7.1 calls asyncio.get_event_loop() in each parallel worker before a loop exists. uvloop
# up to 0.21 created one on demand (like asyncio's default policy); from 0.22.0 its policy raises
# "There is no current event loop in thread 'MainThread'" instead, every worker dies and the model never loads
# (SeldonIO/MLServer#2286, MagicStack/uvloop#702).
UVLOOP_FIRST_BAD = (0, 22)
MLSERVER_LAST_AFFECTED = (1, 7, 1)


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _no_deps_packages() -> set[str]:
    path = Path(__file__).resolve().parent.parent / NO_DEPS_FILE
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    return {line.split("==")[0].strip() for line in lines if "==" in line and not line.lstrip().startswith("#")}


def _numbers(version: str) -> tuple[int, ...]:
    out = []
    for part in version.split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        if not digits:
            break
        out.append(int(digits))
    return tuple(out)


def effective_parallel_workers(model: ModelConfig, base_settings: dict | None = None) -> int:
    """Workers the server will run: the entry's setting, else the runtime's settings.json, else MLServer's."""
    if model.mlserver is not None and model.mlserver.parallel_workers is not None:
        return model.mlserver.parallel_workers
    if base_settings and "parallel_workers" in base_settings:
        return int(base_settings["parallel_workers"])
    return translate.DEFAULT_PARALLEL_WORKERS


def problems(model: ModelConfig, parallel_workers: int) -> list[str]:
    """Why MLServer cannot serve this entry in this Python environment (empty when it can)."""
    found = []
    mlserver_version = _version("mlserver")
    if mlserver_version is None or importlib.util.find_spec("mlserver") is None:
        return [f"MLServer is not installed: {INSTALL_HINT}"]
    if model.format is not None:
        module = translate.IMPLEMENTATIONS[model.format].split(".")[0]
        if importlib.util.find_spec(module) is None:
            package = translate.RUNTIME_PACKAGES[model.format]
            install = (
                f"pip install --no-deps -r {NO_DEPS_FILE}"
                if package in _no_deps_packages()
                else f"pip install {package}=={mlserver_version}"
            )
            found.append(
                f"the {model.format} runtime ({translate.IMPLEMENTATIONS[model.format]}) is not installed: {install}"
            )
    uvloop_version = _version("uvloop")
    if (
        parallel_workers > 0
        and uvloop_version is not None
        and _numbers(uvloop_version)[:2] >= UVLOOP_FIRST_BAD
        and _numbers(mlserver_version) <= MLSERVER_LAST_AFFECTED
    ):
        found.append(
            f"uvloop {uvloop_version} breaks MLServer {mlserver_version}'s parallel workers (each worker dies with "
            "\"There is no current event loop in thread 'MainThread'\" and the model never loads; "
            f"SeldonIO/MLServer#2286). This entry runs {parallel_workers} worker(s), as on the cluster. "
            f"Install the tested pins: {INSTALL_HINT} (uvloop==0.21.0)"
        )
    return found


def image_version_note(image: str) -> str | None:
    """A note when the local MLServer differs from the version in the cluster's MLServer image tag."""
    local = _version("mlserver")
    tag = image.rsplit(":", 1)[-1] if ":" in image.rsplit("/", 1)[-1] else None
    if local is None or tag is None or _numbers(tag) == _numbers(local):
        return None
    return (
        f"local MLServer is {local}, the cluster runs {image}: results may differ; pip install -r {REQUIREMENTS_FILE}"
    )
