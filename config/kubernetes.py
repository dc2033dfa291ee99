"""Kubernetes value types used in the stack config, validated the way the API server validates them."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from config.base import StrictModel

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_LABEL_MAX = 63
# Environment variable names the API server accepts (IsEnvVarName).
ENV_VAR_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
# Label / annotation / node-selector keys: optional DNS prefix, then a name segment.
QUALIFIED_NAME = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$")
QUANTITY = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$")
_SUFFIX = {
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}


def check_dns_label(value: str) -> str:
    if len(value) > DNS1123_LABEL_MAX or not DNS1123_LABEL.match(value):
        raise ValueError(
            f"{value!r} is not a valid Kubernetes name: use at most {DNS1123_LABEL_MAX} lower-case letters, "
            "digits and '-', starting and ending with a letter or digit"
        )
    return value


DnsLabel = Annotated[str, AfterValidator(check_dns_label)]


def parse_quantity(value: str) -> Decimal:
    """A Kubernetes quantity (`500m`, `2Gi`, `1e3`) as a number, for comparing requests with limits."""
    match = QUANTITY.match(value)
    if not match:
        raise ValueError(value)
    number, suffix = value[: match.start(3)] if match.group(3) else value, match.group(3) or ""
    try:
        if suffix[:1] in ("e", "E"):
            return Decimal(number) * (Decimal(10) ** int(suffix[1:]))
        return Decimal(number) * _SUFFIX[suffix]
    except (InvalidOperation, KeyError) as exc:  # pragma: no cover - the regex admits only known forms
        raise ValueError(value) from exc


def _check_quantity(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"must be a Kubernetes quantity such as '500m', '1', '2Gi', got {value!r}")
    text = str(value)
    if not QUANTITY.match(text):
        raise ValueError(f"{text!r} is not a Kubernetes quantity; use forms such as '500m', '2', '512Mi', '4Gi'")
    if parse_quantity(text) < 0:
        raise ValueError(f"{text!r} must not be negative")
    return text


Quantity = Annotated[str, BeforeValidator(_check_quantity)]


def _check_resource_name(value: str) -> str:
    if not QUALIFIED_NAME.match(value):
        raise ValueError(f"{value!r} is not a resource name; use e.g. cpu, memory, nvidia.com/gpu")
    return value


ResourceName = Annotated[str, AfterValidator(_check_resource_name)]
STANDARD_RESOURCES = frozenset({"cpu", "memory", "ephemeral-storage"})


def _is_extended(name: str) -> bool:
    # Extended resources (nvidia.com/gpu, amd.com/gpu, ...) are whole units and cannot be overcommitted;
    # hugepages-* and kubernetes.io/* resources are the API server's own.
    return "/" in name and name not in STANDARD_RESOURCES and not name.startswith(("kubernetes.io/", "hugepages-"))


class ResourceRequirements(StrictModel):
    """`resources` of a container: `requests` and `limits` by resource name (cpu, memory, nvidia.com/gpu...)."""

    requests: dict[ResourceName, Quantity] = Field(default_factory=dict)
    limits: dict[ResourceName, Quantity] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _requests_within_limits(self) -> ResourceRequirements:
        problems = []
        for name, request in self.requests.items():
            limit = self.limits.get(name)
            if (
                name not in STANDARD_RESOURCES
                and "/" in name
                and limit is not None
                and (parse_quantity(request) != parse_quantity(limit))
            ):
                problems.append(
                    f"requests.{name} ({request}) must equal limits.{name} ({limit}): extended resources "
                    "such as GPUs cannot be overcommitted"
                )
            elif limit is not None and parse_quantity(request) > parse_quantity(limit):
                problems.append(f"requests.{name} ({request}) must not exceed limits.{name} ({limit})")
            elif _is_extended(name) and limit is None:
                problems.append(
                    f"requests.{name} needs limits.{name} with the same value: the API server rejects an extended "
                    "resource (e.g. a GPU) that is requested without a limit"
                )
        for kind, values in (("requests", self.requests), ("limits", self.limits)):
            for name, amount in values.items():
                if _is_extended(name) and parse_quantity(amount) != parse_quantity(amount).to_integral_value():
                    problems.append(f"{kind}.{name} ({amount}) must be a whole number: GPUs cannot be shared in parts")
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


class KeyRef(StrictModel):
    name: str
    key: str
    optional: bool | None = None


class FieldRef(StrictModel):
    field_path: str
    api_version: str | None = None


class ResourceFieldRef(StrictModel):
    resource: str
    container_name: str | None = None
    divisor: Quantity | None = None


class EnvVarSource(StrictModel):
    secret_key_ref: KeyRef | None = None
    config_map_key_ref: KeyRef | None = None
    field_ref: FieldRef | None = None
    resource_field_ref: ResourceFieldRef | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> EnvVarSource:
        if len(self.model_fields_set) != 1:
            raise ValueError("valueFrom takes exactly one of secretKeyRef, configMapKeyRef, fieldRef, resourceFieldRef")
        return self


def _check_env_name(value: str) -> str:
    if not ENV_VAR_NAME.match(value):
        raise ValueError(f"{value!r} is not a valid environment variable name")
    return value


class EnvVar(StrictModel):
    """One container environment variable, spelled as in a Kubernetes container spec."""

    name: Annotated[str, AfterValidator(_check_env_name)]
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


EnvList = Annotated[list[EnvVar], BeforeValidator(_env_from_mapping), AfterValidator(_check_env_list)]


class Toleration(StrictModel):
    key: str | None = None
    operator: Literal["Exists", "Equal"] | None = None
    value: str | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None
    toleration_seconds: int | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Toleration:
        if self.operator == "Exists" and self.value:
            raise ValueError("a toleration with operator Exists must not set value")
        if self.key is None and self.operator != "Exists":
            raise ValueError("a toleration without key must use operator Exists")
        if self.toleration_seconds is not None and self.effect != "NoExecute":
            raise ValueError("tolerationSeconds applies only to effect NoExecute")
        return self

    def manifest(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True)


def _check_label_map(value: dict[str, str]) -> dict[str, str]:
    for key, item in value.items():
        if not QUALIFIED_NAME.match(key):
            raise ValueError(f"{key!r} is not a valid label key")
        if not LABEL_VALUE.match(item):
            raise ValueError(f"{item!r} (for {key}) is not a valid label value: at most 63 letters, digits, '-_.'")
    return value


LabelMap = Annotated[dict[str, str], AfterValidator(_check_label_map)]
