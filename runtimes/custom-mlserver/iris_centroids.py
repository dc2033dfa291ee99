"""A custom MLServer runtime: nearest-centroid classification of iris measurements.

Small on purpose, but a complete MLServer runtime: `load` reads the artifact named by
`parameters.uri` in model-settings.json, `predict` speaks the V2 (Open Inference) protocol.
Packaged with `mlserver build . -t my-custom-server:0.1.0` and served locally by
`python -m cli serve --stack dev --model custom-model`.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
from mlserver import MLModel
from mlserver.codecs import NumpyCodec
from mlserver.errors import InferenceError
from mlserver.types import InferenceRequest, InferenceResponse
from mlserver.utils import get_model_uri

# Looked for when `parameters.uri` is a folder (e.g. /mnt/models filled by KServe's storage initializer).
WELLKNOWN_ARTIFACTS = ["centroids.json"]


class NearestCentroidModel(MLModel):
    """Predicts, for each row of features, the label of the closest class centroid (Euclidean)."""

    async def load(self) -> bool:
        uri = await get_model_uri(self._settings, wellknown_filenames=WELLKNOWN_ARTIFACTS)
        # Off the event loop: MLServer keeps serving other models while this one loads.
        artifact = json.loads(await asyncio.to_thread(Path(uri).read_text, encoding="utf-8"))
        self._centroids = np.asarray(artifact["centroids"], dtype=np.float64)
        self._labels = np.asarray(artifact["labels"], dtype=np.int64)
        if self._centroids.ndim != 2 or len(self._labels) != len(self._centroids):
            raise ValueError(f"{uri}: expected one label per centroid row, got {self._centroids.shape} centroids")
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        if len(payload.inputs) != 1:
            raise InferenceError(f"expected exactly one input tensor, got {len(payload.inputs)}")
        features = NumpyCodec.decode_input(payload.inputs[0]).astype(np.float64)
        width = self._centroids.shape[1]
        if features.ndim != 2 or features.shape[1] != width:
            raise InferenceError(f"expected input of shape [N, {width}], got {list(features.shape)}")
        distances = np.linalg.norm(features[:, None, :] - self._centroids[None, :, :], axis=2)
        predictions = self._labels[np.argmin(distances, axis=1)]
        return InferenceResponse(
            model_name=self.name,
            model_version=self.version,
            outputs=[NumpyCodec.encode_output("predict", predictions)],
        )
