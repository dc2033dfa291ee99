"""An independent check of RENDERED objects against the Kubernetes API server's validation.

Written from the Go sources (k8s.io/apimachinery pkg/util/validation, pkg/api/resource, pkg/api/validation;
k8s.io/kubernetes pkg/apis/core/validation, v1.34) without importing the project's config validators, so the
property test compares two separate readings of the same rules: what the config accepts must pass here. For an
InferenceService it also checks the predictor pod KServe will build from it (its containers merged with the runtime
or custom-container defaults), which the API server sees only after `pulumi up` has succeeded.

`problems(objects)` returns one line per violation, `[]` when a real API server would accept every object.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from decimal import MAX_EMAX as _MAX_EMAX
from decimal import MAX_PREC as _MAX_PREC
from decimal import MIN_EMIN as _MIN_EMIN
from decimal import ROUND_UP, Context, Decimal, localcontext
from typing import Any

# Go's regexp: `^...$` anchors the whole text; here every pattern is used with fullmatch.
_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_LABEL = re.compile(_LABEL)
_DNS_SUBDOMAIN = re.compile(rf"{_LABEL}(\.{_LABEL})*")
_DNS1035 = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_QNAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_ENV_NAME = re.compile(r"[-._a-zA-Z][-._a-zA-Z0-9]*")
_CM_KEY = re.compile(r"[-._a-zA-Z0-9]+")
# KServe's CRDs declare every quantity with this pattern (the API server validates CRs against it) ...
_CRD_QUANTITY = re.compile(
    r"(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?"
)
# ... and resource.ParseQuantity then reads it when KServe copies it into the Deployment.
_PARSE_QUANTITY = re.compile(r"([+-]?)([0-9]*)(\.[0-9]*)?([eEinumkKMGTP]*[-+]?[0-9]*)")
_BIN = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DEC = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)

# The kserve-runtime-configs chart's runtime resources and the kserve-resources chart's
# `kserve.inferenceservice.resources` (KServe v0.20.0 values.yaml): what KServe merges a predictor's resources over.
RUNTIME_DEFAULTS = {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"cpu": "1", "memory": "2Gi"}}
CUSTOM_CONTAINER_DEFAULTS = RUNTIME_DEFAULTS
BUILTIN_RUNTIME_FORMATS = {"kserve-mlserver": {"sklearn", "xgboost", "lightgbm", "mlflow"}}


def is_dns_label(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= 63 and bool(_DNS_LABEL.fullmatch(value))


def is_dns_subdomain(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= 253 and bool(_DNS_SUBDOMAIN.fullmatch(value))


def is_qualified_name(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = value.split("/")
    if len(parts) > 2 or (len(parts) == 2 and not is_dns_subdomain(parts[0])):
        return False
    name = parts[-1]
    return 0 < len(name) <= 63 and bool(_QNAME.fullmatch(name))


def is_label_value(value: Any) -> bool:
    return isinstance(value, str) and (value == "" or (len(value) <= 63 and bool(_QNAME.fullmatch(value))))


def is_env_name(value: Any) -> bool:
    return isinstance(value, str) and bool(_ENV_NAME.fullmatch(value)) and not value.startswith("..") and value != "."


def is_config_map_key(value: Any) -> bool:
    return (
        isinstance(value, str)
        and len(value) <= 253
        and bool(_CM_KEY.fullmatch(value))
        and value not in (".", "..")
        and not value.startswith("..")
    )


def in_range(value: Any, bounds: tuple[int, int]) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and bounds[0] <= value <= bounds[1]


def quantity(value: Any) -> Decimal | None:
    """ParseQuantity's value (rounded up to 1n, binary capped at 2^63-1), or None when the CRD or it refuses it."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _CRD_QUANTITY.fullmatch(value):
        return None
    match = _PARSE_QUANTITY.fullmatch(value)
    if match is None:
        return None
    sign, whole, fraction, suffix = match.groups()
    exponent: int
    if suffix in _DEC:
        base, exponent = 10, _DEC[suffix]
    elif suffix in _BIN:
        base, exponent = 2, _BIN[suffix]
    elif len(suffix) > 1 and suffix[0] in "eE":
        try:
            exponent = int(suffix[1:])
        except ValueError:
            return None
        if not in_range(exponent, _INT32):
            return None
        base = 10
    else:
        return None
    with localcontext(Context(prec=_MAX_PREC, Emax=_MAX_EMAX, Emin=_MIN_EMIN)):
        number = Decimal(f"{sign}{whole or '0'}{fraction if fraction not in (None, '.') else ''}")
        amount = number * (2**exponent) if base == 2 else number.scaleb(exponent)
        if base == 2 and abs(amount) > _INT64[1]:
            amount = Decimal(_INT64[1]).copy_sign(amount)
        if amount != 0 and amount.as_tuple().exponent < -9:  # type: ignore[operator]
            amount = amount.quantize(Decimal("1e-9"), rounding=ROUND_UP)
    return amount


def _labels(where: str, labels: Any) -> Iterator[str]:
    if not isinstance(labels, dict):
        yield f"{where}: not a map"
        return
    for key, value in labels.items():
        if not is_qualified_name(key):
            yield f"{where}: key {key!r} is not a qualified name"
        if not is_label_value(value):
            yield f"{where}[{key!r}]: {value!r} is not a label value"


def _annotations(where: str, annotations: Any) -> Iterator[str]:
    if not isinstance(annotations, dict):
        yield f"{where}: not a map"
        return
    total = 0
    for key, value in annotations.items():
        if not is_qualified_name(str(key).lower()):
            yield f"{where}: key {key!r} is not a qualified name"
        total += len(str(key).encode()) + len(str(value).encode())
    if total > 262144:
        yield f"{where}: {total} bytes, above the 256 KiB limit"


def _metadata(obj: dict[str, Any]) -> Iterator[str]:
    metadata = obj.get("metadata") or {}
    kind = obj.get("kind")
    name = metadata.get("name")
    where = f"{kind} {metadata.get('namespace')}/{name}"
    if kind == "Namespace":
        if not is_dns_label(name):
            yield f"{where}: Namespace name is not an RFC 1123 label"
    elif not is_dns_subdomain(name):
        yield f"{where}: name is not an RFC 1123 subdomain"
    if kind == "InferenceService" and not (isinstance(name, str) and _DNS1035.fullmatch(name) and len(name) <= 63):
        yield f"{where}: InferenceService name is not a DNS-1035 label (KServe)"
    if "namespace" in metadata and not is_dns_label(metadata["namespace"]):
        yield f"{where}: namespace is not an RFC 1123 label"
    yield from _labels(f"{where} labels", metadata.get("labels") or {})
    yield from _annotations(f"{where} annotations", metadata.get("annotations") or {})


def _resources(where: str, resources: dict[str, Any]) -> Iterator[str]:
    requests = resources.get("requests") or {}
    limits = resources.get("limits") or {}

    def native(name: str) -> bool:
        return "/" not in name or "kubernetes.io/" in name

    def extended(name: str) -> bool:
        return not native(name) and not name.startswith("requests.") and is_qualified_name(f"requests.{name}")

    values: dict[tuple[str, str], Decimal] = {}
    for kind, side in (("requests", requests), ("limits", limits)):
        for name, text in side.items():
            if not is_qualified_name(name):
                yield f"{where}.{kind}: {name!r} is not a qualified name"
            elif (
                "/" not in name
                and name not in ("cpu", "memory", "ephemeral-storage")
                and not name.startswith("hugepages-")
            ):
                yield f"{where}.{kind}: {name!r} must be a standard resource or fully qualified"
            elif not native(name) and not extended(name):
                yield f"{where}.{kind}: {name!r} does not follow the extended resource name standard"
            amount = quantity(text)
            if amount is None:
                yield f"{where}.{kind}.{name}: {text!r} is not a quantity"
                continue
            values[(kind, name)] = amount
            if amount < 0:
                yield f"{where}.{kind}.{name}: negative"
            if extended(name) and (amount * 1000) % 1000 != 0:
                yield f"{where}.{kind}.{name}: an extended resource must be a whole number"
            if extended(name) and amount * 1000 > _INT64[1]:
                yield f"{where}.{kind}.{name}: MilliValue overflows int64"
            if name.startswith("hugepages-"):
                page = quantity(name[len("hugepages-") :])
                whole = amount.to_integral_value(rounding=ROUND_UP)
                if page is None or page <= 0 or page % 1 != 0 or whole % page != 0:
                    yield f"{where}.{kind}.{name}: not a whole multiple of the page size"
    for name in requests:
        request, limit = values.get(("requests", name)), values.get(("limits", name))
        overcommit = native(name) and not name.startswith("hugepages-")
        if request is None:
            continue
        if ("limits", name) not in values and name not in limits:
            if not overcommit:
                yield f"{where}: {name} requested without a limit"
        elif limit is not None and not overcommit and request != limit:
            yield f"{where}: {name} request must equal its limit"
        elif limit is not None and request > limit:
            yield f"{where}: {name} request above its limit"
    names = set(requests) | set(limits)
    if any(n.startswith("hugepages-") for n in names) and not names & {"cpu", "memory"}:
        yield f"{where}: hugepages without cpu or memory"


_FIELD_PATHS = {
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
}
_SUBSCRIPT = re.compile(r"(metadata\.labels|metadata\.annotations)\['([^']*)'\]")


def _env(where: str, env: list[dict[str, Any]]) -> Iterator[str]:
    names = [var.get("name") for var in env]
    for duplicate in sorted({n for n in names if names.count(n) > 1}, key=str):
        yield f"{where}: {duplicate!r} twice (server-side apply keys env by name)"
    for var in env:
        name = var.get("name")
        if not is_env_name(name):
            yield f"{where}: {name!r} is not an env var name"
        source = var.get("valueFrom")
        if source is None:
            continue
        if len(source) != 1 or var.get("value"):
            yield f"{where}.{name}.valueFrom: exactly one source, and no value"
        for kind in ("secretKeyRef", "configMapKeyRef"):
            ref = source.get(kind)
            if ref is not None and (not is_dns_subdomain(ref.get("name")) or not is_config_map_key(ref.get("key"))):
                yield f"{where}.{name}.valueFrom.{kind}: bad name or key"
        field = source.get("fieldRef")
        if field is not None:
            path = field.get("fieldPath")
            subscript = _SUBSCRIPT.fullmatch(path or "")
            if subscript:
                key = subscript.group(2)
                if not is_qualified_name(key.lower() if "annotations" in subscript.group(1) else key):
                    yield f"{where}.{name}.valueFrom.fieldRef: bad key in {path!r}"
            elif path not in _FIELD_PATHS:
                yield f"{where}.{name}.valueFrom.fieldRef: {path!r} not supported"
        ref = source.get("resourceFieldRef")
        if ref is not None:
            resource = ref.get("resource", "")
            allowed = {f"{side}.{r}" for side in ("limits", "requests") for r in ("cpu", "memory", "ephemeral-storage")}
            if resource not in allowed and not resource.startswith(("limits.hugepages-", "requests.hugepages-")):
                yield f"{where}.{name}.valueFrom.resourceFieldRef: {resource!r} not supported"
            divisor = ref.get("divisor")
            if divisor is not None and quantity(divisor) is None:
                yield f"{where}.{name}.valueFrom.resourceFieldRef: divisor {divisor!r} is not a quantity"


def _container(where: str, container: dict[str, Any], defaults: dict[str, dict[str, str]]) -> Iterator[str]:
    yield from _env(f"{where}.env", container.get("env") or [])
    own = container.get("resources") or {}
    merged = {side: {**(defaults.get(side) or {}), **(own.get(side) or {})} for side in ("requests", "limits")}
    yield from _resources(f"{where}.resources", merged)
    for port in container.get("ports") or []:
        if not in_range(port.get("containerPort"), (1, 65535)):
            yield f"{where}.ports: {port.get('containerPort')!r} out of range"


def _node_term(where: str, term: dict[str, Any]) -> Iterator[str]:
    for requirement in term.get("matchExpressions") or []:
        if not is_qualified_name(requirement.get("key")):
            yield f"{where}.matchExpressions: key {requirement.get('key')!r}"
        operator, values = requirement.get("operator"), requirement.get("values") or []
        if operator in ("In", "NotIn") and not values:
            yield f"{where}.matchExpressions: {operator} without values"
        if operator in ("Exists", "DoesNotExist") and values:
            yield f"{where}.matchExpressions: {operator} with values"
        if operator in ("Gt", "Lt") and len(values) != 1:
            yield f"{where}.matchExpressions: {operator} needs one value"
        if operator not in ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"):
            yield f"{where}.matchExpressions: operator {operator!r}"
        for value in values:
            if not is_label_value(value):
                yield f"{where}.matchExpressions: value {value!r}"
    for requirement in term.get("matchFields") or []:
        values = requirement.get("values") or []
        if (
            requirement.get("key") != "metadata.name"
            or requirement.get("operator") not in ("In", "NotIn")
            or len(values) != 1
            or not is_dns_subdomain(values[0])
        ):
            yield f"{where}.matchFields: {requirement!r}"


def _pod_term(where: str, term: dict[str, Any]) -> Iterator[str]:
    if not is_qualified_name(term.get("topologyKey")):
        yield f"{where}.topologyKey: {term.get('topologyKey')!r}"
    for namespace in term.get("namespaces") or []:
        if not is_dns_label(namespace):
            yield f"{where}.namespaces: {namespace!r}"
    for selector_key in ("labelSelector", "namespaceSelector"):
        selector = term.get(selector_key)
        if selector is None:
            continue
        yield from _labels(f"{where}.{selector_key}.matchLabels", selector.get("matchLabels") or {})
        for requirement in selector.get("matchExpressions") or []:
            if not is_qualified_name(requirement.get("key")):
                yield f"{where}.{selector_key}: key {requirement.get('key')!r}"
            for value in requirement.get("values") or []:
                if not is_label_value(value):
                    yield f"{where}.{selector_key}: value {value!r}"
    keys = [*(term.get("matchLabelKeys") or []), *(term.get("mismatchLabelKeys") or [])]
    if keys and term.get("labelSelector") is None:
        yield f"{where}: matchLabelKeys without labelSelector"
    for key in keys:
        if not is_qualified_name(key):
            yield f"{where}: label key {key!r}"


def _affinity(where: str, affinity: dict[str, Any]) -> Iterator[str]:
    node = affinity.get("nodeAffinity") or {}
    required = node.get("requiredDuringSchedulingIgnoredDuringExecution")
    if required is not None:
        terms = required.get("nodeSelectorTerms") or []
        if not terms:
            yield f"{where}.nodeAffinity.required: no nodeSelectorTerms"
        for term in terms:
            yield from _node_term(f"{where}.nodeAffinity.required", term)
    for term in node.get("preferredDuringSchedulingIgnoredDuringExecution") or []:
        if "preference" not in term:
            yield f"{where}.nodeAffinity.preferred: preference is required"
        if not in_range(term.get("weight"), (1, 100)):
            yield f"{where}.nodeAffinity.preferred: weight {term.get('weight')!r}"
        yield from _node_term(f"{where}.nodeAffinity.preferred", term.get("preference") or {})
    for kind in ("podAffinity", "podAntiAffinity"):
        block = affinity.get(kind) or {}
        for term in block.get("requiredDuringSchedulingIgnoredDuringExecution") or []:
            yield from _pod_term(f"{where}.{kind}.required", term)
        for weighted in block.get("preferredDuringSchedulingIgnoredDuringExecution") or []:
            if not in_range(weighted.get("weight"), (1, 100)):
                yield f"{where}.{kind}.preferred: weight {weighted.get('weight')!r}"
            yield from _pod_term(f"{where}.{kind}.preferred", weighted.get("podAffinityTerm") or {})


def _tolerations(where: str, tolerations: list[dict[str, Any]]) -> Iterator[str]:
    for toleration in tolerations:
        key, operator, value = (
            toleration.get("key") or "",
            toleration.get("operator") or "Equal",
            toleration.get("value"),
        )
        if key and not is_qualified_name(key):
            yield f"{where}: key {key!r}"
        if not key and operator != "Exists":
            yield f"{where}: empty key needs operator Exists"
        if operator == "Equal" and not is_label_value(value or ""):
            yield f"{where}: value {value!r}"
        if operator == "Exists" and value:
            yield f"{where}: Exists with a value"
        if operator not in ("Equal", "Exists"):
            yield f"{where}: operator {operator!r}"
        effect = toleration.get("effect")
        if effect not in (None, "", "NoSchedule", "PreferNoSchedule", "NoExecute"):
            yield f"{where}: effect {effect!r}"
        seconds = toleration.get("tolerationSeconds")
        if seconds is not None and (effect != "NoExecute" or not in_range(seconds, _INT64)):
            yield f"{where}: tolerationSeconds {seconds!r}"


def _runtime_defaults(predictor: dict[str, Any], namespace: str, runtimes: list[dict]) -> list[dict]:
    model = predictor.get("model") or {}
    fmt = (model.get("modelFormat") or {}).get("name")
    wanted = model.get("runtime")
    out = []
    for name, formats in BUILTIN_RUNTIME_FORMATS.items():
        if (wanted == name) if wanted else fmt in formats:
            out.append(RUNTIME_DEFAULTS)
    for runtime in runtimes:
        metadata = runtime["metadata"]
        if runtime["kind"] == "ServingRuntime" and metadata.get("namespace") != namespace:
            continue
        formats = {f.get("name") for f in runtime["spec"].get("supportedModelFormats") or []}
        if (wanted == metadata["name"]) if wanted else fmt in formats:
            out.append(runtime["spec"]["containers"][0].get("resources") or {})
    return out or [{}]


def _predictor(where: str, predictor: dict[str, Any], namespace: str, runtimes: list[dict]) -> Iterator[str]:
    for key in ("minReplicas", "maxReplicas"):
        if key in predictor and not in_range(predictor[key], (0, _INT32[1])):
            yield f"{where}.{key}: {predictor[key]!r} is not a non-negative int32"
    if "scaleTarget" in predictor and not in_range(predictor["scaleTarget"], _INT32):
        yield f"{where}.scaleTarget: {predictor['scaleTarget']!r} is not an int32"
    account = predictor.get("serviceAccountName")
    if account is not None and not is_dns_subdomain(account):
        yield f"{where}.serviceAccountName: {account!r}"
    for secret in predictor.get("imagePullSecrets") or []:
        if set(secret) != {"name"} or not is_dns_subdomain(secret["name"]):
            yield f"{where}.imagePullSecrets: {secret!r}"
    yield from _labels(f"{where}.nodeSelector", predictor.get("nodeSelector") or {})
    yield from _tolerations(f"{where}.tolerations", predictor.get("tolerations") or [])
    yield from _affinity(f"{where}.affinity", predictor.get("affinity") or {})
    for index, container in enumerate(predictor.get("containers") or []):
        if not is_dns_label(container.get("name")):
            yield f"{where}.containers[{index}].name: {container.get('name')!r}"
        yield from _container(f"{where}.containers[{index}]", container, CUSTOM_CONTAINER_DEFAULTS)
    if "model" in predictor:
        for defaults in _runtime_defaults(predictor, namespace, runtimes):
            yield from _container(f"{where}.model", predictor["model"], defaults)


def problems(objects: Iterable[dict[str, Any]]) -> list[str]:
    """Every reason a real API server (and the Deployment KServe builds) would refuse one of these objects."""
    objects = list(objects)
    out: list[str] = []
    seen: set[tuple[str, str, str | None, str]] = set()
    runtimes = [obj for obj in objects if obj.get("kind") in ("ServingRuntime", "ClusterServingRuntime")]
    for obj in objects:
        metadata = obj.get("metadata") or {}
        identity = (obj.get("apiVersion"), obj.get("kind"), metadata.get("namespace"), metadata.get("name"))
        if identity in seen:
            out.append(f"{identity}: declared twice")
        seen.add(identity)  # type: ignore[arg-type]
        out.extend(_metadata(obj))
        if obj.get("kind") in ("ServingRuntime", "ClusterServingRuntime"):
            where = f"{obj.get('kind')} {metadata.get('name')}"
            for index, container in enumerate((obj.get("spec") or {}).get("containers") or []):
                out.extend(_container(f"{where} containers[{index}]", container, {}))
        if obj.get("kind") == "InferenceService":
            spec = obj.get("spec") or {}
            namespace = metadata.get("namespace")
            out.extend(_predictor("spec.predictor", spec.get("predictor") or {}, namespace, runtimes))
            for index, canary in enumerate(spec.get("canary") or []):
                out.extend(
                    _predictor(f"spec.canary[{index}].predictor", canary.get("predictor") or {}, namespace, runtimes)
                )
    return out
