"""The kserve-platform policies: what `pulumi preview --policy-pack policy` checks on every resource it registers.

Kept apart from `__main__.py` because constructing `PolicyPack(...)` starts a gRPC server and blocks; the tests
import this module and call each policy's `validate` with the resources a mocked run of the program recorded.

Policies read the Kubernetes objects as registered (any object: InferenceServices, ServingRuntimes, Deployments,
Helm chart children), so they hold for whatever the program declares, not only for today's components. The engine
runs them on every registration: the root `pulumi:pulumi:Stack`, the program's own resources, and each child a
`helm.v4.Chart` renders (typed `kubernetes:<group>/<version>:<Kind>`, with the chart in its URN's parent chain).
Each policy's description says which of these it judges and why (docs/pull-requests.md, *The policy pack*). Every
message names the offending field and says how to fix it. Enforcement levels and settings are per stack:
`policy/config/<stack>.json`, passed with `--policy-pack-config` (see docs/pull-requests.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

KSERVE_GROUP_SUFFIX = "kserve.io"
ISVC_COMPONENTS = ("predictor", "transformer", "explainer")
# Blocks of an InferenceService component that describe the serving container (KServe's built-in `model` and the
# legacy per-framework fields). `containers` is the custom-container form.
IMPLEMENTATION_BLOCKS = (
    "model",
    "sklearn",
    "xgboost",
    "lightgbm",
    "tensorflow",
    "pytorch",
    "triton",
    "onnx",
    "pmml",
    "paddle",
    "huggingface",
)
HELM_TYPES = ("kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v3:Chart", "kubernetes:helm.sh/v4:Chart")
# Where the pod spec sits in each workload kind.
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "ServingRuntime": ("spec",),
    "ClusterServingRuntime": ("spec",),
}
DNS_LABEL_MAX = 63

# Schemes KServe's storage initializer fetches (the same list `config/storage.py` accepts; a test keeps the two
# equal). A stack may narrow it (`allowedSchemes`) or admit ClusterStorageContainer prefixes (`allowedPrefixes`).
DEFAULT_STORAGE_SCHEMES = ("gs", "s3", "pvc", "file", "http", "https", "hdfs", "webhdfs", "oci", "oci+native", "hf")

# Words in an env var name that say its value is a credential.
SECRET_NAME_WORDS = frozenset(
    {"PASSWORD", "PASSWD", "SECRET", "TOKEN", "KEY", "APIKEY", "CREDENTIAL", "CREDENTIALS", "PRIVATEKEY"}
)
# Values that are credentials whatever the variable is called.
SECRET_VALUE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("an AWS access key id", re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    ("a GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b")),
    ("a Slack token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}")),
)
# Last words of an env var name that say the value points at a credential (a Secret's name, a mounted file)
# rather than being one: `SECRET_NAME: kserve-webhook-server-cert` (KServe's controller) names a Secret.
REFERENCE_NAME_WORDS = frozenset({"NAME", "NAMESPACE", "REF", "FILE", "PATH", "DIR", "MOUNT"})
# `$(OTHER_VAR)` is Kubernetes' reference to another variable, not a value.
_ENV_REFERENCE = re.compile(r"^\$\([A-Za-z_][A-Za-z0-9_]*\)$")
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


# --- reading Kubernetes objects ------------------------------------------------------------------------------


def _dig(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def _is_list(value: Any) -> bool:
    # The analyzer hands policies the SDK's proxies: a list arrives as a `Sequence` that is not a `list` (a map as a
    # `Mapping` that is not a `dict`), so lists are recognised by what they do.
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def kind_of(props: Mapping[str, Any]) -> tuple[str, str]:
    return str(props.get("apiVersion") or ""), str(props.get("kind") or "")


def is_kserve(props: Mapping[str, Any], kind: str) -> bool:
    api_version, actual = kind_of(props)
    return actual == kind and api_version.split("/")[0].endswith(KSERVE_GROUP_SUFFIX)


def object_name(props: Mapping[str, Any]) -> str:
    metadata = props.get("metadata") or {}
    name = metadata.get("name") or "?"
    return f"{metadata['namespace']}/{name}" if metadata.get("namespace") else str(name)


def containers(props: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every container an object runs, as (field path, container), for any workload kind KServe or Kubernetes has."""
    kind = kind_of(props)[1]
    if is_kserve(props, "InferenceService"):
        for component in ISVC_COMPONENTS:
            spec = _dig(props, "spec", component)
            if not isinstance(spec, Mapping):
                continue
            for block in IMPLEMENTATION_BLOCKS:
                if isinstance(spec.get(block), Mapping):
                    yield f"spec.{component}.{block}", spec[block]
            yield from _pod_containers(spec, f"spec.{component}")
        return
    path = POD_SPEC_PATHS.get(kind)
    if path is None or (kind in ("ServingRuntime", "ClusterServingRuntime") and not is_kserve(props, kind)):
        return
    spec = _dig(props, *path)
    if isinstance(spec, Mapping):
        yield from _pod_containers(spec, ".".join(path))


def _pod_containers(spec: Mapping[str, Any], path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for field in ("initContainers", "containers"):
        for index, container in enumerate(spec.get(field) or []):
            if isinstance(container, Mapping):
                label = container.get("name") or index
                yield f"{path}.{field}[{label}]", container


def _level(args: ResourceValidationArgs | StackValidationArgs, key: str, default: Any) -> Any:
    # The CLI fills schema defaults from the config file; a direct call (tests, an empty config) may not.
    value = args.get_config().get(key)
    return default if value is None else value


# --- images pinned ---------------------------------------------------------------------------------------------


def image_problem(image: str, require_digest: bool) -> str | None:
    """Why `image` is not pinned (None when it is)."""
    if not image or image != image.strip():
        return "is empty or has surrounding spaces"
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    tag = last.rsplit(":", 1)[1] if ":" in last else None
    has_digest = "@" in image
    if has_digest and not _DIGEST.search(image):
        return "has a malformed digest: use @sha256:<64 hex digits>"
    if require_digest and not has_digest:
        return "is not pinned by digest: this stack requires <image>@sha256:<digest> (tags can be moved)"
    if tag is None and not has_digest:
        return "has no tag, so it runs whatever 'latest' is at pull time: pin a version tag or a digest"
    if tag == "latest":
        return "uses the moving tag 'latest': pin a version tag or a digest"
    return None


def _under_helm_chart(args: ResourceValidationArgs) -> bool:
    # A URN holds the chain of parent types: `...::kubernetes:helm.sh/v4:Chart$kubernetes:apps/v1:Deployment::x`.
    return any(helm in args.urn for helm in HELM_TYPES)


# Istio's gateway charts leave the proxy image as `auto`; istiod's injection webhook replaces it with the proxy
# image of the pinned istiod release when the pod is created.
ISTIO_INJECTED_IMAGE = "auto"


def _istio_injected(props: Mapping[str, Any], container: Mapping[str, Any]) -> bool:
    template = _dig(props, "spec", "template", "metadata") or {}
    labels, annotations = template.get("labels") or {}, template.get("annotations") or {}
    return container.get("image") == ISTIO_INJECTED_IMAGE and (
        str(labels.get("sidecar.istio.io/inject")) == "true" or "inject.istio.io/templates" in annotations
    )


def disabled_runtime(props: Mapping[str, Any]) -> bool:
    """A (Cluster)ServingRuntime with `spec.disabled: true`: KServe never places a model on it, so it runs nothing."""
    kind = kind_of(props)[1]
    return kind in ("ServingRuntime", "ClusterServingRuntime") and _dig(props, "spec", "disabled") is True


def validate_images_pinned(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    # Images an upstream chart installs are pinned by the chart version; the digest rule is for the project's own.
    require_digest = bool(_level(args, "requireDigest", False)) and not (
        _under_helm_chart(args) and _level(args, "digestExemptForCharts", True)
    )
    if disabled_runtime(args.props):
        return
    for path, container in containers(args.props):
        if _istio_injected(args.props, container):
            continue
        image = container.get("image")
        if image is None:
            if "containers[" in path:
                report_violation(
                    f"{kind_of(args.props)[1]} {object_name(args.props)}: {path} has no image; set one pinned "
                    "by tag or digest (models[].image / runtimes[].image in the stack file)",
                    None,
                )
            continue
        problem = image_problem(str(image), require_digest)
        if problem:
            report_violation(
                f"{kind_of(args.props)[1]} {object_name(args.props)}: {path}.image {image!r} {problem}. Fix: set "
                "the image in the stack file (models[].image / runtimes[].image / kserve.mlserverImage) to "
                "e.g. registry/name:1.2.3 or registry/name@sha256:<digest>",
                None,
            )


# --- predictor resources -------------------------------------------------------------------------------------


def _resources_problem(resources: Any) -> str | None:
    if not isinstance(resources, Mapping):
        return "sets no resources"
    missing = [
        f"{side}.{name}"
        for side in ("requests", "limits")
        for name in ("cpu", "memory")
        if not isinstance(resources.get(side), Mapping) or resources[side].get(name) in (None, "")
    ]
    return f"is missing resources {', '.join(missing)}" if missing else None


def validate_predictor_resources(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    props = args.props
    if is_kserve(props, "InferenceService"):
        predictor = _dig(props, "spec", "predictor") or {}
        found = False
        for path, container in containers(props):
            if not path.startswith("spec.predictor.") or ".initContainers[" in path:
                continue
            found = True
            problem = _resources_problem(container.get("resources"))
            if problem:
                report_violation(
                    f"InferenceService {object_name(props)}: {path} {problem}. Fix: set models[].resources with "
                    "requests and limits for cpu and memory in the stack file, e.g. "
                    "resources: {requests: {cpu: '1', memory: 2Gi}, limits: {cpu: '1', memory: 2Gi}}",
                    None,
                )
        if not found and isinstance(predictor, Mapping):
            report_violation(
                f"InferenceService {object_name(props)}: spec.predictor declares no serving container (model or "
                "containers); give the model entry a 'format' or an 'image'",
                None,
            )
        return
    if is_kserve(props, "ServingRuntime") or is_kserve(props, "ClusterServingRuntime"):
        for path, container in containers(props):
            if ".initContainers[" in path:
                continue
            problem = _resources_problem(container.get("resources"))
            if problem:
                report_violation(
                    f"{kind_of(props)[1]} {object_name(props)}: {path} {problem}; models that do not set their own "
                    "inherit these. Fix: set runtimes[].resources (requests and limits for cpu and memory) in the "
                    "stack file",
                    None,
                )


# --- replicas ----------------------------------------------------------------------------------------------------


def validate_min_replicas(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if not is_kserve(args.props, "InferenceService"):
        return
    required = int(_level(args, "minReplicas", 2))
    for component in ISVC_COMPONENTS:
        spec = _dig(args.props, "spec", component)
        if not isinstance(spec, Mapping):
            continue
        actual = spec.get("minReplicas")
        # KServe runs one replica when minReplicas is not set.
        effective = 1 if actual is None else int(actual)
        if effective < required:
            shown = "not set (KServe runs 1)" if actual is None else str(effective)
            report_violation(
                f"InferenceService {object_name(args.props)}: spec.{component}.minReplicas is {shown}; this stack "
                f"needs at least {required} so a node drain or a crash does not take the model offline. Fix: set "
                f"models[].minReplicas: {required} (and maxReplicas >= {required}) in the stack file",
                None,
            )


# --- storage URIs ------------------------------------------------------------------------------------------------


def storage_uris(props: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(path, uri) for every model location an InferenceService names: storageUri(s) and STORAGE_URI env."""

    def walk(value: Any, path: str) -> Iterator[tuple[str, str]]:
        if isinstance(value, Mapping):
            for key, item in value.items():
                child = f"{path}.{key}"
                if key == "storageUri" and isinstance(item, str):
                    yield child, item
                elif key == "storageUris" and _is_list(item):
                    for index, entry in enumerate(item):
                        uri = entry.get("uri") if isinstance(entry, Mapping) else entry
                        if isinstance(uri, str):
                            yield f"{child}[{index}]", uri
                elif key == "env" and _is_list(item):
                    for var in item:
                        if isinstance(var, Mapping) and var.get("name") == "STORAGE_URI" and var.get("value"):
                            yield f"{child}[STORAGE_URI]", str(var["value"])
                else:
                    yield from walk(item, child)
        elif _is_list(value):
            for index, item in enumerate(value):
                yield from walk(item, f"{path}[{index}]")

    yield from walk(props.get("spec") or {}, "spec")


def validate_storage_uri(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if not is_kserve(args.props, "InferenceService"):
        return
    schemes = [str(s) for s in _level(args, "allowedSchemes", list(DEFAULT_STORAGE_SCHEMES))]
    prefixes = [str(p) for p in _level(args, "allowedPrefixes", [])]
    for path, uri in storage_uris(args.props):
        if any(uri.startswith(prefix) for prefix in prefixes):
            continue
        scheme = uri.split("://", 1)[0] if "://" in uri else ""
        if scheme not in schemes:
            allowed = ", ".join(f"{s}://" for s in schemes)
            report_violation(
                f"InferenceService {object_name(args.props)}: {path} {uri!r} uses "
                f"{repr(scheme + '://') if scheme else 'no scheme'}, not allowed in this stack. Fix: move the model "
                f"to one of {allowed} and set models[].storageUri, or add the prefix a ClusterStorageContainer "
                "serves to this policy's allowedPrefixes",
                None,
            )


# --- secrets in plain env ----------------------------------------------------------------------------------------


def secret_looking_name(name: str) -> bool:
    """A name that says its value is a credential: it has a credential word (TOKEN, PASSWORD, KEY...) and does not
    end in a word that makes it a reference to one (SECRET_NAME, TOKEN_PATH, KEY_FILE)."""
    words = [word for word in re.split(r"[^A-Za-z0-9]+", name.upper()) if word]
    if not words or words[-1] in REFERENCE_NAME_WORDS:
        return False
    return bool(set(words) & SECRET_NAME_WORDS)


def validate_no_plain_secrets(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    allowed = {str(name) for name in _level(args, "allowedNames", [])}
    for path, container in containers(args.props):
        for var in container.get("env") or []:
            if not isinstance(var, Mapping) or "value" not in var:
                continue
            name, value = str(var.get("name") or ""), var.get("value")
            if value in (None, "") or name in allowed or _ENV_REFERENCE.match(str(value)):
                continue
            where = f"{kind_of(args.props)[1]} {object_name(args.props)}: {path}.env[{name}]"
            fix = (
                "Fix: put the value in a Kubernetes Secret and reference it with valueFrom.secretKeyRef "
                "(or attach the Secret to the model's service account for storage credentials); never put "
                "credentials in the stack file's env"
            )
            if secret_looking_name(name):
                report_violation(f"{where} looks like a credential but has a literal value. {fix}", None)
                continue
            for what, pattern in SECRET_VALUE_PATTERNS:
                if pattern.search(str(value)):
                    report_violation(f"{where} holds what looks like {what} in plain text. {fix}", None)
                    break


# --- host names ----------------------------------------------------------------------------------------------------


def validate_isvc_host_length(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if not is_kserve(args.props, "InferenceService"):
        return
    metadata = args.props.get("metadata") or {}
    name, namespace = str(metadata.get("name") or ""), str(metadata.get("namespace") or "default")
    for component in ISVC_COMPONENTS:
        if component != "predictor" and not isinstance(_dig(args.props, "spec", component), Mapping):
            continue
        host = f"{name}-{component}-{namespace}"
        if len(host) > DNS_LABEL_MAX:
            report_violation(
                f"InferenceService {namespace}/{name}: the {component} host label '{host}' has {len(host)} "
                f"characters, over the {DNS_LABEL_MAX} a DNS label allows, so KServe cannot route to it. Fix: "
                f"shorten models[].name or models[].namespace by {len(host) - DNS_LABEL_MAX} characters",
                None,
            )


# --- KServe CRDs retained ------------------------------------------------------------------------------------------

# pulumi-kubernetes registers an object carrying this annotation with retainOnDelete (Helm's own "keep"); the
# install's transform sets both on every CRD it retains. The engine does not pass retainOnDelete to policies (their
# resource options carry protect, ignoreChanges, deleteBeforeReplace, aliases, timeouts and parent only), so the
# annotation is what a policy can see.
RETAIN_ANNOTATION = "helm.sh/resource-policy"


def is_kserve_crd(props: Mapping[str, Any]) -> bool:
    api_version, kind = kind_of(props)
    return (
        kind == "CustomResourceDefinition"
        and api_version.startswith("apiextensions.k8s.io/")
        and str(_dig(props, "spec", "group") or "").endswith(KSERVE_GROUP_SUFFIX)
    )


def validate_crds_retained(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    # Deleting a CRD deletes every object of that kind: removing the install from the program (or a replace)
    # would delete every InferenceService in the cluster. Judged on the CRD objects themselves (children of the
    # kserve-crd chart, or declared by the program): retained (kept in the cluster, dropped from the state) or
    # protected both keep them.
    if not is_kserve_crd(args.props):
        return
    annotations = _dig(args.props, "metadata", "annotations") or {}
    if annotations.get(RETAIN_ANNOTATION) == "keep" or args.opts.protect:
        return
    report_violation(
        f"CustomResourceDefinition {object_name(args.props)} is neither retained nor protected: removing the "
        "install or `pulumi destroy` deletes it, and with it every object of its kind in the cluster (every "
        "InferenceService for inferenceservices.serving.kserve.io). Fix: leave kserve.deleteCrdsOnUninstall "
        "false (the install then registers each CRD with retainOnDelete and helm.sh/resource-policy: keep)",
        None,
    )


# --- protection ------------------------------------------------------------------------------------------------------


# Registrations that protect cannot apply to: the root stack resource (the stack itself; nothing deletes it but
# `pulumi stack rm`) and providers (default providers take no options; a provider holds no cluster object).
UNPROTECTABLE_TYPES = ("pulumi:pulumi:Stack",)
UNPROTECTABLE_PREFIXES = ("pulumi:providers:",)


def validate_protected(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type in UNPROTECTABLE_TYPES or args.resource_type.startswith(UNPROTECTABLE_PREFIXES):
        return
    if args.opts.protect:
        return
    report_violation(
        f"{args.resource_type} '{args.name}' is not protected, so a change that drops or replaces it deletes it "
        "from the cluster. Fix: set 'kserve-platform:protect: true' in this stack's file (every resource the "
        "program declares is then protected)",
        None,
    )


# --- the policies ----------------------------------------------------------------------------------------------------


def _schema(**properties: dict[str, Any]) -> PolicyConfigSchema:
    return PolicyConfigSchema(properties=properties)


IMAGES_PINNED = ResourceValidationPolicy(
    name="images-pinned",
    description=(
        "Container images are pinned: no 'latest', no missing tag; by digest where the stack requires it. Judges "
        "first-party objects and chart children alike (an upstream chart can ship a moving tag); chart children "
        "are exempt from the digest rule (pinned by the chart version), disabled runtimes run nothing, and Istio's "
        "'auto' proxy image is set by istiod's injector."
    ),
    validate=validate_images_pinned,
    config_schema=_schema(
        requireDigest={"type": "boolean", "default": False},
        digestExemptForCharts={"type": "boolean", "default": True},
    ),
    remediation_steps="Pin models[].image / runtimes[].image to a version tag, or to @sha256:<digest> in prod.",
)
PREDICTOR_RESOURCES = ResourceValidationPolicy(
    name="predictor-resources",
    description=(
        "Every predictor container and serving runtime container sets cpu and memory requests and limits. Judges "
        "InferenceServices and (Cluster)ServingRuntimes, first-party or chart children (models inherit a "
        "runtime's resources)."
    ),
    validate=validate_predictor_resources,
    remediation_steps="Set models[].resources (and runtimes[].resources) with requests and limits.",
)
MIN_REPLICAS = ResourceValidationPolicy(
    name="min-replicas",
    description="InferenceServices run at least `minReplicas` replicas (enabled in production).",
    validate=validate_min_replicas,
    config_schema=_schema(minReplicas={"type": "integer", "minimum": 1, "default": 2}),
    remediation_steps="Set models[].minReplicas to at least the configured minimum.",
)
STORAGE_URI = ResourceValidationPolicy(
    name="storage-uri-scheme",
    description="Model storage URIs use a scheme from the stack's allow-list.",
    validate=validate_storage_uri,
    config_schema=_schema(
        allowedSchemes={"type": "array", "items": {"type": "string"}, "default": list(DEFAULT_STORAGE_SCHEMES)},
        allowedPrefixes={"type": "array", "items": {"type": "string"}, "default": []},
    ),
    remediation_steps="Move the model to an allowed storage scheme or allow its ClusterStorageContainer prefix.",
)
NO_PLAIN_SECRETS = ResourceValidationPolicy(
    name="no-plain-secrets-in-env",
    description=(
        "No credential-looking env var carries a literal value; credentials come from Secrets. Judges first-party "
        "objects and chart children (a chart value can put a credential in a Deployment's env); names that point "
        "at a credential (SECRET_NAME, TOKEN_PATH, KEY_FILE) are references, not credentials."
    ),
    validate=validate_no_plain_secrets,
    config_schema=_schema(allowedNames={"type": "array", "items": {"type": "string"}, "default": []}),
    remediation_steps="Use valueFrom.secretKeyRef, or a Secret on the service account for storage credentials.",
)
ISVC_HOST_LENGTH = ResourceValidationPolicy(
    name="isvc-host-length",
    description="InferenceService host labels ({name}-predictor-{namespace}) fit in 63 characters.",
    validate=validate_isvc_host_length,
    remediation_steps="Shorten the model name or its namespace.",
)
CRDS_RETAINED = ResourceValidationPolicy(
    name="kserve-crds-retained",
    description=(
        "KServe's CRDs are retained (helm.sh/resource-policy: keep, which the provider maps to retainOnDelete) or "
        "protected. Judges the CRD objects: chart children of kserve-crd, or first-party."
    ),
    validate=validate_crds_retained,
    remediation_steps="Leave kserve.deleteCrdsOnUninstall false, or protect the stack.",
)
PROTECTED = ResourceValidationPolicy(
    name="resources-protected",
    description=(
        "Every resource is protected from deletion (enabled in production). Judges first-party objects, components "
        "and chart children (a chart's Deployment is deleted like any other); skips the root pulumi:pulumi:Stack "
        "and providers, which protect does not apply to."
    ),
    validate=validate_protected,
    remediation_steps="Set kserve-platform:protect: true in the stack file.",
)

POLICIES: list[ResourceValidationPolicy | StackValidationPolicy] = [
    IMAGES_PINNED,
    PREDICTOR_RESOURCES,
    MIN_REPLICAS,
    STORAGE_URI,
    NO_PLAIN_SECRETS,
    ISVC_HOST_LENGTH,
    CRDS_RETAINED,
    PROTECTED,
]
# Without a config file every policy only warns; `policy/config/<stack>.json` sets each stack's levels.
DEFAULT_ENFORCEMENT = EnforcementLevel.ADVISORY
