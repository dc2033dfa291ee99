"""The kserve-platform package's provider: builds the program's own components from a consumer's inputs.

A consumer in any Pulumi language registers `kserve-platform:models:InferenceService` (or a runtime, or the install)
as a remote component; the engine calls `construct` here with its inputs. Each resource's inputs are validated as the
stack file's entry they mirror (a one-entry stack through `config.stack.parse_stack_config`), so a consumer gets the
same messages a stack file gets, every problem at once, and nothing is registered on a bad input. Then the same
component class the program uses is constructed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

import pulumi
from pulumi.errors import InputPropertiesError
from pulumi.provider import ConstructResult, Provider
from pydantic import TypeAdapter, ValidationError

from components.inference_service import InferenceService, InferenceServiceArgs
from components.install import KServeInstall, KServeInstallArgs
from components.serving_runtime import ServingRuntime, ServingRuntimeArgs
from config.base import unknown_key_message
from config.errors import ConfigError, ConfigIssue
from config.kubernetes import DnsLabel
from config.stack import StackConfig, parse_stack_config
from package.resources import BY_TOKEN, INFERENCE_SERVICE, KSERVE_INSTALL, SERVING_RUNTIME, ComponentSpec
from package.schema import package_schema, package_version

# Where an input stands in the one-entry stack that validates it: issue paths under these prefixes are the
# resource's own input keys.
_ENTRY_PREFIX = re.compile(r"^(models|runtimes)\[0\](\.|$)|^kserve(\.|$)")
ROOT = "<inputs>"
UNKNOWN_INPUT = (
    "is not known yet (an output of a resource that `pulumi preview` has not created): the package validates and "
    "builds its objects from values; pass a value known at preview, e.g. a name you choose rather than a generated one"
)
SECRET_INPUT = (
    "is a secret: the package writes inputs into the object's spec, which Kubernetes and the Pulumi state keep in "
    "plaintext; keep the secret in a Kubernetes Secret and reference it (env valueFrom.secretKeyRef)"
)


class PackageInputs(dict):
    """A consumer's inputs as plain values, and the resources they came from (outputs of other resources), which the
    component's objects then depend on. Built by package/server.py from the engine's request."""

    def __init__(
        self,
        values: Mapping[str, Any],
        dependencies: list[pulumi.Resource] | None = None,
        *,
        unknown: list[str] | None = None,
        secret: list[str] | None = None,
        resources: list[str] | None = None,
    ):
        super().__init__(values)
        self.dependencies: list[pulumi.Resource] = list(dependencies or [])
        # Paths of inputs that cannot be used: unknown during preview, secret, or a resource instead of a value.
        self.unknown = list(unknown or [])
        self.secret = list(secret or [])
        self.resources = list(resources or [])

    def value_issues(self) -> list[ConfigIssue]:
        return [
            *(ConfigIssue(path, UNKNOWN_INPUT) for path in self.unknown),
            *(ConfigIssue(path, SECRET_INPUT) for path in self.secret),
            *(ConfigIssue(path, "is a resource; pass a value (e.g. one of its outputs)") for path in self.resources),
        ]


class InvalidInputs(InputPropertiesError):
    """Every problem with a resource's inputs, reported to the consumer as one message (no provider traceback)."""

    def __init__(self, component: ComponentSpec, name: str, issues: list[ConfigIssue]):
        self.issues = sorted(set(issues))
        count = len(self.issues)
        labels = sorted({issue.model for issue in self.issues if issue.model})
        about = f" ({', '.join(labels)})" if labels else ""
        # The engine prints each error under the message as `property <path> with value <value> has a problem:
        # <reason>`. (The SDK's servicer needs at least one: it fails on an InputPropertiesError without.)
        super().__init__(
            f"invalid inputs of {component.token} '{name}'{about}: {count} error{'s' if count != 1 else ''}; nothing "
            "was registered",
            [{"property_path": issue.path, "reason": issue.message} for issue in self.issues],
        )


def _relative(issue: ConfigIssue) -> ConfigIssue:
    """`models[0].storageUri` -> `storageUri`: the key as the consumer spells the input."""
    path = _ENTRY_PREFIX.sub("", issue.path, count=1) if _ENTRY_PREFIX.match(issue.path) else issue.path
    return ConfigIssue(path or ROOT, issue.message, issue.model)


def _input_key_issues(component: ComponentSpec, values: Mapping[str, Any]) -> list[ConfigIssue]:
    """Inputs the resource does not take: a stack-file-only key (with what to do instead) or an unknown one."""
    known = component.input_keys()
    issues = []
    for key in values:
        if key in component.excluded:
            issues.append(ConfigIssue(key, f"is not an input of {component.token}: it {component.excluded[key]}"))
        elif key not in known:
            issues.append(ConfigIssue(key, unknown_key_message(key, sorted(known), what="input")))
    return issues


def _existing(namespace: Any) -> list[str]:
    # The namespace is the consumer's (the package creates none); a malformed one is reported on its own key.
    try:
        return [TypeAdapter(DnsLabel).validate_python(namespace)] if namespace is not None else []
    except ValidationError:
        return []


def _stack_of(component: ComponentSpec, values: dict[str, Any]) -> dict[str, Any]:
    """The one-entry stack file whose validation is the resource's."""
    if component is INFERENCE_SERVICE:
        kserve_keys = {"deploymentMode", "extraStorageUriPrefixes"}
        kserve = {key: values[key] for key in kserve_keys if key in values}
        model = {key: value for key, value in values.items() if key not in kserve_keys}
        kserve.update(install=False, existingNamespaces=_existing(values.get("namespace")))
        return {"kserve": kserve, "models": [model]}
    if component is SERVING_RUNTIME:
        return {
            "kserve": {"install": False, "existingNamespaces": _existing(values.get("namespace"))},
            "runtimes": [values],
        }
    kserve = {key: value for key, value in values.items() if key != "mirror"}
    return {"kserve": {**kserve, "install": True}, **({"mirror": values["mirror"]} if "mirror" in values else {})}


def _without_nulls(value: Any) -> Any:
    # A null input is an unset one in Pulumi; in config a key's presence matters (e.g. protocolVersion on an image).
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


def validate(component: ComponentSpec, name: str, inputs: Mapping[str, Any]) -> StackConfig:
    """The resource's inputs as typed config, or InvalidInputs naming every problem."""
    inputs_given = _without_nulls(dict(inputs))
    issues = _input_key_issues(component, inputs_given)
    if isinstance(inputs, PackageInputs):
        issues.extend(inputs.value_issues())
    accepted = {key: value for key, value in inputs_given.items() if key in component.input_keys()}
    try:
        stack = parse_stack_config(_stack_of(component, accepted), runtimes_known=False)
    except ConfigError as error:
        issues.extend(_relative(issue) for issue in error.issues)
        stack = None
    if issues or stack is None:
        raise InvalidInputs(component, name, issues)
    return stack


def _inference_service(
    name: str, stack: StackConfig, dependencies: list[pulumi.Resource], opts: pulumi.ResourceOptions
) -> tuple[pulumi.ComponentResource, dict[str, Any]]:
    (model,) = stack.models
    args = InferenceServiceArgs(
        model=model,
        deployment_mode=stack.kserve.deployment_mode,
        readiness_timeout=stack.readiness_timeout(model),
        depends_on=dependencies,
    )
    isvc = InferenceService(name, args, opts)
    state = {
        "name": isvc.name,
        "namespace": isvc.namespace,
        "inferencePath": isvc.inference_path,
        "url": isvc.url,
        "inferenceUrl": isvc.inference_url,
    }
    return isvc, state


def _serving_runtime(
    name: str, stack: StackConfig, dependencies: list[pulumi.Resource], opts: pulumi.ResourceOptions
) -> tuple[pulumi.ComponentResource, dict[str, Any]]:
    (runtime,) = stack.runtimes
    component = ServingRuntime(name, ServingRuntimeArgs(runtime=runtime, depends_on=dependencies), opts)
    return component, {"kind": component.kind, "name": component.runtime_name}


def _kserve_install(
    name: str, stack: StackConfig, _dependencies: list[pulumi.Resource], opts: pulumi.ResourceOptions
) -> tuple[pulumi.ComponentResource, dict[str, Any]]:
    # What the resource depends on exists already (the engine constructs a component once its dependencies are done);
    # the install's objects do not record it, as in the program, where the install depends on nothing.
    install = KServeInstall(
        name, KServeInstallArgs(stack.kserve, protect=bool(opts.protect), mirror=stack.mirror), opts
    )
    return install, dict(install.summary)


Builder = Callable[
    [str, StackConfig, list[pulumi.Resource], pulumi.ResourceOptions], tuple[pulumi.ComponentResource, dict[str, Any]]
]
BUILDERS: dict[str, Builder] = {
    INFERENCE_SERVICE.token: _inference_service,
    SERVING_RUNTIME.token: _serving_runtime,
    KSERVE_INSTALL.token: _kserve_install,
}


def _kubernetes_default_provider(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
    """Kubernetes objects without a provider version, so the engine gives them the consumer's default Kubernetes
    provider, as it gives the objects that Chart v4 registers (which name no version).

    The pulumi-kubernetes SDK asks for its own version; in a consumer program that names no version (a Pulumi YAML
    program, or one without the Kubernetes SDK), that is a second provider beside the default one the charts' objects
    get, and a provider knows only the CRDs it has itself planned: the preview of the install then failed on
    kserve-resources' cert-manager Certificate (`failed to determine if the following GVK is namespaced`)."""
    if not args.type_.startswith("kubernetes:"):
        return None
    return pulumi.ResourceTransformationResult(
        args.props, pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(version=""))
    )


class KServePlatformProvider(Provider):
    def __init__(self) -> None:
        super().__init__(package_version(), json.dumps(package_schema()))

    def construct(
        self,
        name: str,
        resource_type: str,
        inputs: Mapping[str, Any],
        options: pulumi.ResourceOptions | None = None,
    ) -> ConstructResult:
        component = BY_TOKEN.get(resource_type)
        if component is None:
            raise ValueError(f"unknown resource type {resource_type!r}; this package offers {', '.join(BY_TOKEN)}")
        plain = inputs if isinstance(inputs, PackageInputs) else PackageInputs(inputs)
        stack = validate(component, name, plain)
        opts = pulumi.ResourceOptions.merge(
            options, pulumi.ResourceOptions(transformations=[_kubernetes_default_provider])
        )
        # Recorded on the component's objects, so a destroy deletes them before what they depend on.
        dependencies = [*(opts.depends_on or []), *plain.dependencies]  # type: ignore[misc]
        resource, state = BUILDERS[resource_type](name, stack, dependencies, opts)
        expected = [output.key for output in component.outputs]
        if sorted(state) != sorted(expected):
            raise AssertionError(f"{resource_type} returned outputs {sorted(state)}, its schema declares {expected}")
        return ConstructResult(urn=resource.urn, state=state)
