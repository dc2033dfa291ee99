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


def example_request(columns: int) -> dict[str, Any]:
    row = [round(1.0 + 0.5 * index, 1) for index in range(columns)]
    return {"inputs": [{"name": "input-0", "shape": [1, columns], "datatype": "FP64", "data": row}]}


def curl_examples(port: int, model_name: str, columns: int | None, version: str | None = None) -> list[str]:
    base = f"http://{LOOPBACK}:{port}"
    lines = [
        f"curl -s {base}/v2/models/{model_name}/ready -w '%{{http_code}}\\n'",
        f"curl -s {base}/v2/models/{model_name}",
    ]
    body = example_request(columns if columns else 4)
    infer = f"{base}/v2/models/{model_name}/infer"
    command = f"curl -s -H 'Content-Type: application/json' -d {shlex.quote(json.dumps(body))} {infer}"
    if not columns:
        command += "   # adjust shape/data to the model's inputs"
    lines.append(command)
    if version:
        lines.append(
            command.replace(f"/v2/models/{model_name}/infer", f"/v2/models/{model_name}/versions/{version}/infer")
        )
    return lines
