"""Pulumi mocks that record every resource a program registers, with the options the engine would see."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime import mocks, rpc
from pulumi.runtime._callbacks import _CallbackServicer

SECRET = "[secret]"


def is_secret(value: Any) -> bool:
    return rpc.is_rpc_secret(value)


def unwrap_secrets(value: Any) -> Any:
    """Plain values, with Pulumi's secret markers removed (for assertions)."""
    if is_secret(value):
        return unwrap_secrets(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {key: unwrap_secrets(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(item) for item in value]
    return value


def redact_secrets(value: Any) -> Any:
    """Values with every Pulumi secret replaced by a placeholder (for anything written to disk)."""
    if is_secret(value):
        return SECRET
    if isinstance(value, dict):
        return {key: redact_secrets(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_secrets(item) for item in value]
    return value


@dataclass
class RegisteredResource:
    """One `RegisterResource` call: what `pulumi preview` would show for this resource."""

    urn: str
    type: str
    name: str
    custom: bool
    remote: bool
    # Inputs as registered; values that are Pulumi secrets keep their secret marker.
    raw_inputs: dict[str, Any]
    parent: str | None
    dependencies: list[str]
    protect: bool
    retain_on_delete: bool
    delete_before_replace: bool
    ignore_changes: list[str]
    # Each alias as the engine receives it: {"urn": ...} or a spec {"name", "type", "parentUrn", ...}.
    aliases: list[dict[str, Any]]
    custom_timeouts: dict[str, str]
    provider: str | None
    # How many `transforms` callbacks the registration carries (the engine runs them on this resource and
    # every descendant; mocks never call them, so tests call the transform functions directly).
    transforms: int = 0
    # The transform functions themselves, so tests can run them on what the provider registers inside a chart
    # (the engine applies a resource's own transforms, then each ancestor's).
    transform_functions: tuple[Callable[..., Any], ...] = field(default=(), compare=False, repr=False)
    # The provider plugin version the registration asks for ("" lets the engine choose the default provider's).
    version: str = ""

    @property
    def inputs(self) -> dict[str, Any]:
        return unwrap_secrets(self.raw_inputs)

    @property
    def redacted_inputs(self) -> dict[str, Any]:
        return redact_secrets(self.raw_inputs)


def _alias(alias: Any) -> dict[str, Any]:
    if alias.urn:
        return {"urn": alias.urn}
    spec = alias.spec
    out = {"name": spec.name, "type": spec.type, "stack": spec.stack, "project": spec.project}
    if spec.parentUrn:
        out["parentUrn"] = spec.parentUrn
    if spec.noParent:
        out["noParent"] = True
    return {key: value for key, value in out.items() if value}


def _transform_functions(callbacks: Any) -> tuple[Callable[..., Any], ...]:
    # The SDK registers each transform with its callback server and sends the engine only a token.
    if not callbacks:
        return ()
    by_token = {
        token: function for servicer in _CallbackServicer._servicers for function, token in servicer._transforms.items()
    }
    return tuple(by_token[callback.token] for callback in callbacks)


class EchoMocks(mocks.Mocks):
    """Resources come back with their inputs as outputs, so `.apply()` code runs as it would after `up`."""

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str, dict]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: mocks.MockCallArgs) -> tuple[dict, None]:
        return {}, None


class RecordingMonitor(mocks.MockMonitor):
    """The mock resource monitor, also keeping each registration's options (parent, dependencies, protect...)."""

    def __init__(self, mock_impl: mocks.Mocks):
        super().__init__(mock_impl)
        self.recorded: list[RegisteredResource] = []

    def RegisterResource(self, request):  # noqa: N802 - the monitor's gRPC method name
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            timeouts = request.customTimeouts
            self.recorded.append(
                RegisteredResource(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    custom=request.custom,
                    remote=request.remote,
                    raw_inputs=rpc.deserialize_properties(request.object),
                    parent=request.parent or None,
                    dependencies=list(request.dependencies),
                    protect=bool(request.protect),
                    retain_on_delete=bool(request.retainOnDelete),
                    delete_before_replace=bool(request.deleteBeforeReplace),
                    ignore_changes=list(request.ignoreChanges),
                    aliases=[_alias(alias) for alias in request.aliases],
                    custom_timeouts={
                        key: value
                        for key, value in (
                            ("create", timeouts.create),
                            ("update", timeouts.update),
                            ("delete", timeouts.delete),
                        )
                        if value
                    },
                    provider=request.provider or None,
                    transforms=len(request.transforms),
                    transform_functions=_transform_functions(request.transforms),
                    version=request.version,
                )
            )
        return response
