"""Ready-to-run V2 (Open Inference Protocol) curl commands for the model being served."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

from config.mlserver import WELLKNOWN_ARTIFACTS
from localserve.repository import LOOPBACK


def feature_count(metadata: dict[str, Any] | None, artifact: Path | None, model_format: str | None) -> int | None:
    """Columns one input row has: from the model's V2 metadata, else by opening the artifact; None if unknown."""
    for tensor in (metadata or {}).get("inputs") or []:
        shape = tensor.get("shape") or []
        if len(shape) == 2 and isinstance(shape[1], int) and shape[1] > 0:
            return shape[1]
    if artifact is None or model_format not in ("sklearn", "xgboost"):
        return None
    try:
        return _count_from_artifact(artifact, model_format)
    except Exception:
        return None


def _count_from_artifact(artifact: Path, model_format: str) -> int | None:
    names = WELLKNOWN_ARTIFACTS[model_format]
    path = artifact if artifact.is_file() else next(artifact / n for n in names if (artifact / n).is_file())
    if model_format == "sklearn":
        import joblib  # installed with mlserver-sklearn; only needed here

        count = getattr(joblib.load(path), "n_features_in_", None)
        return int(count) if count else None
    import xgboost  # installed with mlserver-xgboost; only needed here

    return int(xgboost.Booster(model_file=str(path)).num_features())


DEFAULT_INPUT = "input-0"


def declared_inputs(metadata: dict[str, Any] | None, model_settings: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The input tensors the model declares: its V2 metadata (what the server reports), else model-settings.json."""
    for source in (metadata, model_settings):
        inputs = (source or {}).get("inputs")
        if isinstance(inputs, list) and inputs and all(isinstance(t, dict) and t.get("name") for t in inputs):
            return inputs
    return []


def _example_shape(declared: list[Any] | None, columns: int | None) -> list[int]:
    # The first dimension is the batch (-1 when free): one row. Other free dimensions take the column count.
    shape = list(declared) if declared else [-1, columns or 4]
    out = []
    for position, size in enumerate(shape):
        if isinstance(size, int) and size > 0:
            out.append(size)
        elif position == 0:
            out.append(1)
        else:
            out.append(columns or 1)
    return out


def _example_data(datatype: str, count: int) -> list[Any]:
    if datatype == "BYTES":
        return ["text"] * count
    if datatype == "BOOL":
        return [True] * count
    if datatype.startswith(("INT", "UINT")):
        return [index + 1 for index in range(count)]
    return [round(1.0 + 0.5 * index, 1) for index in range(count)]


def example_request(columns: int | None, inputs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A V2 request with one row for each input the model declares (a single FP64 `input-0` when it declares none)."""
    tensors = []
    for tensor in inputs or [{"name": DEFAULT_INPUT, "datatype": "FP64"}]:
        datatype = str(tensor.get("datatype") or "FP64")
        shape = _example_shape(tensor.get("shape"), columns)
        count = 1
        for size in shape:
            count *= size
        tensors.append(
            {"name": tensor["name"], "shape": shape, "datatype": datatype, "data": _example_data(datatype, count)}
        )
    return {"inputs": tensors}


def curl_examples(
    port: int,
    model_name: str,
    columns: int | None,
    version: str | None = None,
    inputs: list[dict[str, Any]] | None = None,
) -> list[str]:
    base = f"http://{LOOPBACK}:{port}"
    lines = [
        f"curl -s {base}/v2/models/{model_name}/ready -w '%{{http_code}}\\n'",
        f"curl -s {base}/v2/models/{model_name}",
    ]
    body = example_request(columns, inputs)
    infer = f"{base}/v2/models/{model_name}/infer"
    command = f"curl -s -H 'Content-Type: application/json' -d {shlex.quote(json.dumps(body))} {infer}"
    if not columns and not inputs:
        command += "   # adjust shape/data to the model's inputs"
    lines.append(command)
    if version:
        lines.append(
            command.replace(f"/v2/models/{model_name}/infer", f"/v2/models/{model_name}/versions/{version}/infer")
        )
    return lines
