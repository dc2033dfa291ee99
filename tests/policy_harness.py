"""Run the policy pack's policies on a recorded program run, as the Pulumi engine would hand resources to them.

Arguments are built with pulumi_policy's own classes (`ResourceValidationArgs`, `PolicyResourceOptions`,
`PolicyResource`, `StackValidationArgs`) from each `RegisteredResource`, and enforcement levels and settings are
resolved from `policy/config/<stack>.json` the way the SDK resolves a `--policy-pack-config` file: a per-policy
entry beats `all`, which beats the policy's own level, which beats the pack's default.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def resource_args(resource: RegisteredResource, settings: dict[str, Any] | None = None) -> ResourceValidationArgs:
    return ResourceValidationArgs(
        resource.type, resource.inputs, resource.urn, resource.name, resource_options(resource), None, settings or {}
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


def evaluate(run: ProgramRun, config: dict[str, Any]) -> list[Violation]:
    """Every violation the pack reports for a run under a stack's policy config (disabled policies skipped)."""
    violations = []
    for policy in POLICIES:
        level = enforcement(policy, config)
        if level == EnforcementLevel.DISABLED:
            continue
        for urn, message in run_policy(policy, run.resources, properties(policy, config)):
            violations.append(Violation(policy.name, level, urn, message))
    return violations
