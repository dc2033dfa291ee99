"""The one translation "model entry -> MLServer settings", shared by the cluster and the local server.

The InferenceService carries `mlserver_env(model)` as container env; `python -m cli serve` writes
`settings_json(...)` / `model_settings_json(...)` for the same entry *and* passes the same env. Both derive
from `MLServerTuning` through the table `TUNING_SETTINGS` below, so a setting cannot reach one side only.

Env names follow MLServer 1.7.1 (`mlserver/settings.py`): server-wide `Settings` read `MLSERVER_<FIELD>`,
`ModelSettings` and `ModelParameters` read `MLSERVER_MODEL_<FIELD>` (pydantic-settings `env_prefix`).
Real environment variables take precedence over the `.env` defaults `mlserver build` bakes into a custom
image, which is why env (not files) is the channel to the cluster.

Pure Python: no mlserver import (the Pulumi program must not need MLServer installed).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from config.models import ModelConfig
from config.predictor import ServingPort

# MLServer runtime class per built-in `format` (what KServe's kserve-mlserver runtime puts into
# MLSERVER_MODEL_IMPLEMENTATION via its `modelClass` label), and the pip package that provides it.
IMPLEMENTATIONS: dict[str, str] = {
    "sklearn": "mlserver_sklearn.SKLearnModel",
    "xgboost": "mlserver_xgboost.XGBoostModel",
    "lightgbm": "mlserver_lightgbm.LightGBMModel",
    "mlflow": "mlserver_mlflow.MLflowRuntime",
}
RUNTIME_PACKAGES: dict[str, str] = {
    "sklearn": "mlserver-sklearn",
    "xgboost": "mlserver-xgboost",
    "lightgbm": "mlserver-lightgbm",
    "mlflow": "mlserver-mlflow",
}
# Files each runtime looks for when `parameters.uri` is a folder (mlserver_<runtime> WELLKNOWN_MODEL_FILENAMES).
WELLKNOWN_ARTIFACTS: dict[str, tuple[str, ...]] = {
    "sklearn": ("model.joblib", "model.pickle", "model.pkl"),
    "xgboost": ("model.bst", "model.json", "model.ubj"),
    "lightgbm": ("model.bst",),
    "mlflow": ("MLmodel",),
}

SERVER_PREFIX = "MLSERVER_"
MODEL_PREFIX = "MLSERVER_MODEL_"
# MLServer's own default when nothing sets parallel_workers (mlserver.settings.DEFAULT_PARALLEL_WORKERS).
DEFAULT_PARALLEL_WORKERS = 1

Scope = Literal["server", "model", "parameters"]


@dataclass(frozen=True)
class TuningSetting:
    """How one `mlserver:` key of the stack config reaches MLServer."""

    config_field: str  # attribute of MLServerTuning
    config_key: str  # its spelling in the stack file
    scope: Scope  # settings.json, model-settings.json, or model-settings.json `parameters`
    mlserver_field: str  # field name in MLServer's settings class

    @property
    def env_name(self) -> str:
        prefix = SERVER_PREFIX if self.scope == "server" else MODEL_PREFIX
        return prefix + self.mlserver_field.upper()


TUNING_SETTINGS: tuple[TuningSetting, ...] = (
    TuningSetting("parallel_workers", "parallelWorkers", "server", "parallel_workers"),
    TuningSetting("max_batch_size", "maxBatchSize", "model", "max_batch_size"),
    TuningSetting("max_batch_time", "maxBatchTime", "model", "max_batch_time"),
    TuningSetting("model_version", "modelVersion", "parameters", "version"),
)
TUNING_ENV_NAMES = frozenset(setting.env_name for setting in TUNING_SETTINGS)


def _tuning_values(model: ModelConfig) -> Iterator[tuple[TuningSetting, Any]]:
    tuning = model.mlserver
    if tuning is None:
        return
    for setting in TUNING_SETTINGS:
        value = getattr(tuning, setting.config_field)
        if value is not None:
            yield setting, value


def _env_text(value: Any) -> str:
    # pydantic-settings parses env text with the field's type; bools would need lower case, numbers are plain.
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def mlserver_env(model: ModelConfig) -> list[dict[str, str]]:
    """`MLSERVER_*` container env for the entry's `mlserver:` settings (empty when it sets none)."""
    return [{"name": setting.env_name, "value": _env_text(value)} for setting, value in _tuning_values(model)]


# MLServer's listen ports (`Settings.http_port` / `grpc_port`), set from the entry's declared ports.
HTTP_PORT_ENV = "MLSERVER_HTTP_PORT"
GRPC_PORT_ENV = "MLSERVER_GRPC_PORT"
# KServe's own servers (not MLServer): they take their ports as arguments, not MLSERVER_* env.
NON_MLSERVER_RUNTIMES = frozenset({"kserve-sklearnserver", "kserve-xgbserver", "kserve-lgbserver"})


def served_by_mlserver(model: ModelConfig) -> bool:
    """A custom image speaking V2 is an MLServer image (`mlserver build`; MLServer speaks no V1), and every runtime
    except KServe's own servers is MLServer."""
    if model.is_custom_image:
        return model.protocol == "v2"
    return model.protocol in ("v2", "grpc-v2") and model.runtime not in NON_MLSERVER_RUNTIMES


def declared_ports(model: ModelConfig) -> list[ServingPort]:
    if model.ports is not None:
        return list(model.ports)
    return [ServingPort.model_validate({"containerPort": model.port})] if model.port is not None else []


def port_env(model: ModelConfig) -> list[dict[str, str]]:
    """`MLSERVER_HTTP_PORT` / `MLSERVER_GRPC_PORT` for the ports the entry declares, so the server listens where
    the container port says (the one source: `ports`/`port`). Cluster only: the local server picks its own
    loopback ports."""
    if not served_by_mlserver(model):
        return []
    found: dict[str, str] = {}
    for port in declared_ports(model):
        found.setdefault(GRPC_PORT_ENV if port.is_grpc else HTTP_PORT_ENV, str(port.container_port))
    return [{"name": name, "value": value} for name, value in found.items()]


def tuning_for(model: ModelConfig, scope: Scope) -> dict[str, Any]:
    """The entry's `mlserver:` values that belong in one MLServer settings object, by MLServer field name."""
    return {setting.mlserver_field: value for setting, value in _tuning_values(model) if setting.scope == scope}


def implementation_for(model: ModelConfig) -> str:
    """The MLServer runtime class serving a built-in-format entry."""
    if model.format is None:
        raise ValueError(f"model '{model.name}' is a custom image: its implementation is in its model-settings.json")
    return IMPLEMENTATIONS[model.format]


def settings_json(
    model: ModelConfig,
    *,
    host: str,
    http_port: int,
    grpc_port: int,
    metrics_port: int,
    base: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`settings.json` for serving this entry: `base` (a custom runtime's own file), then the entry's
    `mlserver:` settings on top (as the env wins over the image's defaults on the cluster), then where to listen."""
    out = dict(base or {})
    out.update(tuning_for(model, "server"))
    out.update({"host": host, "http_port": http_port, "grpc_port": grpc_port, "metrics_port": metrics_port})
    return out


def model_settings_json(model: ModelConfig, uri: str | None, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """`model-settings.json` for this entry.

    Built-in formats: name = the served name (KServe sets MLSERVER_MODEL_NAME to the InferenceService name),
    implementation by format, `parameters.uri` = the artifact. Custom images: their own file (`base`),
    with the entry's `mlserver:` settings on top.
    """
    out = dict(base or {})
    if model.format is not None:
        out["name"] = model.served_model_name
        out["implementation"] = implementation_for(model)
    out.update(tuning_for(model, "model"))
    parameters = dict(out.get("parameters") or {})
    if uri is not None:
        parameters["uri"] = uri
    parameters.update(tuning_for(model, "parameters"))
    if parameters:
        out["parameters"] = parameters
    return out


def env_conflicts(model: ModelConfig) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """`env` entries that would set an MLServer setting the `mlserver:` block or the ports own (two sources, one
    value), and ports MLServer cannot all listen on."""
    owned_by_ports = {item["name"] for item in port_env(model)}
    for index, var in enumerate(model.env):
        if var.name in owned_by_ports:
            yield (
                ("env", index, "name"),
                f"{var.name} is derived from the declared ports (ports/port); remove the env var and keep the port",
            )
        for setting in TUNING_SETTINGS:
            if var.name == setting.env_name:
                yield (
                    ("env", index, "name"),
                    (
                        f"{var.name} is derived from mlserver.{setting.config_key}; set that instead of the env "
                        "var, so the cluster and `python -m cli serve` use the same value"
                    ),
                )
    yield from port_role_conflicts(model)


def port_role_conflicts(model: ModelConfig) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """MLServer listens on one HTTP and one gRPC port: a second port of either kind would reach nothing."""
    if not served_by_mlserver(model) or model.ports is None:
        return
    seen: dict[bool, int] = {}
    for index, port in enumerate(model.ports):
        if port.is_grpc in seen:
            kind = "gRPC" if port.is_grpc else "HTTP"
            yield (
                ("ports", index),
                (
                    f"model '{model.namespace}/{model.name}': MLServer listens on one {kind} port, already "
                    f"ports[{seen[port.is_grpc]}]; remove this one"
                ),
            )
        seen.setdefault(port.is_grpc, index)


def file_overrides(model: ModelConfig, settings: dict[str, Any], model_settings: dict[str, Any]) -> list[str]:
    """Keys a custom runtime's own settings files set that the entry's `mlserver:` block also sets.

    On the cluster the env from `mlserver_env` wins over them; the local server applies the same precedence,
    but the user should know the file value is dead.
    """
    found = []
    for setting, _value in _tuning_values(model):
        if setting.scope == "server" and setting.mlserver_field in settings:
            found.append(f"settings.json {setting.mlserver_field} (overridden by mlserver.{setting.config_key})")
        elif setting.scope == "model" and setting.mlserver_field in model_settings:
            found.append(f"model-settings.json {setting.mlserver_field} (overridden by mlserver.{setting.config_key})")
        elif setting.scope == "parameters" and setting.mlserver_field in (model_settings.get("parameters") or {}):
            found.append(
                f"model-settings.json parameters.{setting.mlserver_field} (overridden by mlserver.{setting.config_key})"
            )
    return found
