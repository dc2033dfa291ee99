"""Run the policy pack's policies on a recorded program run, as the Pulumi engine would hand resources to them.

Arguments are built with pulumi_policy's own classes (`ResourceValidationArgs`, `PolicyResourceOptions`,
`PolicyResource`, `StackValidationArgs`) from each `RegisteredResource`, and enforcement levels and settings are
resolved from `policy/config/<stack>.json` the way the SDK resolves a `--policy-pack-config` file: a per-policy
entry beats `all`, which beats the policy's own level, which beats the pack's default.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pytest
from google.protobuf import json_format, struct_pb2
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import unknown_checking_proxy

from config.stack import PROJECT
from offline import charts
from offline.program import ProgramRun
from offline.recorder import RegisteredResource
from policy.policies import DEFAULT_ENFORCEMENT, POLICIES

POLICY_DIR = Path(__file__).resolve().parent.parent / "policy"
Policy = ResourceValidationPolicy | StackValidationPolicy


@dataclass(frozen=True)
class Violation:
    policy: str
    level: EnforcementLevel
    urn: str | None
    message: str


def policy_config(stack: str) -> dict[str, Any]:
    return json.loads((POLICY_DIR / "config" / f"{stack}.json").read_text(encoding="utf-8"))


def _entry(policy: Policy, config: dict[str, Any]) -> tuple[EnforcementLevel | None, dict[str, Any]]:
    entry = config.get(policy.name)
    if isinstance(entry, str):
        return EnforcementLevel(entry), {}
    if isinstance(entry, dict):
        level = entry.get("enforcementLevel")
        return (EnforcementLevel(level) if level else None), {k: v for k, v in entry.items() if k != "enforcementLevel"}
    return None, {}


def enforcement(policy: Policy, config: dict[str, Any]) -> EnforcementLevel:
    level, _ = _entry(policy, config)
    if level is not None:
        return level
    everything = config.get("all")
    if isinstance(everything, dict):
        everything = everything.get("enforcementLevel")
    if everything:
        return EnforcementLevel(everything)
    return policy.enforcement_level or DEFAULT_ENFORCEMENT


def properties(policy: Policy, config: dict[str, Any]) -> dict[str, Any]:
    """The policy's settings: its schema's defaults, overlaid by the config file's entry."""
    schema = policy.config_schema.properties if policy.config_schema else {}
    values = {key: spec["default"] for key, spec in schema.items() if "default" in spec}
    unknown = set(_entry(policy, config)[1]) - set(schema)
    if unknown:
        raise ValueError(f"policy config for {policy.name} sets {sorted(unknown)}, which its schema does not declare")
    values.update(_entry(policy, config)[1])
    return values


def resource_options(resource: RegisteredResource) -> PolicyResourceOptions:
    timeouts = PolicyCustomTimeouts(0, 0, 0)  # the engine reports seconds; the program sets none a policy reads
    return PolicyResourceOptions(
        protect=resource.protect,
        ignore_changes=list(resource.ignore_changes),
        delete_before_replace=resource.delete_before_replace or None,
        aliases=list(resource.aliases),
        custom_timeouts=timeouts,
        additional_secret_outputs=[],
        parent=resource.parent,
    )


def as_the_engine_hands_them(inputs: dict[str, Any]) -> Any:
    """A resource's inputs as pulumi_policy's analyzer server hands them to a policy: sent by the engine as a
    protobuf Struct (every number a float), read back with the SDK's own deserializer and wrapped in its
    unknown-checking proxies, so every list is a `Sequence` and every map a `Mapping`, never a `list` or `dict`."""
    struct = struct_pb2.Struct()
    struct.update(inputs)
    return unknown_checking_proxy(deserialize_properties(json_format.MessageToDict(struct)))


def resource_args(resource: RegisteredResource, settings: dict[str, Any] | None = None) -> ResourceValidationArgs:
    return ResourceValidationArgs(
        resource.type,
        as_the_engine_hands_them(resource.inputs),
        resource.urn,
        resource.name,
        resource_options(resource),
        None,
        settings or {},
    )


def stack_args(resources: list[RegisteredResource], settings: dict[str, Any] | None = None) -> StackValidationArgs:
    by_urn: dict[str, PolicyResource] = {}
    for resource in resources:
        by_urn[resource.urn] = PolicyResource(
            resource.type, resource.inputs, resource.urn, resource.name, resource_options(resource), None, None, [], {}
        )
    for resource in resources:
        policy_resource = by_urn[resource.urn]
        policy_resource.parent = by_urn.get(resource.parent or "")
        policy_resource.dependencies = [by_urn[urn] for urn in resource.dependencies if urn in by_urn]
    return StackValidationArgs(list(by_urn.values()), settings or {})


def run_policy(policy: Policy, resources: list[RegisteredResource], settings: dict[str, Any] | None = None):
    """Messages (and URNs) one policy reports for these resources, whatever its enforcement level."""
    reported: list[tuple[str | None, str]] = []
    if isinstance(policy, StackValidationPolicy):
        policy.validate(stack_args(resources, settings), lambda message, urn=None: reported.append((urn, message)))
        return reported
    for resource in resources:
        policy.validate(
            resource_args(resource, settings),
            lambda message, urn=None, resource=resource: reported.append((resource.urn, message)),
        )
    return reported


def evaluate(
    run: ProgramRun, config: dict[str, Any], resources: list[RegisteredResource] | None = None
) -> list[Violation]:
    """Every violation the pack reports for a run under a stack's policy config (disabled policies skipped), on the
    program's own registrations or on `resources` (e.g. `engine_registrations(run)`)."""
    violations = []
    for policy in POLICIES:
        level = enforcement(policy, config)
        if level == EnforcementLevel.DISABLED:
            continue
        for urn, message in run_policy(
            policy, run.resources if resources is None else resources, properties(policy, config)
        ):
            violations.append(Violation(policy.name, level, urn, message))
    return violations


# --- what the engine registers beyond the program's own calls -------------------------------------------------------

ROOT_STACK_TYPE = "pulumi:pulumi:Stack"


def require_rendering() -> None:
    """Skip (outside CI) or fail (CI=true) when the charts in ../shared or the pinned helm are not available."""
    try:
        if not charts.SHARED_DIR.is_dir():
            raise charts.HelmUnavailable(
                f"the chart sources are not at {charts.SHARED_DIR} (../shared beside the checkout)"
            )
        charts.helm_binary()
    except charts.HelmUnavailable as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must render the real charts: {error}")
        pytest.skip(f"cannot render the real charts: {error}")


RETAIN_ANNOTATION = "helm.sh/resource-policy"


def synthetic_resource(
    urn: str, type_: str, name: str, inputs: dict[str, Any], *, custom: bool = True, protect: bool = False
) -> RegisteredResource:
    """A registration the recorder never sees (the root stack) or a hand-made one, with no other options set."""
    return RegisteredResource(
        urn=urn,
        type=type_,
        name=name,
        custom=custom,
        remote=False,
        raw_inputs=inputs,
        parent=None,
        dependencies=[],
        protect=protect,
        retain_on_delete=False,
        delete_before_replace=False,
        ignore_changes=[],
        aliases=[],
        custom_timeouts={},
        provider=None,
    )


def root_stack(run: ProgramRun) -> RegisteredResource:
    """The root `pulumi:pulumi:Stack` resource: the engine registers it and runs analyzers on it like any other
    (the recorder leaves it out)."""
    name = f"{PROJECT}-{run.stack}"
    urn = f"urn:pulumi:{run.stack}::{PROJECT}::{ROOT_STACK_TYPE}::{name}"
    return synthetic_resource(urn, ROOT_STACK_TYPE, name, {}, custom=False)


def _inherited(run_by_urn: dict[str, RegisteredResource], parent: RegisteredResource):
    """(protect, transforms) a child of `parent` gets: protect is inherited, transforms run nearest first."""
    protect, transforms = parent.protect, []
    node: RegisteredResource | None = parent
    while node is not None:
        transforms.extend(node.transform_functions)
        node = run_by_urn.get(node.parent or "")
    return protect, transforms


def chart_children(run: ProgramRun, without: frozenset[str] = frozenset()) -> list[RegisteredResource]:
    """Every object the provider registers for the run's Chart v4 resources, as the engine hands it on: the
    chart rendered with the program's values (hooks skipped, as Chart v4 does), retainOnDelete from
    `helm.sh/resource-policy: keep` (the provider's mapping), protect inherited from the chart, then every
    transform of the chart and its ancestors applied. A `helm.v3.Release` has no children the engine sees."""
    by_urn = run.by_urn()
    children = []
    for install in charts.chart_installs(run.resources):
        # `without`: charts (by name) whose source ../shared does not hold (the Knative operator's).
        if install.type != charts.CHART_V4 or install.name in without:
            continue
        chart = next(r for r in run.resources if r.type == install.type and r.name == install.resource_name)
        protect, transforms = _inherited(by_urn, chart)
        for obj in charts.render_install(install).objects:
            type_token, name = charts.resource_type(obj), charts.child_name(install, obj)
            annotations = (obj.get("metadata") or {}).get("annotations") or {}
            opts = pulumi.ResourceOptions(
                protect=protect, retain_on_delete=annotations.get(RETAIN_ANNOTATION) == "keep" or None
            )
            props: dict[str, Any] = obj
            for transform in transforms:
                result = transform(pulumi.ResourceTransformArgs(True, type_token, name, props, opts))
                if result is not None:
                    props, opts = dict(result.props), result.opts
            children.append(
                RegisteredResource(
                    urn=f"{chart.urn.rsplit('::', 1)[0]}${type_token}::{name}",
                    type=type_token,
                    name=name,
                    custom=True,
                    remote=False,
                    raw_inputs=props,
                    parent=chart.urn,
                    dependencies=[],
                    protect=bool(opts.protect),
                    retain_on_delete=bool(opts.retain_on_delete),
                    delete_before_replace=False,
                    ignore_changes=list(opts.ignore_changes or []),
                    aliases=[],
                    custom_timeouts={},
                    provider=None,
                )
            )
    return children


def engine_registrations(run: ProgramRun, without: frozenset[str] = frozenset()) -> list[RegisteredResource]:
    """What the engine runs the policy pack on: the root stack, the program's registrations, every chart child."""
    return [root_stack(run), *run.resources, *chart_children(run, without)]
