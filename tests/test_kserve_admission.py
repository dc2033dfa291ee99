"""KServe v0.20.0's own admission code (`../shared/kserve/v0.20.0/webhook/*.go`) against what the program emits.

Three kinds of test, each naming the Go function it answers to:
- Python ports of the webhook functions that judge or change an InferenceService (`validate_canary_specs`,
  `kserve_defaulting`), run over every object the program renders for the committed stacks;
- one config-error case per mirrored rule (`test_webhook_rule_is_a_config_error[<Go function>-...]`): the config the
  webhook would refuse stops at preview with an error naming the key and the model;
- `WEBHOOK_FUNCTIONS`, the table of every function in the webhook source with where it is mirrored, or why it is
  not; `test_table_lists_every_webhook_function` keeps the table complete when the source changes.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
import yaml
from conftest import PROJECT_DIR, STACKS
from model_helpers import CUSTOM, model, objects
from schemas import KSERVE_DIR, require_shared

from components.inference_service import inference_service_manifest, predictor_spec
from config.errors import ConfigError
from config.kserve_admission import (
    DEFAULT_PREDICTOR_RESOURCES,
    DEPLOYMENT_MODE_ANNOTATION,
    MODEL_FORMAT_ANNOTATION,
    PREDICTOR_CONTAINER,
)
from config.models import ModelConfig
from config.stack import parse_stack_config

WEBHOOK_DIR = KSERVE_DIR / "webhook"

# Every function of the webhook source, `file:Receiver.function` or `file:function`, with what the project does
# about it. "mirrored" names the config rule and the test case that proves it; "not mirrored" says why; "not a
# rule" is a helper, a getter or the webhook's plumbing.
MIRRORED = "mirrored"
NOT_MIRRORED = "not mirrored"
NOT_A_RULE = "not a rule"
NEVER_EMITTED = "applies only to fields the program never emits"
WEBHOOK_FUNCTIONS: dict[str, tuple[str, str]] = {
    # component.go
    "component.go:ComponentExtensionSpec.Default": (NOT_A_RULE, "empty in v0.20.0"),
    "component.go:ComponentExtensionSpec.Validate": (
        MIRRORED,
        "runs validateContainerConcurrency, validateReplicas, validateLogger (below)",
    ),
    "component.go:validateStorageSpec": (
        NOT_MIRRORED,
        "disabled in v0.20.0 (PredictorExtensionSpec.Validate has it "
        "commented out); also " + NEVER_EMITTED + " (model.storage)",
    ),
    "component.go:validateReplicas": (
        MIRRORED,
        "ModelConfig._replica_issues + minReplicas/maxReplicas ge=0; "
        "test_webhook_rule_is_a_config_error[validateReplicas-*]",
    ),
    "component.go:validateContainerConcurrency": (NOT_MIRRORED, NEVER_EMITTED + " (containerConcurrency: issue 12)"),
    "component.go:validateLogger": (NOT_MIRRORED, NEVER_EMITTED + " (logger: issue 12)"),
    "component.go:validateExactlyOneImplementation": (
        MIRRORED,
        "ModelConfig.rule_issues (format xor image); test_webhook_rule_is_a_config_error[validateExactlyOneImpl*]",
    ),
    "component.go:FirstNonNilComponent": (NOT_A_RULE, "helper"),
    "component.go:NonNilComponents": (NOT_A_RULE, "helper"),
    "component.go:ExactlyOneErrorFor": (NOT_A_RULE, "error text"),
    # configmap.go: the inferenceservice-config ConfigMap comes from the kserve-resources chart; the program passes
    # only deploymentMode and the gateway values (components/install/kserve.py), the install side's concern.
    "configmap.go:GetInferenceServiceConfigMap": (NOT_A_RULE, "reads the ConfigMap"),
    "configmap.go:NewOtelCollectorConfig": (NOT_A_RULE, "parses chart defaults the program does not change"),
    "configmap.go:NewAutoscalerConfig": (NOT_A_RULE, "parses chart defaults the program does not change"),
    "configmap.go:NewInferenceServicesConfig": (
        NOT_A_RULE,
        "parses `inferenceService.resource`, the defaults test_default_predictor_resources_are_the_charts reads",
    ),
    "configmap.go:NewMultiNodeConfig": (NOT_A_RULE, "parses chart defaults the program does not change"),
    "configmap.go:validateIngressGateway": (
        NOT_MIRRORED,
        "judges the chart's ingress values, not an object this "
        "module's lane emits; the install values are the install helper's",
    ),
    "configmap.go:NewIngressConfig": (NOT_MIRRORED, "as validateIngressGateway"),
    "configmap.go:getComponentConfig": (NOT_A_RULE, "JSON helper"),
    "configmap.go:NewDeployConfig": (
        NOT_MIRRORED,
        "defaultDeploymentMode comes from kserve.deploymentMode, a Literal of Standard/Knative (config/kserve.py)",
    ),
    "configmap.go:NewLocalModelConfig": (NOT_A_RULE, "parses chart defaults the program does not change"),
    "configmap.go:NewSecurityConfig": (NOT_A_RULE, "parses chart defaults the program does not change"),
    "configmap.go:NewServiceConfig": (NOT_A_RULE, "parses chart defaults the program does not change"),
    "configmap.go:GetStorageInitializerConfigs": (NOT_MIRRORED, "judges chart values the program does not set"),
    # inference_graph_validation.go: the program emits no InferenceGraph.
    **{
        f"inference_graph_validation.go:{name}": (NOT_MIRRORED, "the program emits no InferenceGraph")
        for name in (
            "InferenceGraphValidator.ValidateCreate",
            "InferenceGraphValidator.ValidateUpdate",
            "InferenceGraphValidator.ValidateDelete",
            "validateInferenceGraph",
            "validateInferenceGraphStepNameUniqueness",
            "validateInferenceGraphSingleStepTargets",
            "validateInferenceGraphName",
            "validateInferenceGraphRouterRoot",
            "validateInferenceGraphSplitterWeight",
        )
    },
    # inference_service_defaults.go: the mutating webhook; kserve_defaulting below ports what reaches our objects.
    "inference_service_defaults.go:setResourceRequirementDefaults": (
        MIRRORED,
        "emitted by default_predictor_resources"
        "; ModelConfig._defaulted_resource_issues; "
        "test_rendered_objects_are_a_fixed_point_*",
    ),
    "inference_service_defaults.go:InferenceServiceDefaulter.Default": (
        NOT_A_RULE,
        "reads the ConfigMap, then DefaultInferenceService",
    ),
    "inference_service_defaults.go:InferenceService.DefaultInferenceService": (
        MIRRORED,
        "ported: kserve_defaulting; test_rendered_objects_are_a_fixed_point_of_kserve_defaulting",
    ),
    "inference_service_defaults.go:disableAutomountServiceAccountToken": (MIRRORED, "always emitted explicitly"),
    "inference_service_defaults.go:InferenceService.setPredictorModelDefaults": (
        MIRRORED,
        "modelFormat annotation emitted; protocolVersion always emitted",
    ),
    **{
        f"inference_service_defaults.go:InferenceService.assign{name}Runtime": (
            NOT_MIRRORED,
            NEVER_EMITTED + " (legacy framework blocks; the program emits predictor.model)",
        )
        for name in (
            "SKLearn",
            "Tensorflow",
            "XGBoost",
            "PyTorch",
            "Triton",
            "ONNX",
            "HuggingFace",
            "PMML",
            "LightGBM",
            "Paddle",
        )
    },
    "inference_service_defaults.go:InferenceService.SetRuntimeDefaults": (
        NOT_MIRRORED,
        "called by the controller on its in-memory copy while building the pod, never stored: no preview diff",
    ),
    "inference_service_defaults.go:InferenceService.SetMlServerDefaults": (NOT_MIRRORED, "as SetRuntimeDefaults"),
    "inference_service_defaults.go:InferenceService.SetTorchServeDefaults": (NOT_MIRRORED, "as SetRuntimeDefaults"),
    "inference_service_defaults.go:InferenceService.SetTritonDefaults": (NOT_MIRRORED, "as SetRuntimeDefaults"),
    "inference_service_defaults.go:deleteLocalModelMetadata": (
        NOT_MIRRORED,
        "server-side: local-model-cache metadata the program never sends (comment in components/inference_service.py)",
    ),
    "inference_service_defaults.go:InferenceService.setLocalModelLabel": (
        NOT_MIRRORED,
        "as deleteLocalModelMetadata: depends on the cluster's caches",
    ),
    # inference_service_validation.go
    "inference_service_validation.go:InferenceServiceValidator.ValidateCreate": (NOT_A_RULE, "entry point"),
    "inference_service_validation.go:InferenceServiceValidator.ValidateUpdate": (
        NOT_A_RULE,
        "entry point; its two update rules are below",
    ),
    "inference_service_validation.go:InferenceServiceValidator.ValidateDelete": (NOT_A_RULE, "allows every delete"),
    "inference_service_validation.go:validateInferenceService": (NOT_A_RULE, "runs the rules below"),
    "inference_service_validation.go:validateCanarySpecs": (
        MIRRORED,
        "ModelConfig._canary_issues + mode_issues; "
        "validate_canary_specs over every rendered object; "
        "test_webhook_rule_is_a_config_error[validateCanarySpecs-*]",
    ),
    "inference_service_validation.go:validatePredictor": (
        MIRRORED,
        "holds by construction: test_stable_predictor_model_carries_no_name",
    ),
    "inference_service_validation.go:validateBlockedEnvVars": (
        MIRRORED,
        "EnvList refuses PYTHONPATH "
        "(config/kubernetes.py BLOCKED_ENV); "
        "test_webhook_rule_is_a_config_error[validateBlocked*]",
    ),
    "inference_service_validation.go:predictorFrameworkContainer": (NOT_A_RULE, "helper"),
    "inference_service_validation.go:validateMultiNodeVariables": (NOT_MIRRORED, NEVER_EMITTED + " (workerSpec)"),
    "inference_service_validation.go:validateAutoScalingCompExtension": (
        MIRRORED,
        "ModelConfig.mode_issues picks the scaler as it does; the Knative HPA-class annotation is refused",
    ),
    "inference_service_validation.go:validateInferenceServiceName": (
        MIRRORED,
        "IsvcName (config/models.py); test_webhook_rule_is_a_config_error[validateInferenceServiceName-*]",
    ),
    "inference_service_validation.go:validateInferenceServiceAutoscaler": (
        MIRRORED,
        "autoscalerClass Literal; the annotation refused in annotations",
    ),
    "inference_service_validation.go:validateHPAMetrics": (MIRRORED, "mode_issues (hpa: cpu or memory)"),
    "inference_service_validation.go:validateTargetUtilization": (
        NOT_MIRRORED,
        NEVER_EMITTED + " (autoScaling metrics: issue 12)",
    ),
    "inference_service_validation.go:validateScaleTarget": (
        NOT_MIRRORED,
        NEVER_EMITTED + " (autoScaling metrics: issue 12)",
    ),
    "inference_service_validation.go:validateScalingHPACompExtension": (
        MIRRORED,
        "mode_issues (hpa); its autoScaling part: " + NEVER_EMITTED,
    ),
    "inference_service_validation.go:validateScalingKedaCompExtension": (
        MIRRORED,
        "mode_issues (keda: no scaleMetric); its autoScaling part: " + NEVER_EMITTED,
    ),
    "inference_service_validation.go:validateKPAMetrics": (MIRRORED, "mode_issues (Knative: concurrency or rps)"),
    "inference_service_validation.go:validateScalingKPACompExtension": (
        MIRRORED,
        "mode_issues; scaleTarget ge=1 covers rps; deploymentStrategy: " + NEVER_EMITTED,
    ),
    "inference_service_validation.go:validateCollocationStorageURI": (
        NOT_MIRRORED,
        NEVER_EMITTED + " (a transformer-container beside the predictor)",
    ),
    "inference_service_validation.go:validateDeploymentMode": (
        NOT_MIRRORED,
        "an update rule against the live "
        "object's status; the config cannot see it (the "
        "manifest diff flags the annotation change)",
    ),
    "inference_service_validation.go:validatePredictorNameChange": (
        NOT_MIRRORED,
        "judges spec.predictor.name, which the program never sets (canaries are named, the stable predictor is not)",
    ),
    "inference_service_validation.go:getPredictorStorageURI": (NOT_A_RULE, "helper"),
    "inference_service_validation.go:validateStorageURISpec": (NOT_MIRRORED, NEVER_EMITTED + " (storageUris)"),
    "inference_service_validation.go:validateMultipleStorageURIsSpec": (NOT_MIRRORED, NEVER_EMITTED + " (storageUris)"),
    "inference_service_validation.go:validateMultipleStorageURIs": (NOT_MIRRORED, NEVER_EMITTED + " (storageUris)"),
    "inference_service_validation.go:validateConfidential": (NOT_MIRRORED, NEVER_EMITTED + " (confidential)"),
    "inference_service_validation.go:GetConfidentialSpecFromPredictor": (NOT_A_RULE, "helper"),
    # predictor.go
    "predictor.go:PredictorSpec.GetImplementations": (NOT_A_RULE, "ported in implementations()"),
    "predictor.go:PredictorSpec.GetImplementation": (NOT_A_RULE, "helper"),
    "predictor.go:PredictorSpec.GetExtensions": (NOT_A_RULE, "helper"),
    "predictor.go:PredictorExtensionSpec.Validate": (NOT_A_RULE, "empty in v0.20.0"),
    "predictor.go:PredictorExtensionSpec.GetStorageUri": (NOT_A_RULE, "getter"),
    "predictor.go:PredictorExtensionSpec.GetStorageSpec": (NOT_A_RULE, "getter"),
    # predictor_custom.go
    "predictor_custom.go:NewCustomPredictor": (NOT_A_RULE, "constructor"),
    "predictor_custom.go:CustomPredictor.Validate": (NOT_A_RULE, "runs validateCustomProtocol"),
    "predictor_custom.go:CustomPredictor.validateCustomProtocol": (
        MIRRORED,
        "ModelConfig._protocol_env and the canary's env; test_webhook_rule_is_a_config_error[validateCustomProtocol-*]",
    ),
    "predictor_custom.go:CustomPredictor.Default": (
        MIRRORED,
        "container name and resource defaults emitted; fixed-point test",
    ),
    "predictor_custom.go:CustomPredictor.GetStorageUri": (NOT_A_RULE, "ported in storage_uri()"),
    "predictor_custom.go:CustomPredictor.GetStorageSpec": (NOT_A_RULE, "getter"),
    "predictor_custom.go:CustomPredictor.GetContainer": (NOT_A_RULE, "getter"),
    "predictor_custom.go:CustomPredictor.GetProtocol": (NOT_A_RULE, "getter"),
    # predictor_model.go: runtime selection runs in the controller, mirrored by config/stack.py _placement_issues
    # (tests/test_runtimes.py); nothing here is an admission rule.
    "predictor_model.go:ModelSpec.Default": (NOT_A_RULE, "empty in v0.20.0"),
    "predictor_model.go:ModelSpec.GetContainer": (NOT_A_RULE, "getter"),
    "predictor_model.go:ModelSpec.GetProtocol": (NOT_A_RULE, "getter (v1 when unset: the program always sets it)"),
    "predictor_model.go:stringSet.add": (NOT_A_RULE, "helper"),
    "predictor_model.go:stringSet.contains": (NOT_A_RULE, "helper"),
    "predictor_model.go:ModelSpec.GetSupportingRuntimes": (NOT_A_RULE, "controller-side selection: _placement_issues"),
    "predictor_model.go:ModelSpec.RuntimeSupportsModel": (NOT_A_RULE, "controller-side selection: FormatSupport"),
    "predictor_model.go:ModelSpec.getModelFormatLabel": (NOT_A_RULE, "helper"),
    "predictor_model.go:ModelSpec.getServingRuntimeSupportedModelFormatLabelSet": (NOT_A_RULE, "helper"),
    "predictor_model.go:sortServingRuntimeList": (NOT_A_RULE, "controller-side ordering"),
    "predictor_model.go:sortClusterServingRuntimeList": (NOT_A_RULE, "controller-side ordering"),
    "predictor_model.go:sortSupportedRuntimeByPriority": (NOT_A_RULE, "controller-side ordering"),
    "predictor_model.go:GetProtocolVersionPriority": (NOT_A_RULE, "controller-side ordering"),
    # servingruntime_webhook.go
    "servingruntime_webhook.go:ServingRuntimeValidator.Handle": (NOT_A_RULE, "entry point (runs the rules below)"),
    "servingruntime_webhook.go:ClusterServingRuntimeValidator.Handle": (NOT_A_RULE, "entry point"),
    "servingruntime_webhook.go:areSupportedModelFormatsEqual": (NOT_A_RULE, "helper of the priority rule"),
    "servingruntime_webhook.go:validateModelFormatPrioritySame": (
        MIRRORED,
        "priority_mismatches "
        "(config/runtimes.py); test_webhook_rule_is_a_"
        "config_error[validateModelFormatPrioritySame]",
    ),
    "servingruntime_webhook.go:validateServingRuntimePriority": (
        MIRRORED,
        "priority_conflicts (config/runtimes.py); test_webhook_rule_is_a_config_error[validateServingRuntimePriority]",
    ),
    "servingruntime_webhook.go:validateMultiNodeSpec": (NOT_MIRRORED, NEVER_EMITTED + " (runtime workerSpec)"),
    "servingruntime_webhook.go:validateBlockedEnvVars": (
        MIRRORED,
        "EnvList on runtimes[].env; test_webhook_rule_is_a_config_error[validateBlockedEnvVars-runtime]",
    ),
}


def webhook_functions() -> set[str]:
    """`file:Receiver.function` / `file:function` for every function declared in the webhook source."""
    require_shared()
    found = set()
    declaration = re.compile(r"^func (?:\(\w+ \*?(\w+)\) )?(\w+)\(", re.M)
    for path in sorted(WEBHOOK_DIR.glob("*.go")):
        for receiver, name in declaration.findall(path.read_text(encoding="utf-8")):
            found.add(f"{path.name}:{receiver + '.' if receiver else ''}{name}")
    return found


def test_table_lists_every_webhook_function() -> None:
    assert set(WEBHOOK_FUNCTIONS) == webhook_functions()
    case_ids = [f"{rule[0]}-{rule[1]}" for rule in RULES]
    for name, (status, note) in WEBHOOK_FUNCTIONS.items():
        assert status in (MIRRORED, NOT_MIRRORED, NOT_A_RULE) and note, name
        # A test id the table cites must exist.
        for cited in re.findall(r"test_webhook_rule_is_a_config_error\[([^]*]+)", note):
            assert any(case.startswith(cited) for case in case_ids), (name, cited)


# ---------------------------------------------------------------------------------------------------------------
# Ports of the webhook's InferenceService code, over rendered objects (plain dicts, as the API server receives them).

FRAMEWORKS = (
    "xgboost",
    "pytorch",
    "triton",
    "sklearn",
    "tensorflow",
    "onnx",
    "pmml",
    "lightgbm",
    "paddle",
    "huggingface",
    "model",
)


def implementations(predictor: dict[str, Any]) -> list[tuple[str, Any]]:
    """PredictorSpec.GetImplementations: the framework blocks set, then the custom predictor if a container is
    named kserve-container (or, with no other implementation, the first container)."""
    out: list[tuple[str, Any]] = [(key, predictor[key]) for key in FRAMEWORKS if predictor.get(key) is not None]
    containers = predictor.get("containers") or []
    for container in containers:
        if container.get("name") == PREDICTOR_CONTAINER:
            out.append(("custom", containers))
    if containers and not out:
        out.append(("custom", containers))
    return out


def storage_uri(implementation: tuple[str, Any]) -> str | None:
    """ComponentImplementation.GetStorageUri (CustomPredictor: kserve-container's STORAGE_URI env)."""
    kind, body = implementation
    if kind != "custom":
        return body.get("storageUri")
    for container in body:
        if container.get("name") == PREDICTOR_CONTAINER:
            return next(
                (env.get("value", "") for env in container.get("env", []) if env["name"] == "STORAGE_URI"), None
            )
    return None


def validate_custom_protocol(containers: list[dict[str, Any]]) -> str | None:
    """CustomPredictor.validateCustomProtocol."""
    for env in containers[0].get("env", []):
        if env["name"] == "PROTOCOL":
            return None if env.get("value") in ("v1", "v2") else f"invalid protocol {env.get('value')}"
    return None


def validate_component_extension(extension: dict[str, Any]) -> str | None:
    """ComponentExtensionSpec.Validate: validateContainerConcurrency, validateReplicas, validateLogger."""
    if extension.get("containerConcurrency", 0) < 0:
        return "parallelism cannot be less than 0"
    low = extension.get("minReplicas", 1)
    high = extension.get("maxReplicas", 0)
    if low < 0:
        return "'MinReplicas' cannot be less than 0"
    if high < 0:
        return "'MaxReplicas' cannot be less than 0"
    if low > high and high != 0:
        return "'MinReplicas' cannot be greater than MaxReplicas"
    logger = extension.get("logger")
    if logger is not None and logger.get("mode") not in ("all", "request", "response"):
        return "invalid logger type"
    return None


def validate_canary_specs(isvc: dict[str, Any]) -> str | None:
    """A port of KServe v0.20.0's `validateCanarySpecs` (webhook/inference_service_validation.go) and the functions
    it calls (validateExactlyOneImplementation, CustomPredictor.Validate, ComponentExtensionSpec.Validate), over a
    rendered InferenceService dict. Returns the webhook's error, or None when it admits the canaries."""
    spec = isvc["spec"]
    canaries = spec.get("canary") or []
    if not canaries:
        return None
    if (isvc["metadata"].get("annotations") or {}).get(DEPLOYMENT_MODE_ANNOTATION) != "Standard":
        return "canary is only supported in Standard deployment mode"
    stable = spec["predictor"]
    stable_impls = implementations(stable)
    if (not stable_impls or storage_uri(stable_impls[0]) is None) and stable.get("model") is None:
        return "canary requires a stable predictor with a model (multi-model serving is not supported with canary)"
    names: set[str] = set()
    total = 0
    for index, canary in enumerate(canaries):
        predictor = canary["predictor"]
        name = predictor.get("name", "")
        if not name:
            return f"canary[{index}] predictor.name is required"
        if name in names:
            return f"canary predictor.name {name!r} is duplicated"
        names.add(name)
        if name == stable.get("name", ""):
            return f"canary predictor.name {name!r} conflicts with stable predictor name"
        traffic = canary.get("trafficPercent", 0)
        if traffic < 0 or traffic > 100:
            return f"canary {name!r} trafficPercent must be between 0 and 100, got {traffic}"
        total += traffic
        impls = implementations(predictor)
        if len(impls) != 1:
            return f"canary {name!r} predictor: exactly one implementation must be specified"
        problem = (validate_custom_protocol(impls[0][1]) if impls[0][0] == "custom" else None) or (
            validate_component_extension(predictor)
        )
        if problem:
            return f"canary {name!r} predictor: {problem}"
        if predictor.get("workerSpec") is not None:
            return f"canary {name!r} must not set workerSpec"
        if predictor.get("maxReplicas", 0) > 0:
            return f"canary {name!r} must not set maxReplicas (canary uses fixed replicas)"
        for key in ("scaleTarget", "scaleMetric", "autoScaling"):
            if predictor.get(key) is not None:
                return f"canary {name!r} must not set {key} (canary uses fixed replicas)"
        if predictor.get("minReplicas") is not None:
            stable_min = stable.get("minReplicas", 1)
            if predictor["minReplicas"] > stable_min:
                return f"canary {name!r} minReplicas must not exceed stable predictor minReplicas ({stable_min})"
    if total > 100:
        return f"sum of canary trafficPercent values ({total}) must be <= 100"
    return None


def rendered_isvcs(run_stack) -> list[tuple[str, dict[str, Any]]]:
    return [(stack, obj) for stack in STACKS for obj in objects(run_stack(stack), "InferenceService")]


def test_the_canaries_of_every_committed_stack_pass_validate_canary_specs(run_stack) -> None:
    rendered = rendered_isvcs(run_stack)
    with_canaries = [(stack, obj) for stack, obj in rendered if obj["spec"].get("canary")]
    # staging's and prod's fraud-detector carry one each: the check must have something to judge.
    assert {stack for stack, _ in with_canaries} >= {"staging", "prod"}
    for stack, obj in rendered:
        assert validate_canary_specs(obj) is None, (stack, obj["metadata"]["name"], validate_canary_specs(obj))


def _old_canary_predictor(entry: ModelConfig, index: int) -> dict[str, Any]:
    """The canary predictor as the program emitted it before this fix: the whole stable predictor with the canary's
    fields replaced (its autoscaling included), and no predictor.name."""
    canary = entry.canary[index]
    overrides = {key: value for key, value in canary.overrides().items() if key != "min_replicas"}
    if canary.min_replicas is not None:
        overrides["min_replicas"] = canary.min_replicas
    predictor = predictor_spec(entry.model_copy(update={**overrides, "canary": [], "canary_traffic_percent": None}))
    predictor["model"] = {"name": PREDICTOR_CONTAINER, **predictor["model"]}
    return predictor


def committed_model(stack: str, name: str) -> ModelConfig:
    values = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))["config"]
    return ModelConfig.model_validate(next(m for m in values["kserve-platform:models"] if m["name"] == name))


def test_validate_canary_specs_refuses_the_canaries_the_program_used_to_emit() -> None:
    """The check is not vacuous: the old form of prod's fraud-detector canary (no predictor.name, the stable
    predictor's maxReplicas/scaleMetric/scaleTarget inherited) is refused by it, for each of those reasons."""
    entry = committed_model("prod", "fraud-detector")
    obj = inference_service_manifest(entry, "Standard")
    assert validate_canary_specs(obj) is None
    old = copy.deepcopy(obj)
    old["spec"]["canary"][0]["predictor"] = _old_canary_predictor(entry, 0)
    assert validate_canary_specs(old) == "canary[0] predictor.name is required"
    old["spec"]["canary"][0]["predictor"]["name"] = "canary"
    assert "must not set maxReplicas" in (validate_canary_specs(old) or "")
    del old["spec"]["canary"][0]["predictor"]["maxReplicas"]
    assert "must not set scaleTarget" in (validate_canary_specs(old) or "")


def test_canary_predictor_names_and_replicas() -> None:
    """What the program emits for canaries: a name each (default `canary`, `canary-2`, ... or the user's), the
    stable predictor unnamed, no autoscaling inherited, minReplicas only when the canary sets it."""
    stack = parse_stack_config(
        {
            "models": [
                model(
                    minReplicas=4,
                    maxReplicas=8,
                    scaleMetric="cpu",
                    scaleTarget=70,
                    canary=[
                        {"trafficPercent": 10, "storageUri": "gs://seldon-models/sklearn/iris-v2"},
                        {"trafficPercent": 5, "formatVersion": "1", "minReplicas": 2},
                        {"name": "shadow-v3", "trafficPercent": 1, "storageUri": "gs://seldon-models/sklearn/v3"},
                    ],
                )
            ]
        }
    )
    obj = inference_service_manifest(stack.models[0], "Standard")
    first, second, third = (canary["predictor"] for canary in obj["spec"]["canary"])
    assert [first["name"], second["name"], third["name"]] == ["canary", "canary-2", "shadow-v3"]
    assert "name" not in obj["spec"]["predictor"]
    for predictor in (first, second, third):
        assert not {"maxReplicas", "scaleMetric", "scaleTarget", "autoScaling"} & set(predictor)
    assert "minReplicas" not in first and second["minReplicas"] == 2
    assert obj["spec"]["predictor"]["maxReplicas"] == 8
    assert validate_canary_specs(obj) is None


def test_stable_predictor_model_carries_no_name(run_stack) -> None:
    """validatePredictor: `the 'name' field is not allowed in standard predictor` (spec.predictor.model.name)."""
    for stack, obj in rendered_isvcs(run_stack):
        for key in FRAMEWORKS:
            assert "name" not in (obj["spec"]["predictor"].get(key) or {}), (stack, obj["metadata"]["name"])


# ---------------------------------------------------------------------------------------------------------------
# Defaulting: a port of DefaultInferenceService with the kserve-resources chart's inferenceservice-config.


def chart_values() -> dict[str, Any]:
    require_shared()
    return yaml.safe_load((KSERVE_DIR / "charts" / "kserve-resources" / "values.yaml").read_text(encoding="utf-8"))


def test_default_predictor_resources_are_the_charts() -> None:
    """setResourceRequirementDefaults reads `inferenceService.resource`, which the chart fills from
    `kserve.inferenceservice.resources`: the program's copy must be the chart's."""
    resources = chart_values()["kserve"]["inferenceservice"]["resources"]
    assert {kind: {k: str(v) for k, v in values.items()} for kind, values in resources.items()} == (
        DEFAULT_PREDICTOR_RESOURCES
    )


LEGACY_MODES = {"RawDeployment": "Standard", "Serverless": "Knative"}


def kserve_defaulting(isvc: dict[str, Any], default_deployment_mode: str = "Knative") -> dict[str, Any]:
    """A port of `InferenceService.DefaultInferenceService` (webhook/inference_service_defaults.go) with the chart's
    inferenceservice-config (resource defaults, security.autoMountServiceAccountToken) and no local model caches,
    for the predictor-only objects the program emits. Returns the object the webhook would store."""
    values = chart_values()["kserve"]
    resources = values["inferenceservice"]["resources"]
    automount = values["security"]["autoMountServiceAccountToken"]
    obj = copy.deepcopy(isvc)
    metadata = obj["metadata"]
    annotations = metadata.get("annotations")
    mode = (annotations or {}).get(DEPLOYMENT_MODE_ANNOTATION)
    if mode in LEGACY_MODES:
        annotations[DEPLOYMENT_MODE_ANNOTATION] = mode = LEGACY_MODES[mode]
    if mode is None and default_deployment_mode in ("ModelMesh", "Standard"):
        metadata.setdefault("annotations", {})[DEPLOYMENT_MODE_ANNOTATION] = default_deployment_mode
    predictor = obj["spec"]["predictor"]
    if mode != "ModelMesh":
        # setPredictorModelDefaults (the legacy framework blocks are never emitted: asserted, not ported).
        assert not {key for key in FRAMEWORKS if key != "model"} & set(predictor)
        spec = predictor.get("model")
        if spec is not None:
            if spec.get("protocolVersion") is None and spec["modelFormat"]["name"] in ("triton", "vllm"):
                spec["protocolVersion"] = "v2"
            if spec["modelFormat"].get("name"):
                metadata.setdefault("annotations", {}).setdefault(MODEL_FORMAT_ANNOTATION, spec["modelFormat"]["name"])
        impls = implementations(predictor)
        if len(impls) == 1 and impls[0][0] == "custom":
            # CustomPredictor.Default
            containers = predictor["containers"]
            if len(containers) == 1 or not containers[0].get("name"):
                containers[0]["name"] = PREDICTOR_CONTAINER
            requirements = containers[0].setdefault("resources", {})
            for kind in ("requests", "limits"):
                for name in ("cpu", "memory"):
                    if resources[kind].get(name):
                        requirements.setdefault(kind, {}).setdefault(name, str(resources[kind][name]))
    # setLocalModelLabel with no caches: deleteLocalModelMetadata.
    for key in ("internal.serving.kserve.io/localmodel", "internal.serving.kserve.io/localmodel-namespace"):
        (metadata.get("labels") or {}).pop(key, None)
    for key in ("internal.serving.kserve.io/localmodel-sourceuri", "internal.serving.kserve.io/localmodel-pvc-name"):
        (metadata.get("annotations") or {}).pop(key, None)
    if not automount and predictor.get("automountServiceAccountToken") is None:
        predictor["automountServiceAccountToken"] = False
    return obj


def test_rendered_objects_are_a_fixed_point_of_kserve_defaulting(run_stack) -> None:
    """What KServe's mutating webhook would store equals what the program sent, for every model of every committed
    stack, so `pulumi preview` after `up` shows no diff from the webhook's defaulting."""
    for stack, obj in rendered_isvcs(run_stack):
        assert kserve_defaulting(obj) == obj, (stack, obj["metadata"]["name"])


@pytest.mark.parametrize(
    "entry",
    [
        model(),
        {**CUSTOM, "storageUri": "gs://seldon-models/sklearn/iris"},
        {**CUSTOM, "resources": {"requests": {"memory": "1Gi"}}},
        {**CUSTOM, "resources": {"limits": {"cpu": "4", "memory": "8Gi"}, "requests": {"cpu": "2"}}},
        {**CUSTOM, "resources": {"requests": {"nvidia.com/gpu": "1"}, "limits": {"nvidia.com/gpu": "1"}}},
        model(annotations={"modelFormat": "my-label"}),
    ],
    ids=["builtin", "custom", "custom-partial-requests", "custom-partial-limits", "custom-gpu", "own-format-label"],
)
def test_rendered_objects_are_a_fixed_point_of_kserve_defaulting_per_form(entry: dict[str, Any]) -> None:
    stack = parse_stack_config({"models": [entry]})
    for mode in ("Standard", "Knative"):
        obj = inference_service_manifest(stack.models[0], mode)
        assert kserve_defaulting(obj) == obj


def test_kserve_defaulting_port_changes_what_the_program_used_to_send() -> None:
    """The fixed-point tests can fail: a custom container without resources and a built-in model without the
    modelFormat annotation (what the program sent before) are changed by the port."""
    stack = parse_stack_config({"models": [CUSTOM, model()]})
    custom, builtin = (inference_service_manifest(entry, "Standard") for entry in stack.models)
    del custom["spec"]["predictor"]["containers"][0]["resources"]
    assert kserve_defaulting(custom)["spec"]["predictor"]["containers"][0]["resources"] == DEFAULT_PREDICTOR_RESOURCES
    del builtin["metadata"]["annotations"][MODEL_FORMAT_ANNOTATION]
    assert kserve_defaulting(builtin)["metadata"]["annotations"][MODEL_FORMAT_ANNOTATION] == "sklearn"


# ---------------------------------------------------------------------------------------------------------------
# One config error per mirrored rule: (Go function, stack values, key path, words of the message).

STANDARD = {"deploymentMode": "Standard"}
KNATIVE = {"deploymentMode": "Knative"}
URI = "gs://seldon-models/sklearn/iris"
CANARY = {"trafficPercent": 10, "storageUri": f"{URI}-v2"}


def _models(*entries: dict[str, Any], kserve: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"kserve": kserve or STANDARD, "models": list(entries)}


def _runtime(*formats: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "kserve": STANDARD,
        "runtimes": [
            {"name": "my-runtime", "image": "registry.example.com/rt:1.0.0", "supportedModelFormats": list(formats)}
            | fields
        ],
    }


RULES = [
    ("validateInferenceServiceName", "uppercase", _models(model(name="Iris")), "models[0].name", "not a valid"),
    ("validateInferenceServiceName", "digit-first", _models(model(name="1ris")), "models[0].name", "not a valid"),
    (
        "validateInferenceServiceAutoscaler",
        "unknown-class",
        _models(model(autoscalerClass="kpa")),
        "models[0].autoscalerClass",
        "allowed",
    ),
    (
        "validateInferenceServiceAutoscaler",
        "class-as-annotation",
        _models(model(annotations={"serving.kserve.io/autoscalerClass": "kpa"})),
        "models[0].annotations.serving.kserve.io/autoscalerClass",
        "models/iris: the program sets this annotation from autoscalerClass",
    ),
    (
        "validateAutoScalingCompExtension",
        "knative-hpa-class-annotation",
        _models(model(annotations={"autoscaling.knative.dev/class": "hpa.autoscaling.knative.dev"}), kserve=KNATIVE),
        "models[0].annotations.autoscaling.knative.dev/class",
        "models/iris",
    ),
    ("validateBlockedEnvVars", "model", _models(model(env={"PYTHONPATH": "/x"})), "models[0].env", "PYTHONPATH"),
    (
        "validateBlockedEnvVars",
        "canary",
        _models(model(canary=[{**CANARY, "env": {"PYTHONPATH": "/x"}}])),
        "models[0].canary[0].env",
        "PYTHONPATH",
    ),
    (
        "validateBlockedEnvVars",
        "runtime",
        _runtime({"name": "mine"}, env={"PYTHONPATH": "/x"}),
        "runtimes[0].env",
        "PYTHONPATH",
    ),
    (
        "validateExactlyOneImplementation",
        "format-and-image",
        _models(model(image="my-custom-server:0.1.0")),
        "models[0].image",
        "not both",
    ),
    (
        "validateExactlyOneImplementation",
        "neither",
        _models({"name": "iris", "namespace": "models"}),
        "models[0]",
        "set either 'format'",
    ),
    (
        "validateCustomProtocol",
        "model",
        _models({**CUSTOM, "env": {"PROTOCOL": "v3"}}),
        "models[0].env",
        "PROTOCOL",
    ),
    (
        "validateCustomProtocol",
        "canary",
        _models({**CUSTOM, "storageUri": URI, "canary": [{"trafficPercent": 5, "env": {"PROTOCOL": "grpc-v2"}}]}),
        "models[0].canary[0].env",
        "models/custom: PROTOCOL must be one of v1, v2",
    ),
    (
        "validateReplicas",
        "min-above-max",
        _models(model(minReplicas=3, maxReplicas=2)),
        "models[0].minReplicas",
        "must not exceed",
    ),
    ("validateReplicas", "negative-min", _models(model(minReplicas=-1)), "models[0].minReplicas", "greater than"),
    ("validateReplicas", "negative-max", _models(model(maxReplicas=-1)), "models[0].maxReplicas", "greater than"),
    (
        "validateHPAMetrics",
        "concurrency-with-hpa",
        _models(model(scaleMetric="concurrency")),
        "models[0].scaleMetric",
        "Knative",
    ),
    (
        "validateScalingHPACompExtension",
        "cpu-target-above-100",
        _models(model(scaleMetric="cpu", scaleTarget=101)),
        "models[0].scaleTarget",
        "1 to 100",
    ),
    (
        "validateScalingHPACompExtension",
        "memory-target-above-100",
        _models(model(scaleMetric="memory", scaleTarget=512)),
        "models[0].scaleTarget",
        "models/iris: 512",
    ),
    (
        "validateScalingKedaCompExtension",
        "scale-metric",
        _models(model(autoscalerClass="keda", scaleMetric="cpu")),
        "models[0].scaleMetric",
        "keda",
    ),
    (
        "validateKPAMetrics",
        "cpu-in-knative",
        _models(model(scaleMetric="cpu"), kserve=KNATIVE),
        "models[0].scaleMetric",
        "concurrency or rps",
    ),
    (
        "validateScalingKPACompExtension",
        "rps-target-0",
        _models(model(scaleMetric="rps", scaleTarget=0), kserve=KNATIVE),
        "models[0].scaleTarget",
        "greater than or equal to 1",
    ),
    (
        "validateCanarySpecs",
        "knative-mode",
        _models(model(canary=[CANARY]), kserve=KNATIVE),
        "models[0].canary",
        "Standard",
    ),
    (
        "validateCanarySpecs",
        "custom-image-without-model",
        _models({**CUSTOM, "canary": [{"trafficPercent": 10, "image": "my-custom-server:0.2.0"}]}),
        "models[0].canary",
        "models/custom: KServe runs a canary only beside a stable predictor with a model",
    ),
    (
        "validateCanarySpecs",
        "duplicate-name",
        _models(model(canary=[CANARY, {**CANARY, "name": "canary"}])),
        "models[0].canary[1].name",
        "models/iris: canary predictor name 'canary' is already used by canary[0]",
    ),
    (
        "validateCanarySpecs",
        "name-pattern",
        _models(model(canary=[{**CANARY, "name": "Canary_1"}])),
        "models[0].canary[0].name",
        "predictor.name",
    ),
    (
        "validateCanarySpecs",
        "name-with-trailing-newline",
        _models(model(canary=[{**CANARY, "name": "canary\n"}])),
        "models[0].canary[0].name",
        "predictor.name",
    ),
    (
        "validateCanarySpecs",
        "traffic-above-100",
        _models(model(canary=[{**CANARY, "trafficPercent": 101}])),
        "models[0].canary[0].trafficPercent",
        "100",
    ),
    (
        "validateCanarySpecs",
        "traffic-sum-above-100",
        _models(model(canary=[{**CANARY, "trafficPercent": 60}, {**CANARY, "trafficPercent": 50}])),
        "models[0].canary",
        "adds up to 110",
    ),
    *[
        (
            "validateCanarySpecs",
            f"sets-{key}",
            _models(model(canary=[{**CANARY, key: value}])),
            f"models[0].canary[0].{key}",
            f"models/iris: a canary runs at fixed replicas (KServe refuses {key} on a canary)",
        )
        for key, value in (
            ("maxReplicas", 4),
            ("scaleMetric", "cpu"),
            ("scaleTarget", 50),
            ("autoScaling", {"metrics": []}),
        )
    ],
    (
        "validateCanarySpecs",
        "min-replicas-above-stable",
        _models(model(minReplicas=2, canary=[{**CANARY, "minReplicas": 3}])),
        "models[0].canary[0].minReplicas",
        "models/iris: minReplicas (3) must not exceed the stable predictor's minReplicas (2)",
    ),
    (
        "validateCanarySpecs",
        "min-replicas-above-default-stable",
        _models(model(canary=[{**CANARY, "minReplicas": 2}])),
        "models[0].canary[0].minReplicas",
        "minReplicas (1)",
    ),
    (
        "validateCanarySpecs",
        "canary-host-too-long",
        _models(model(name="a" * 30, namespace="b" * 14, canary=[{**CANARY, "name": "c" * 10}])),
        "models[0].canary[0].name",
        "63-character DNS label",
    ),
    (
        "setResourceRequirementDefaults",
        "request-above-default-limit",
        _models({**CUSTOM, "resources": {"requests": {"memory": "4Gi"}}}),
        "models[0].resources.requests.memory",
        "models/custom: KServe fills the missing limits.memory",
    ),
    (
        "setResourceRequirementDefaults",
        "limit-below-default-request",
        _models({**CUSTOM, "resources": {"limits": {"cpu": "500m"}}}),
        "models[0].resources.limits.cpu",
        "set resources.requests.cpu too",
    ),
    (
        "validateModelFormatPrioritySame",
        "two-priorities-for-one-format",
        _runtime(
            {"name": "sklearn", "version": "0", "priority": 5}, {"name": "sklearn", "version": "1", "priority": 6}
        ),
        "runtimes[0].supportedModelFormats[1].priority",
        "ClusterServingRuntime 'my-runtime': auto-selected sklearn has priority 5",
    ),
    (
        "validateServingRuntimePriority",
        "same-priority-as-builtin",
        _runtime({"name": "sklearn", "version": "1", "priority": 2}),
        "runtimes[0].supportedModelFormats[0].priority",
        "kserve-mlserver",
    ),
]


@pytest.mark.parametrize(
    ("function", "values", "path", "fragment"),
    [rule[0:1] + rule[2:] for rule in RULES],
    ids=[f"{rule[0]}-{rule[1]}" for rule in RULES],
)
def test_webhook_rule_is_a_config_error(function: str, values: dict[str, Any], path: str, fragment: str) -> None:
    assert any(name.endswith(function) for name in WEBHOOK_FUNCTIONS), function
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(values)
    # Each issue under models[i] names its model (`namespace/name`), asserted with the message.
    errors = {
        issue.path: f"{issue.model}: {issue.message}" if issue.model else issue.message for issue in caught.value.issues
    }
    assert path in errors, errors
    assert fragment in errors[path], errors


def test_the_same_rules_accept_what_kserve_accepts() -> None:
    """The rules are not broader than the webhook's for the configs a user writes: one priority per format, a
    canary at or below the stable minReplicas, a custom image with full resources."""
    parse_stack_config(
        {
            **_runtime({"name": "sklearn", "version": "0", "priority": 5}, {"name": "sklearn", "version": "1"}),
            "models": [
                model(minReplicas=2, canary=[{**CANARY, "minReplicas": 2}]),
                {
                    **CUSTOM,
                    "resources": {"requests": {"cpu": "2", "memory": "4Gi"}, "limits": {"cpu": "2", "memory": "4Gi"}},
                },
            ],
        }
    )


def test_canary_predictor_names_must_not_clash_across_models() -> None:
    """constants.PredictorServiceName: model `a` with canary `b-c` and model `a-b` with canary `c` would both get a
    Deployment `a-b-c-predictor` in one namespace."""
    values = _models(
        model(name="fraud", canary=[{**CANARY, "name": "canary"}]),
        model(name="fraud-canary"),
    )
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(values)
    # Each issue under models[i] names its model (`namespace/name`), asserted with the message.
    errors = {
        issue.path: f"{issue.model}: {issue.message}" if issue.model else issue.message for issue in caught.value.issues
    }
    assert "'fraud-canary-predictor'" in errors["models[1].name"], errors
