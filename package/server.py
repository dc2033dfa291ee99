"""The provider's gRPC server: `pulumi.provider.main`, with the consumer's inputs resolved to plain values first.

The components build Kubernetes objects from typed config, so they need values, not Pulumi outputs. The SDK's
servicer hands `construct` an input that came from another resource (or is secret) wrapped as an Output; here each
such input is awaited (`construct` itself is synchronous) and the resources it came from are kept, so the
component's objects depend on them. An input whose value is unknown (during `pulumi preview`, an output of a resource
not created yet) or secret cannot be validated or written into an object's spec: it is reported as an invalid input
of the resource (package/provider.py), never passed on.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from typing import Any

import grpc.aio
import pulumi
from pulumi.output import Unknown
from pulumi.provider.server import ProviderServicer
from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
from pulumi.runtime.proto import provider_pb2_grpc

from config.errors import format_path
from package.provider import KServePlatformProvider, PackageInputs


class _Resolution:
    def __init__(self) -> None:
        self.dependencies: list[pulumi.Resource] = []
        self.unknown: list[str] = []
        self.secret: list[str] = []
        self.resources: list[str] = []

    async def value(self, value: Any, path: tuple[str | int, ...]) -> Any:
        if isinstance(value, pulumi.Output):
            if await value.is_secret():
                self.secret.append(format_path(path))
            self.dependencies.extend(await value.resources())
            if not await value.is_known():
                self.unknown.append(format_path(path))
                return None
            value = await value.future(with_unknowns=True)
        if isinstance(value, Unknown):
            self.unknown.append(format_path(path))
            return None
        if isinstance(value, pulumi.Resource):
            self.resources.append(format_path(path))
            return None
        if isinstance(value, dict):
            return {key: await self.value(item, (*path, key)) for key, item in value.items()}
        if isinstance(value, list):
            return [await self.value(item, (*path, index)) for index, item in enumerate(value)]
        return value


class PlainInputsServicer(ProviderServicer):
    """The SDK's servicer, with `construct` getting PackageInputs (plain values and their dependencies)."""

    @staticmethod
    async def _construct_inputs(inputs: Any, input_dependencies: Any) -> dict[str, Any]:
        selected = await ProviderServicer._construct_inputs(inputs, input_dependencies)
        resolution = _Resolution()
        values = {key: await resolution.value(value, (key,)) for key, value in selected.items()}
        return PackageInputs(
            values,
            resolution.dependencies,
            unknown=resolution.unknown,
            secret=resolution.secret,
            resources=resolution.resources,
        )


def serve(provider: pulumi.provider.Provider, args: list[str]) -> None:
    """`pulumi.provider.main` with PlainInputsServicer: listen on a loopback port and print it for the engine."""
    parser = argparse.ArgumentParser(description="kserve-platform Pulumi provider (gRPC server)")
    parser.add_argument("engine", help="Pulumi engine address")
    known, _ = parser.parse_known_args(args)

    async def run() -> None:
        server = grpc.aio.server(options=_GRPC_CHANNEL_OPTIONS)
        servicer = PlainInputsServicer(provider, args, engine_address=known.engine)
        provider_pb2_grpc.add_ResourceProviderServicer_to_server(servicer, server)
        port = server.add_insecure_port(address="127.0.0.1:0")
        await server.start()
        sys.stdout.buffer.write(f"{port}\n".encode())
        sys.stdout.buffer.flush()
        await server.wait_for_termination()

    # The engine stops the provider with a signal at the end of a run: not an error.
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


def main() -> None:
    serve(KServePlatformProvider(), sys.argv[1:])
