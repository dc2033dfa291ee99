"""Kubernetes value types used in the stack config, validated the way the API server validates them.

Each check mirrors a function of the Kubernetes sources (k8s.io/apimachinery and k8s.io/kubernetes v1.34) named in
its docstring. Patterns are applied with `fullmatch`: Go's `$` matches only at the end of the text, Python's also
before a final newline, so `re.match(r"...$")` would let `"name\\n"` through. Character classes spell out `[0-9]`
(Python's `\\d` also matches non-ASCII digits).
"""

from __future__ import annotations

import re
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, ROUND_UP, Context, Decimal, localcontext
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from config.base import StrictModel

# --- k8s.io/apimachinery/pkg/util/validation/validation.go ---------------------------------------------------------
_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_LABEL = re.compile(_DNS1123_LABEL_FMT)
DNS1123_LABEL_MAX = 63
DNS1123_SUBDOMAIN = re.compile(rf"{_DNS1123_LABEL_FMT}(\.{_DNS1123_LABEL_FMT})*")
DNS1123_SUBDOMAIN_MAX = 253
_QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
QUALIFIED_NAME_PART = re.compile(_QUALIFIED_NAME_FMT)
QUALIFIED_NAME_MAX = 63
LABEL_VALUE = re.compile(f"({_QUALIFIED_NAME_FMT})?")
LABEL_VALUE_MAX = 63
ENV_VAR_NAME = re.compile("[-._a-zA-Z][-._a-zA-Z0-9]*")
CONFIG_MAP_KEY = re.compile("[-._a-zA-Z0-9]+")
# k8s.io/apimachinery/pkg/api/validation/objectmeta.go: TotalAnnotationSizeLimitB.
TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024
# Kept free for the annotations the program (deploymentMode, waitFor, autoscalerClass) and KServe add to the same
# objects: a user's annotations may use the rest.
RESERVED_ANNOTATION_BYTES = 4096
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1


def dns1123_label_problems(value: str) -> list[str]:
    """IsDNS1123Label."""
    problems = []
    if len(value) > DNS1123_LABEL_MAX:
        problems.append(f"must be no more than {DNS1123_LABEL_MAX} characters")
    if not DNS1123_LABEL.fullmatch(value):
        problems.append(
            "must consist of lower-case letters, digits and '-', starting and ending with a letter or digit"
        )
    return problems


def dns1123_subdomain_problems(value: str) -> list[str]:
    """IsDNS1123Subdomain."""
    problems = []
    if len(value) > DNS1123_SUBDOMAIN_MAX:
        problems.append(f"must be no more than {DNS1123_SUBDOMAIN_MAX} characters")
    if not DNS1123_SUBDOMAIN.fullmatch(value):
        problems.append(
            "must consist of lower-case letters, digits, '-' and '.', starting and ending with a letter or digit"
        )
    return problems


def qualified_name_problems(value: str) -> list[str]:
    """IsQualifiedName: an optional DNS-subdomain prefix and '/', then a name of at most 63 characters."""
    parts = value.split("/")
    if len(parts) > 2:
        return ["must be a name with at most one '/' (an optional DNS prefix, e.g. 'example.com/my-name')"]
    problems = []
    name = parts[-1]
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            problems.append("the prefix before '/' must not be empty")
        else:
            problems.extend(f"the prefix before '/' {problem}" for problem in dns1123_subdomain_problems(prefix))
    if not name:
        problems.append("the name must not be empty")
    elif len(name) > QUALIFIED_NAME_MAX:
        problems.append(f"the name after any prefix must be no more than {QUALIFIED_NAME_MAX} characters")
    if name and not QUALIFIED_NAME_PART.fullmatch(name):
        problems.append(
            "the name must consist of letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
        )
    return problems


def annotation_key_problems(value: str) -> list[str]:
    """ValidateAnnotations checks each key as a qualified name, case-insensitively."""
    return qualified_name_problems(value.lower())


def label_value_problems(value: str) -> list[str]:
    """IsValidLabelValue."""
    problems = []
    if len(value) > LABEL_VALUE_MAX:
        problems.append(f"must be no more than {LABEL_VALUE_MAX} characters")
    if not LABEL_VALUE.fullmatch(value):
        problems.append(
            "must be empty or consist of letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
        )
    return problems


def env_var_name_problems(value: str) -> list[str]:
    """IsEnvVarName (with hasChDirPrefix)."""
    problems = []
    if not ENV_VAR_NAME.fullmatch(value):
        problems.append("must consist of letters, digits, '_', '-' or '.', and must not start with a digit")
    if value in (".", "..") or value.startswith(".."):
        problems.append("must not be '.' or '..' or start with '..'")
    return problems


def config_map_key_problems(value: str) -> list[str]:
    """IsConfigMapKey: a key of a Secret or ConfigMap."""
    problems = []
    if len(value) > DNS1123_SUBDOMAIN_MAX:
        problems.append(f"must be no more than {DNS1123_SUBDOMAIN_MAX} characters")
    if not CONFIG_MAP_KEY.fullmatch(value):
        problems.append("must consist of letters, digits, '-', '_' or '.'")
    if value in (".", "..") or value.startswith(".."):
        problems.append("must not be '.' or '..' or start with '..'")
    return problems


def _checker(problems_of: Any, what: str) -> Any:
    def check(value: str) -> str:
        problems = problems_of(value)
        if problems:
            raise ValueError(f"{value!r} is not {what}: {'; '.join(problems)}")
        return value

    return check


def check_dns_label(value: str) -> str:
    if dns1123_label_problems(value):
        raise ValueError(
            f"{value!r} is not a valid Kubernetes name: use at most {DNS1123_LABEL_MAX} lower-case letters, "
            "digits and '-', starting and ending with a letter or digit"
        )
    return value


check_dns_subdomain = _checker(dns1123_subdomain_problems, "a valid Kubernetes name (an RFC 1123 subdomain)")
check_qualified_name = _checker(qualified_name_problems, "a valid key (qualified name)")
check_annotation_key = _checker(annotation_key_problems, "a valid annotation key (qualified name)")
check_label_value = _checker(label_value_problems, "a valid label value")
check_config_map_key = _checker(config_map_key_problems, "a valid Secret/ConfigMap key")

# Namespaces and most names the program creates (Namespace names are RFC 1123 labels: ValidateNamespaceName).
DnsLabel = Annotated[str, AfterValidator(check_dns_label)]
# Names of Secrets, ServiceAccounts, ConfigMaps (NameIsDNSSubdomain).
DnsSubdomain = Annotated[str, AfterValidator(check_dns_subdomain)]
QualifiedName = Annotated[str, AfterValidator(check_qualified_name)]
AnnotationKey = Annotated[str, AfterValidator(check_annotation_key)]
LabelValue = Annotated[str, AfterValidator(check_label_value)]
ConfigMapKey = Annotated[str, AfterValidator(check_config_map_key)]


# Pulumi carries every number between the program, the engine and the provider as a protobuf double: integers beyond
# 2^53 arrive rounded (2^63-1 becomes 2^63, which overflows int64), so int64 fields stop at the largest exact one.
PULUMI_EXACT_INTEGER_MAX = 2**53


def _int_range(bits: int) -> Any:
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    exact = min(high, PULUMI_EXACT_INTEGER_MAX)

    def check(value: int) -> int:
        if not low <= value <= high:
            raise ValueError(
                f"{value} is out of range: Kubernetes stores this field as a {bits}-bit integer ({low} to {high})"
            )
        if abs(value) > exact:
            raise ValueError(
                f"{value} is out of range: Pulumi passes numbers as 64-bit floats, exact only up to {exact} "
                f"(a {bits}-bit field would receive {int(float(value))})"
            )
        return value

    return check


# Fields the API types declare int32 (replicas, ports, weights, scale targets) and int64 (tolerationSeconds).
Int32 = Annotated[int, AfterValidator(_int_range(32))]
Int64 = Annotated[int, AfterValidator(_int_range(64))]

# IsDomainPrefixedPath's path part (RFC 3986 path characters), as in GatewayClass.spec.controllerName.
_HTTP_PATH = re.compile(r"[A-Za-z0-9/\-._~%!$&'()*+,;=:]+")


def domain_prefixed_path_problems(value: str) -> list[str]:
    """IsDomainPrefixedPath: `<DNS subdomain>/<path>`, e.g. example.com/gateway-controller."""
    host, slash, path = value.partition("/")
    if not slash or not host or not path:
        return ["must be a domain-prefixed path (such as 'acme.io/foo')"]
    problems = [f"the domain {problem}" for problem in dns1123_subdomain_problems(host)]
    if not _HTTP_PATH.fullmatch(path):
        problems.append("the path after the domain may use only letters, digits and -._~%!$&'()*+,;=:/")
    return problems


def check_token(value: str) -> str:
    """Text that is one token (an image, a chart location, a URI prefix): no whitespace or control characters
    anywhere, so a stray newline or space is an error instead of part of the value."""
    if not value or any(ch.isspace() or not ch.isprintable() for ch in value):
        raise ValueError(f"{value!r} must be non-empty, without spaces, newlines or control characters")
    return value


DomainPrefixedPath = Annotated[str, AfterValidator(_checker(domain_prefixed_path_problems, "a domain-prefixed path"))]
Token = Annotated[str, AfterValidator(check_token)]


# --- k8s.io/apimachinery/pkg/api/resource (ParseQuantity), and the quantity pattern of KServe's CRDs -----------------
# The grammar both accept: sign, digits with an optional fraction (or a bare fraction), then one suffix: binary
# Ki..Ei, decimal n u m k M G T P E (or none), or a decimal exponent e/E with an integer. ParseQuantity alone would
# also take a number without digits ("m", "."); the CRD pattern refuses those, and a fractional exponent ("1e1.5") is
# what the pattern takes and ParseQuantity refuses: the config accepts only what both accept.
QUANTITY = re.compile(
    r"(?P<sign>[+-]?)(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?P<suffix>[KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)?"
)
_BINARY_EXPONENT = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL_EXPONENT = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
# Exact decimal arithmetic for any quantity the grammar admits.
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
_NANO = Decimal("1e-9")


def parse_quantity(value: str) -> Decimal:
    """The value the API server reads from a quantity, for comparing requests with limits.

    As ParseQuantity: values below 1n round up to 1n (away from zero), binary-suffixed values are capped at
    2^63-1. Raises ValueError for anything that is not a quantity.
    """
    match = QUANTITY.fullmatch(value)
    if not match:
        raise ValueError(f"{value!r} is not a Kubernetes quantity")
    suffix = match["suffix"] or ""
    with localcontext(_EXACT):
        number = Decimal(match["sign"] + match["number"])
        if suffix in _BINARY_EXPONENT:
            amount = number * (2 ** _BINARY_EXPONENT[suffix])
            if amount > INT64_MAX:
                amount = Decimal(INT64_MAX)
            elif amount < -INT64_MAX:
                amount = Decimal(-INT64_MAX)
        else:
            if suffix in _DECIMAL_EXPONENT:
                exponent = _DECIMAL_EXPONENT[suffix]
            else:
                exponent = int(suffix[1:])
                # ParseQuantity reads the exponent as int64 and keeps it as int32 (larger ones wrap around).
                if not -(2**31) <= exponent <= INT32_MAX:
                    raise ValueError(f"{value!r}: the exponent must be within -2147483648..2147483647")
            amount = number.scaleb(exponent)
        if amount != 0 and amount.as_tuple().exponent < -9:  # type: ignore[operator]
            amount = amount.quantize(_NANO, rounding=ROUND_UP)
    return amount


def quantity_problem(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return f"must be a Kubernetes quantity such as '500m', '1', '2Gi', got {value!r}"
    text = str(value)
    try:
        amount = parse_quantity(text)
    except ValueError as error:
        if QUANTITY.fullmatch(text):
            return str(error)
        return (
            f"{text!r} is not a Kubernetes quantity: a number with at most one suffix, binary Ki Mi Gi Ti Pi Ei, "
            "decimal n u m k M G T P E, or an exponent such as e3 (e.g. '500m', '2', '512Mi', '4Gi', '1e3')"
        )
    if amount < 0:
        return f"{text!r} must not be negative"
    return None


def _check_quantity(value: Any) -> str:
    problem = quantity_problem(value)
    if problem:
        raise ValueError(problem)
    return str(value)


Quantity = Annotated[str, BeforeValidator(_check_quantity)]


# --- k8s.io/kubernetes/pkg/apis/core/validation: container resources -------------------------------------------------
# validateContainerResourceName: names without '/' must be one of these (or hugepages-<size>); others must be
# fully qualified (`nvidia.com/gpu`), and a name outside *kubernetes.io/ is an extended resource.
STANDARD_CONTAINER_RESOURCES = frozenset({"cpu", "memory", "ephemeral-storage"})
HUGEPAGES_PREFIX = "hugepages-"
# Quantity.MilliValue() of an extended resource must fit an int64 for the API server's whole-number check.
EXTENDED_RESOURCE_MAX = INT64_MAX // 1000


def is_native_resource(name: str) -> bool:
    """IsNativeResource: unprefixed names and *kubernetes.io/ names belong to Kubernetes itself."""
    return "/" not in name or "kubernetes.io/" in name


def is_hugepages(name: str) -> bool:
    return name.startswith(HUGEPAGES_PREFIX)


def is_extended_resource(name: str) -> bool:
    """IsExtendedResourceName: outside *kubernetes.io/, not `requests.`-prefixed, a qualified name as a quota key."""
    return (
        not is_native_resource(name)
        and not name.startswith("requests.")
        and not qualified_name_problems(f"requests.{name}")
    )


def overcommit_allowed(name: str) -> bool:
    """IsOvercommitAllowed: requests may be below limits only for native, non-hugepages resources."""
    return is_native_resource(name) and not is_hugepages(name)


def resource_name_problems(name: str) -> list[str]:
    """validateContainerResourceName."""
    problems = qualified_name_problems(name)
    if problems:
        return problems
    if "/" not in name:
        if name not in STANDARD_CONTAINER_RESOURCES and not is_hugepages(name):
            return [
                "must be cpu, memory, ephemeral-storage, hugepages-<size>, or fully qualified with a domain "
                "(e.g. nvidia.com/gpu, not gpu)"
            ]
    elif not is_native_resource(name) and not is_extended_resource(name):
        return ["does not follow the extended resource name standard (<domain>/<name>, e.g. nvidia.com/gpu)"]
    return []


def _check_resource_name(value: str) -> str:
    problems = resource_name_problems(value)
    if problems:
        raise ValueError(f"{value!r} is not a container resource name: {'; '.join(problems)}")
    return value


ResourceName = Annotated[str, AfterValidator(_check_resource_name)]


def _hugepage_problem(name: str, amount: Decimal) -> str | None:
    """validateResourceQuantityHugePageValue: a whole multiple of the page size the name carries."""
    try:
        page = parse_quantity(name[len(HUGEPAGES_PREFIX) :])
    except ValueError:
        return f"{name}: '{name[len(HUGEPAGES_PREFIX) :]}' is not a page size (e.g. hugepages-2Mi)"
    if page <= 0 or page != page.to_integral_value():
        return f"{name}: the page size must be a positive whole number of bytes"
    whole = amount.to_integral_value(rounding=ROUND_UP)
    if whole % page != 0:
        return f"{name}: the amount must be a whole multiple of the page size"
    return None


def resource_requirements_problems(requests: dict[str, str], limits: dict[str, str]) -> list[str]:
    """validateResourceRequirements + ValidateResourceQuantityValue for one container (names already valid)."""
    problems = []
    for kind, values in (("requests", requests), ("limits", limits)):
        for name, text in values.items():
            amount = parse_quantity(text)
            if is_extended_resource(name) and (amount != amount.to_integral_value() or amount > EXTENDED_RESOURCE_MAX):
                problems.append(
                    f"{kind}.{name} ({text}) must be a whole number (at most {EXTENDED_RESOURCE_MAX}): extended "
                    "resources such as GPUs cannot be shared in parts"
                )
            if is_hugepages(name):
                problem = _hugepage_problem(name, amount)
                if problem:
                    problems.append(f"{kind}.{problem}")
    for name, request in requests.items():
        limit = limits.get(name)
        if limit is None:
            if not overcommit_allowed(name):
                problems.append(
                    f"requests.{name} needs limits.{name} with the same value: the API server rejects a resource "
                    "that cannot be overcommitted (a GPU, hugepages) requested without a limit"
                )
        elif not overcommit_allowed(name) and parse_quantity(request) != parse_quantity(limit):
            problems.append(
                f"requests.{name} ({request}) must equal limits.{name} ({limit}): extended resources such as GPUs "
                "cannot be overcommitted"
            )
        elif parse_quantity(request) > parse_quantity(limit):
            problems.append(f"requests.{name} ({request}) must not exceed limits.{name} ({limit})")
    names = set(requests) | set(limits)
    if any(is_hugepages(name) for name in names) and not names & {"cpu", "memory"}:
        problems.append("hugepages need a cpu or memory request or limit as well (the API server requires one)")
    return problems


class ResourceRequirements(StrictModel):
    """`resources` of a container: `requests` and `limits` by resource name (cpu, memory, nvidia.com/gpu...)."""

    requests: dict[ResourceName, Quantity] = Field(default_factory=dict)
    limits: dict[ResourceName, Quantity] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _valid_for_the_api_server(self) -> ResourceRequirements:
        problems = resource_requirements_problems(self.requests, self.limits)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def manifest(self) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        if self.requests:
            out["requests"] = dict(self.requests)
        if self.limits:
            out["limits"] = dict(self.limits)
        return out


# --- env: ValidateEnv, validateEnvVarValueFrom -----------------------------------------------------------------------
# validEnvDownwardAPIFieldPathExpressions, and metadata.labels['<key>'] / metadata.annotations['<key>'].
FIELD_REF_PATHS = frozenset(
    {
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
)
_SUBSCRIPTED_FIELD_PATH = re.compile(r"(?P<path>metadata\.labels|metadata\.annotations)\['(?P<key>[^']*)'\]")
# validContainerResourceFieldPathExpressions (+ the hugepages prefixes).
RESOURCE_FIELD_REFS = frozenset(
    {
        "limits.cpu",
        "limits.memory",
        "limits.ephemeral-storage",
        "requests.cpu",
        "requests.memory",
        "requests.ephemeral-storage",
    }
)
_BYTE_DIVISORS = frozenset({"1", "1k", "1M", "1G", "1T", "1P", "1E", "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei"})


class KeyRef(StrictModel):
    """secretKeyRef / configMapKeyRef (validateSecretKeySelector, validateConfigMapKeySelector)."""

    name: DnsSubdomain
    key: ConfigMapKey
    optional: bool | None = None


def _check_field_path(value: str) -> str:
    """validateObjectFieldSelector."""
    subscripted = _SUBSCRIPTED_FIELD_PATH.fullmatch(value)
    if subscripted:
        key = subscripted["key"]
        problems = qualified_name_problems(key.lower() if subscripted["path"] == "metadata.annotations" else key)
        if problems:
            raise ValueError(f"{value!r}: the key in brackets {'; '.join(problems)}")
        return value
    if value not in FIELD_REF_PATHS:
        raise ValueError(
            f"{value!r} is not a field the downward API exposes as env: use one of {', '.join(sorted(FIELD_REF_PATHS))}"
            ", metadata.labels['<key>'] or metadata.annotations['<key>']"
        )
    return value


class FieldRef(StrictModel):
    field_path: Annotated[str, AfterValidator(_check_field_path)]
    api_version: Literal["v1"] | None = None


class ResourceFieldRef(StrictModel):
    """validateContainerResourceFieldSelector + validateContainerResourceDivisor."""

    resource: str
    container_name: DnsLabel | None = None
    divisor: Quantity | None = None

    @model_validator(mode="after")
    def _known_resource_and_divisor(self) -> ResourceFieldRef:
        resource = self.resource
        hugepages = resource.startswith(("requests.hugepages-", "limits.hugepages-")) and not quantity_problem(
            resource.partition("hugepages-")[2]
        )
        if resource not in RESOURCE_FIELD_REFS and not hugepages:
            raise ValueError(
                f"resource {resource!r} is not one the downward API exposes: use one of "
                f"{', '.join(sorted(RESOURCE_FIELD_REFS))} or requests./limits.hugepages-<size>"
            )
        if self.divisor is not None:
            allowed = {"1m", "1"} if resource.endswith(".cpu") else _BYTE_DIVISORS
            if self.divisor not in allowed:
                raise ValueError(f"divisor {self.divisor!r} for {resource}: use one of {', '.join(sorted(allowed))}")
        return self


class EnvVarSource(StrictModel):
    secret_key_ref: KeyRef | None = None
    config_map_key_ref: KeyRef | None = None
    field_ref: FieldRef | None = None
    resource_field_ref: ResourceFieldRef | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> EnvVarSource:
        given = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("valueFrom takes exactly one of secretKeyRef, configMapKeyRef, fieldRef, resourceFieldRef")
        return self


def _check_env_name(value: str) -> str:
    problems = env_var_name_problems(value)
    if problems:
        raise ValueError(f"{value!r} is not a valid environment variable name: {'; '.join(problems)}")
    return value


EnvName = Annotated[str, AfterValidator(_check_env_name)]


class EnvVar(StrictModel):
    """One container environment variable, spelled as in a Kubernetes container spec."""

    name: EnvName
    value: str | None = None
    value_from: EnvVarSource | None = None

    @model_validator(mode="after")
    def _value_or_source(self) -> EnvVar:
        if self.value is not None and self.value_from is not None:
            raise ValueError(f"env {self.name}: set value or valueFrom, not both")
        return self

    def manifest(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.value_from is not None:
            out["valueFrom"] = self.value_from.model_dump(by_alias=True, exclude_none=True)
        else:
            out["value"] = self.value if self.value is not None else ""
        return out


def _env_from_mapping(value: Any) -> Any:
    # Users may write env as a mapping (NAME: value), the short form, or as the Kubernetes list form.
    if isinstance(value, dict):
        return [
            {"name": str(key), "value": item if isinstance(item, str) or item is None else _scalar_text(item)}
            for key, item in value.items()
        ]
    if isinstance(value, list):
        return [
            {**item, "value": _scalar_text(item["value"])}
            if isinstance(item, dict) and isinstance(item.get("value"), (int, float, bool))
            else item
            for item in value
        ]
    return value


def _scalar_text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


# KServe's webhook rejects these in every container it admits.
BLOCKED_ENV = frozenset({"PYTHONPATH"})


def _check_env_list(value: list[EnvVar]) -> list[EnvVar]:
    seen: set[str] = set()
    for var in value:
        if var.name in BLOCKED_ENV:
            raise ValueError(f"{var.name} may not be set: KServe's webhook rejects it in every container")
        if var.name in seen:
            raise ValueError(f"{var.name} is set twice")
        seen.add(var.name)
    return value


EnvList = Annotated[
    list[EnvVar],
    # The JSON Schema (editors) offers both forms the validator accepts.
    BeforeValidator(
        _env_from_mapping, json_schema_input_type=list[EnvVar] | dict[str, str | int | float | bool | None]
    ),
    AfterValidator(_check_env_list),
]


class Toleration(StrictModel):
    """One pod toleration (ValidateTolerations)."""

    # Empty matches every key (with operator Exists); ValidateTolerations checks only a non-empty key.
    key: Annotated[str, AfterValidator(lambda value: value and check_qualified_name(value))] | None = None
    operator: Literal["Exists", "Equal"] | None = None
    value: LabelValue | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None
    toleration_seconds: Int64 | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Toleration:
        if self.operator == "Exists" and self.value:
            raise ValueError("a toleration with operator Exists must not set value")
        if not self.key and self.operator != "Exists":
            raise ValueError("a toleration without key must use operator Exists")
        if self.toleration_seconds is not None and self.effect != "NoExecute":
            raise ValueError("tolerationSeconds applies only to effect NoExecute")
        return self

    def manifest(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True)


def label_map_problems(value: dict[str, str]) -> list[str]:
    """ValidateLabels (metav1 validation): qualified-name keys, label values."""
    problems = []
    for key, item in value.items():
        for problem in qualified_name_problems(key):
            problems.append(f"{key!r} is not a valid label key: {problem}")
        for problem in label_value_problems(item):
            problems.append(f"{item!r} (for {key}) is not a valid label value: {problem}")
    return problems


def _check_label_map(value: dict[str, str]) -> dict[str, str]:
    problems = label_map_problems(value)
    if problems:
        raise ValueError("; ".join(problems))
    return value


def annotation_size(value: dict[str, str]) -> int:
    """ValidateAnnotationsSize counts the bytes of every key and value."""
    return sum(len(key.encode()) + len(item.encode()) for key, item in value.items())


def annotation_map_problems(value: dict[str, str], limit: int = TOTAL_ANNOTATION_SIZE_LIMIT) -> list[str]:
    """ValidateAnnotations (apimachinery api/validation): keys are qualified names (case-insensitive), all keys and
    values together at most 256 KiB."""
    problems = []
    for key in value:
        for problem in annotation_key_problems(key):
            problems.append(f"{key!r} is not a valid annotation key: {problem}")
    size = annotation_size(value)
    if size > limit:
        problems.append(f"annotations take {size} bytes in total; at most {limit} are allowed")
    return problems


def _check_annotation_map(value: dict[str, str]) -> dict[str, str]:
    limit = TOTAL_ANNOTATION_SIZE_LIMIT - RESERVED_ANNOTATION_BYTES
    problems = annotation_map_problems(value, limit)
    if problems:
        raise ValueError(
            "; ".join(problems)
            + (
                f" ({RESERVED_ANNOTATION_BYTES} of the API server's {TOTAL_ANNOTATION_SIZE_LIMIT} bytes are kept for "
                "the annotations the program and KServe add)"
                if annotation_size(value) > limit
                else ""
            )
        )
    return value


LabelMap = Annotated[dict[str, str], AfterValidator(_check_label_map)]
AnnotationMap = Annotated[dict[str, str], AfterValidator(_check_annotation_map)]
