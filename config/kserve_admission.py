"""What KServe v0.20.0's InferenceService webhooks (validating and mutating) fix about the objects this program emits.

The rules live with the keys they judge (config/models.py, config/runtimes.py, config/stack.py); this module holds
the webhook's own names and defaults that both the rules and the emitted objects need, so each has one home.
tests/test_kserve_admission.py lists every function of the webhook source and where (or why not) it is mirrored.
"""

from __future__ import annotations

from config.kubernetes import parse_quantity

# constants.InferenceServiceContainerName: the predictor container KServe picks (CustomPredictor.Default names a
# lone custom container so).
PREDICTOR_CONTAINER = "kserve-container"
DEPLOYMENT_MODE_ANNOTATION = "serving.kserve.io/deploymentMode"
AUTOSCALER_CLASS_ANNOTATION = "serving.kserve.io/autoscalerClass"
# constants.ModelFormatAnnotationKey: setPredictorModelDefaults stores `predictor.model.modelFormat.name` here unless
# the object already carries it.
MODEL_FORMAT_ANNOTATION = "modelFormat"
# Knative's autoscaler class annotation: in Knative mode its HPA value switches the webhook to the HPA rules
# (validateAutoScalingCompExtension); the program offers no way to ask for that, so the key is refused.
KNATIVE_AUTOSCALER_CLASS_ANNOTATION = "autoscaling.knative.dev/class"
# Annotations the program derives from typed keys; an `annotations:` entry may not set them behind the rules' back.
PROGRAM_ANNOTATIONS = {
    DEPLOYMENT_MODE_ANNOTATION: "kserve.deploymentMode",
    AUTOSCALER_CLASS_ANNOTATION: "autoscalerClass",
    KNATIVE_AUTOSCALER_CLASS_ANNOTATION: "scaleMetric (Knative mode scales with its Pod Autoscaler)",
}
# constants.DefaultMinReplicas: the stable predictor's minReplicas when unset (validateReplicas, validateCanarySpecs).
DEFAULT_MIN_REPLICAS = 1
# The kserve-resources chart's `kserve.inferenceservice.resources` (rendered into inferenceservice-config's
# `inferenceService.resource`): setResourceRequirementDefaults fills each missing cpu/memory request and limit of a
# custom predictor container from it. tests/test_kserve_admission.py checks these against the chart.
DEFAULT_PREDICTOR_RESOURCES: dict[str, dict[str, str]] = {
    "requests": {"cpu": "1", "memory": "2Gi"},
    "limits": {"cpu": "1", "memory": "2Gi"},
}
# A canary without its own `name` is called `canary` (the first) or `canary-<n>` (the n-th): KServe names its
# Deployment and Service `<model>-<canary name>-predictor`, so the name must stay put while the canary runs.
CANARY_NAME = "canary"


def default_canary_name(index: int) -> str:
    return CANARY_NAME if index == 0 else f"{CANARY_NAME}-{index + 1}"


def predictor_service_name(isvc_name: str, predictor_name: str | None = None) -> str:
    """constants.PredictorServiceName: the Deployment and Service KServe creates for a (named) predictor."""
    return f"{isvc_name}-{predictor_name}-predictor" if predictor_name else f"{isvc_name}-predictor"


def default_predictor_resources(given: dict[str, dict[str, str]] | None) -> dict[str, dict[str, str]]:
    """A custom predictor container's resources as setResourceRequirementDefaults stores them: each cpu/memory
    request and limit the entry leaves out takes KServe's default; what the entry sets is kept."""
    given = given or {}
    out: dict[str, dict[str, str]] = {}
    for kind in ("requests", "limits"):
        values = dict(given.get(kind, {}))
        for name, amount in DEFAULT_PREDICTOR_RESOURCES[kind].items():
            values.setdefault(name, amount)
        out[kind] = values
    return out


def defaulted_request_above_limit(given: dict[str, dict[str, str]] | None) -> list[tuple[str, str, str, str]]:
    """(kind that took the default, resource, request, limit) for each cpu/memory request that exceeds its limit once
    KServe's defaults are filled in: the API server then refuses the predictor's pods, long after `pulumi up`."""
    given = given or {}
    full = default_predictor_resources(given)
    out = []
    for name in ("cpu", "memory"):
        request, limit = full["requests"][name], full["limits"][name]
        if parse_quantity(request) > parse_quantity(limit):
            defaulted = "limits" if name not in given.get("limits", {}) else "requests"
            out.append((defaulted, name, request, limit))
    return out
