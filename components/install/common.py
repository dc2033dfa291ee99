"""Small builders the install steps share: namespaces and Helm charts rendered into per-object resources."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from config.kserve import chart_location

MANAGED_BY = {"app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "kserve-platform"}


def namespace(
    name: str,
    parent: pulumi.Resource,
    labels: Mapping[str, str] | None = None,
    depends_on: Sequence[pulumi.Resource] = (),
) -> k8s.core.v1.Namespace:
    """A namespace an install step's chart goes into (Chart v4, like `helm template`, creates none itself)."""
    return k8s.core.v1.Namespace(
        f"ns-{name}",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, labels={**MANAGED_BY, **(labels or {})}),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on)),
    )


def chart(
    resource_name: str,
    *,
    parent: pulumi.Resource,
    chart: str,
    version: str,
    namespace: str,
    values: Mapping[str, Any] | None = None,
    repository: str | None = None,
    release_name: str | None = None,
    depends_on: Sequence[pulumi.Resource] = (),
    transforms: Sequence[pulumi.ResourceTransform] = (),
) -> k8s.helm.v4.Chart:
    """A Helm chart as individual Kubernetes resources (`helm.v4.Chart`).

    `repository` is a chart source (see config.kserve.chart_location): an https:// Helm repository, an oci://
    registry path (the chart's own or a mirror) or a local directory of unpacked charts, read from disk; without
    one, `chart` is a full reference.

    Each object of the chart is its own resource in `pulumi preview` (a reviewer sees which CRD, Deployment or
    webhook changes), Pulumi waits for each to be ready, and `depends_on` on the chart is recorded, so the next
    step starts only once every object of this one is ready. `transforms` reach this chart's children only (the
    install's own transform reaches every chart; see safety.py). `protect` is the parent's (the stack's).
    """
    reference, repo = chart_location(repository, chart) if repository else chart_location(chart, None)
    return k8s.helm.v4.Chart(
        resource_name,
        chart=reference,
        version=version,
        name=release_name or resource_name,
        namespace=namespace,
        values=dict(values or {}),
        repository_opts=k8s.helm.v4.RepositoryOptsArgs(repo=repo) if repo else None,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on), transforms=list(transforms)),
    )
