"""Lay out an MLServer model repository for one model entry: `settings.json` + `<name>/model-settings.json`.

Everything MLServer-specific comes from `config.mlserver`; this module decides only where files go and
which artifact / runtime folder the entry uses locally.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config import mlserver as translate
from config.models import ModelConfig
from localserve.artifacts import ArtifactError, fetch

PROJECT_DIR = Path(__file__).resolve().parent.parent
RUNTIMES_DIR = PROJECT_DIR / "runtimes"
LOOPBACK = "127.0.0.1"
# Copied runtime folders leave MLServer's and Python's scratch behind.
_RUNTIME_COPY_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".envs", ".metrics", ".env")


class NotServable(Exception):
    """The entry cannot be served locally as given; the message says what to pass or fix."""


@dataclass(frozen=True)
class Ports:
    http: int
    grpc: int
    metrics: int


@dataclass
class LocalRepository:
    """A model repository on disk and the environment `mlserver start` runs with."""

    root: Path
    model_name: str
    settings: dict[str, Any]
    model_settings: dict[str, Any]
    env: dict[str, str]
    notes: list[str] = field(default_factory=list)

    @property
    def model_dir(self) -> Path:
        return self.root / self.model_name


def find_runtime_dir(model: ModelConfig, runtimes_dir: Path = RUNTIMES_DIR) -> Path:
    """The project's runtime folder whose model-settings.json serves this custom-image entry's model name."""
    candidates = []
    for settings_file in sorted(runtimes_dir.glob("*/model-settings.json")):
        name = _read_json(settings_file).get("name") or settings_file.parent.name
        candidates.append(f"{settings_file.parent.relative_to(runtimes_dir.parent)} (serves '{name}')")
        if name == model.served_model_name:
            return settings_file.parent
    listed = "; ".join(candidates) or "none"
    raise NotServable(
        f"model '{model.name}' runs the custom image {model.image}, and no folder under {runtimes_dir} has a "
        f"model-settings.json named '{model.served_model_name}' (found: {listed}); pass --model-dir with the "
        "runtime folder the image is built from"
    )


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise NotServable(f"{path}: cannot read it as JSON ({error})") from error
    if not isinstance(data, dict):
        raise NotServable(f"{path}: must hold a JSON object")
    return data


def _check_artifact(model: ModelConfig, path: Path, where: str) -> None:
    """Fail early, with the file names MLServer looks for, instead of a runtime traceback later."""
    if path.is_file():
        return
    wanted = translate.WELLKNOWN_ARTIFACTS[model.format or ""]
    if not any((path / name).is_file() for name in wanted):
        present = ", ".join(sorted(p.name for p in path.iterdir())[:10]) or "nothing"
        raise NotServable(
            f"{where}: {path} holds no {' / '.join(wanted)} (the files {translate.IMPLEMENTATIONS[model.format or '']} "
            f"loads); it contains: {present}"
        )


def resolve_artifact(model: ModelConfig, model_dir: Path | None, scratch: Path) -> tuple[Path, str]:
    """The local artifact for a built-in-format entry and where it came from."""
    if model_dir is not None:
        if not model_dir.exists():
            raise NotServable(f"--model-dir {model_dir} does not exist")
        path, where = model_dir.resolve(), f"--model-dir {model_dir}"
    else:
        uri = model.storage_uri or ""
        try:
            path, where = fetch(uri, scratch / "artifact"), f"storageUri {uri}"
        except ArtifactError as error:
            raise NotServable(str(error)) from error
    _check_artifact(model, path, where)
    return path, where


def _process_env(model: ModelConfig, base_env: Mapping[str, str], notes: list[str]) -> dict[str, str]:
    """The server's environment: the caller's, minus stray MLSERVER_* (they would override the stack's
    settings invisibly), plus the entry's literal `env` and the `MLSERVER_*` env the cluster gets."""
    env = {key: value for key, value in base_env.items() if not key.upper().startswith(translate.SERVER_PREFIX)}
    stray = sorted(key for key in base_env if key.upper().startswith(translate.SERVER_PREFIX))
    if stray:
        notes.append(f"ignored from your shell (the stack config decides MLServer's settings): {', '.join(stray)}")
    for var in model.env:
        if var.value is not None:
            env[var.name] = var.value
        else:
            notes.append(f"env {var.name} comes from a secret/config map on the cluster and is not set locally")
    for item in translate.mlserver_env(model):
        env[item["name"]] = item["value"]
    return env


def build_repository(
    model: ModelConfig,
    root: Path,
    ports: Ports,
    model_dir: Path | None = None,
    base_env: Mapping[str, str] | None = None,
    runtimes_dir: Path = RUNTIMES_DIR,
) -> LocalRepository:
    """Write the repository for `model` under `root` (an empty scratch folder) and return what was written."""
    notes: list[str] = []
    name = model.served_model_name
    if model.is_custom_image:
        runtime_dir = model_dir.resolve() if model_dir is not None else find_runtime_dir(model, runtimes_dir)
        if not (runtime_dir / "model-settings.json").is_file():
            raise NotServable(f"{runtime_dir} has no model-settings.json: pass the folder `mlserver build` packages")
        base_settings = _read_json(runtime_dir / "settings.json") if (runtime_dir / "settings.json").is_file() else {}
        base_model = _read_json(runtime_dir / "model-settings.json")
        served = base_model.get("name") or runtime_dir.name
        if served != name:
            raise NotServable(
                f"{runtime_dir}/model-settings.json serves '{served}', but the stack routes "
                f"{model.inference_path} to '{name}' (KServe returns 404 on such a mismatch); set modelName: "
                f"{served} on the entry or rename the model in model-settings.json"
            )
        notes.extend(f"{item}" for item in translate.file_overrides(model, base_settings, base_model))
        if model.storage_uri is not None:
            notes.append(
                f"storageUri {model.storage_uri} is not fetched locally: the runtime folder's artifact is used"
            )
        shutil.copytree(runtime_dir, root / name, ignore=_RUNTIME_COPY_IGNORE)
        # The runtime's own server settings, e.g. its port, are for the image; locally it listens on loopback.
        base_settings = {key: value for key, value in base_settings.items() if key not in ("host",)}
        model_settings = translate.model_settings_json(model, uri=None, base=base_model)
        notes.append(f"runtime folder: {runtime_dir}")
    else:
        artifact, where = resolve_artifact(model, model_dir, root.parent)
        (root / name).mkdir(parents=True)
        base_settings = {}
        model_settings = translate.model_settings_json(model, uri=str(artifact))
        notes.append(f"artifact: {artifact} (from {where})")
        if (artifact / "model-settings.json").is_file() if artifact.is_dir() else False:
            notes.append(
                f"{artifact}/model-settings.json exists: on the cluster MLServer reads it from /mnt/models instead "
                "of the settings KServe passes as env; check that it agrees with the stack entry"
            )
    settings = translate.settings_json(
        model, host=LOOPBACK, http_port=ports.http, grpc_port=ports.grpc, metrics_port=ports.metrics, base=base_settings
    )
    root.mkdir(parents=True, exist_ok=True)
    (root / "settings.json").write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    (root / name / "model-settings.json").write_text(json.dumps(model_settings, indent=2) + "\n", encoding="utf-8")
    env = _process_env(model, base_env if base_env is not None else os.environ, notes)
    return LocalRepository(
        root=root, model_name=name, settings=settings, model_settings=model_settings, env=env, notes=notes
    )
