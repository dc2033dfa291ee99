"""cert-manager: issues the KServe webhook's serving certificate, so it must be ready before KServe."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.install.common import chart, namespace
from components.install.mirror import merged
from config.kserve import CertManagerConfig

CHART = "cert-manager"


def cert_manager_values(keep_crds: bool) -> dict[str, Any]:
    """Chart values: CRDs installed by the chart (as KServe's installer does, `crds.enabled=true`)."""
    # `keep` writes helm.sh/resource-policy: keep on the CRDs, which the provider turns into retainOnDelete: it
    # follows kserve.deleteCrdsOnUninstall like every CRD of the install (see safety.py).
    return {"crds": {"enabled": True, "keep": keep_crds}}


@dataclass
class CertManagerArgs:
    config: CertManagerConfig
    # false with kserve.deleteCrdsOnUninstall: true (removing the install then deletes cert-manager's CRDs too).
    keep_crds: bool = True
    # Values that move the chart's images to the stack's mirror (components/install/mirror.py).
    image_values: Mapping[str, Any] = field(default_factory=dict)


class CertManager(pulumi.ComponentResource):
    """The jetstack chart; ready once its controller, cainjector and webhook Deployments are Available, the webhook
    Service has endpoints and the webhook has its CA bundle."""

    def __init__(self, name: str, args: CertManagerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kserve-platform:install:CertManager", name, None, opts)
        config = args.config
        self.namespace = namespace(config.namespace, parent=self)
        self.chart = chart(
            "cert-manager",
            parent=self,
            chart=CHART,
            repository=config.chart_repository,
            version=config.version,
            namespace=config.namespace,
            values=merged(cert_manager_values(args.keep_crds), args.image_values),
            depends_on=[self.namespace],
        )
        self.version = pulumi.Output.from_input(config.version)
        self.register_outputs({"version": self.version})
