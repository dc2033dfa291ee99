"""A namespace the stack's models live in, created and owned by the stack."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s


@dataclass
class ModelNamespaceArgs:
    name: str
    labels: dict[str, str] = field(default_factory=dict)


class ModelNamespace(pulumi.ComponentResource):
    def __init__(self, name: str, args: ModelNamespaceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kserve-platform:models:ModelNamespace", name, None, opts)
        self.namespace = k8s.core.v1.Namespace(
            name,
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.name,
                labels={"app.kubernetes.io/managed-by": "pulumi", **args.labels},
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.name = self.namespace.metadata.apply(lambda meta: meta.name)
        self.register_outputs({"name": self.name})
