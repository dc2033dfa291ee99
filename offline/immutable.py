"""Fields whose change `pulumi up` cannot apply in place: the one table the manifest diff flags replacements from.

A change listed here means the object must be deleted and created again: either the Pulumi Kubernetes provider
plans that replacement itself (for a model: downtime, and its rollout history lost), or it sends an in-place
update that the API server or an admission webhook refuses, so `pulumi up` fails halfway until the object is
recreated. Either way a reviewer must see it before merging. Identity changes (apiVersion group, kind, namespace,
name of the object one Pulumi resource applies) always replace; the manifest diff sees them through
`resources.yaml` (same resource, other object), so they are not rows here.

Sources: Kubernetes API validation (`field is immutable` in `ValidateSecretUpdate`, `ValidateServiceUpdate`,
`ValidateDeploymentUpdate`, `ValidateStatefulSetUpdate`, `ValidateJobUpdate`, `ValidatePersistentVolumeClaimUpdate`),
the Gateway API CRDs' CEL rules, and KServe v0.20.0's `InferenceServiceValidator.ValidateUpdate`
(`../shared/kserve/v0.20.0/webhook/inference_service_validation.go`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from components.inference_service import DEPLOYMENT_MODE_ANNOTATION

# As the diff spells the path (`offline.diff._join` brackets keys with dots or slashes).
DEPLOYMENT_MODE_PATH = f"metadata.annotations[{json.dumps(DEPLOYMENT_MODE_ANNOTATION)}]"


def _predictor_storage_uri(obj: dict[str, Any]) -> Any:
    # getPredictorStorageURI: the model's storageUri, else the implementation's.
    predictor = (obj.get("spec") or {}).get("predictor") or {}
    for key in ("model", *sorted(k for k in predictor if isinstance(predictor.get(k), dict))):
        block = predictor.get(key)
        if isinstance(block, dict) and block.get("storageUri") is not None:
            return block["storageUri"]
    return None


def _same_predictor_storage_uri(old: dict[str, Any], new: dict[str, Any]) -> bool:
    return _predictor_storage_uri(old) == _predictor_storage_uri(new)


def _was_immutable(old: dict[str, Any], new: dict[str, Any]) -> bool:
    return old.get("immutable") is True


@dataclass(frozen=True)
class ImmutableField:
    kinds: tuple[str, ...]
    path: str  # as the diff spells it; a change at or below it counts
    why: str
    # Applies only when this holds for (old object, new object); None: always.
    when: Callable[[dict[str, Any], dict[str, Any]], bool] | None = None

    def matches(self, kind: str, path: str, old: dict[str, Any], new: dict[str, Any]) -> bool:
        if kind not in self.kinds:
            return False
        if not (path == self.path or path.startswith((f"{self.path}.", f"{self.path}["))):
            return False
        return self.when is None or self.when(old, new)


_APPS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")
IMMUTABLE_FIELDS: tuple[ImmutableField, ...] = (
    ImmutableField(
        ("InferenceService",),
        DEPLOYMENT_MODE_PATH,
        "KServe's webhook: 'deploymentMode cannot be changed' (validateDeploymentMode); delete and recreate the model",
    ),
    ImmutableField(
        ("InferenceService",),
        "spec.predictor.name",
        "KServe's webhook: 'predictor.name change requires a model change (e.g. storageUri)' "
        "(validatePredictorNameChange)",
        _same_predictor_storage_uri,
    ),
    ImmutableField(("Secret",), "type", "a Secret's type is immutable (API server)"),
    ImmutableField(("Secret",), "data", "an immutable: true Secret's data cannot change", _was_immutable),
    ImmutableField(("Secret",), "stringData", "an immutable: true Secret's data cannot change", _was_immutable),
    ImmutableField(("Secret", "ConfigMap"), "immutable", "immutable: true cannot be unset", _was_immutable),
    ImmutableField(("ConfigMap",), "data", "an immutable: true ConfigMap's data cannot change", _was_immutable),
    ImmutableField(("ConfigMap",), "binaryData", "an immutable: true ConfigMap's data cannot change", _was_immutable),
    ImmutableField(("Service",), "spec.clusterIP", "a Service's clusterIP is immutable once set"),
    ImmutableField(("Service",), "spec.clusterIPs", "a Service's clusterIPs are immutable once set"),
    ImmutableField(_APPS, "spec.selector", "apps/v1 workload selectors are immutable (API server)"),
    ImmutableField(("StatefulSet",), "spec.serviceName", "StatefulSet serviceName is immutable"),
    ImmutableField(("StatefulSet",), "spec.volumeClaimTemplates", "StatefulSet volumeClaimTemplates are immutable"),
    ImmutableField(("StatefulSet",), "spec.podManagementPolicy", "StatefulSet podManagementPolicy is immutable"),
    ImmutableField(("Job",), "spec.selector", "a Job's selector is immutable"),
    ImmutableField(("Job",), "spec.template", "a Job's pod template is immutable"),
    ImmutableField(
        ("PersistentVolumeClaim",), "spec.storageClassName", "a bound claim's storageClassName is immutable"
    ),
    ImmutableField(("PersistentVolumeClaim",), "spec.accessModes", "a claim's accessModes are immutable"),
    ImmutableField(("PersistentVolumeClaim",), "spec.volumeName", "a bound claim's volumeName is immutable"),
    ImmutableField(
        ("GatewayClass",),
        "spec.controllerName",
        "Gateway API: GatewayClass controllerName is immutable (CEL 'Value is immutable')",
    ),
)


def immutable_field(kind: str, path: str, old: dict[str, Any], new: dict[str, Any]) -> ImmutableField | None:
    """The row of `IMMUTABLE_FIELDS` a change of `path` in an object of `kind` falls under, if any."""
    return next((row for row in IMMUTABLE_FIELDS if row.matches(kind, path, old, new)), None)
