"""Issue 11 item 4: the install path through the real Pulumi engine and Kubernetes provider, from local chart sources.

The committed `dev` stack (it installs KServe, cert-manager and Gateway API with Envoy Gateway) previews with every
chart source pointed at the unpacked charts in ../shared (the air-gapped setting users need as well) and the Gateway
API manifest read from a local file made of ../shared's Gateway API CRDs. Chart v4 renders the real charts inside the
real provider, so the preview lists each chart child with the options the program's transforms gave it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e.cluster import ToolchainMissing, start
from e2e.pulumi_cli import PulumiError, PulumiProject
from tests.end_to_end.fixtures_cluster import require
from tests.end_to_end.stacks import (
    CERT_MANAGER_CHARTS,
    KSERVE_CHARTS,
    KSERVE_KEY,
    RENDER_DIR_KEY,
    committed_config,
    secret_test_value,
    with_local_chart_sources,
)
from tests.schemas import require_shared

STACK = "dev"
CRD_TYPE = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"
RETAIN_ANNOTATION = "helm.sh/resource-policy"
CHART_TYPE = "kubernetes:helm.sh/v4:Chart"
# The Chart v4 releases read from local directories (Envoy Gateway's controller is a helm.v3.Release: no children).
LOCAL_CHARTS = ("kserve-crd", "kserve-resources", "kserve-runtime-configs", "cert-manager", "envoy-gateway-crds")
WEBHOOK_TYPES = {
    "kubernetes:admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration",
    "kubernetes:admissionregistration.k8s.io/v1:MutatingWebhookConfiguration",
}
CA_GATE = "jsonpath={.webhooks[*].clientConfig.caBundle}"


def installing_config(tmp_path: Path) -> dict[str, Any]:
    require_shared()
    plain, _ = committed_config(STACK)
    assert plain[KSERVE_KEY].get("install", True), "the dev stack no longer installs KServe"
    return with_local_chart_sources(plain, tmp_path)


def test_preview_of_the_installing_dev_stack_from_local_charts_against_a_cluster(
    pulumi_project: Callable[..., PulumiProject], tmp_path: Path
) -> None:
    config = installing_config(tmp_path)
    _, secret_keys = committed_config(STACK)
    # A cluster of its own: the session's cluster registers KServe's webhook configurations by URL under the names
    # the chart uses, and a server-side apply of the chart's (service-based) ones over them is refused ("exactly
    # one of url or service is required"). Here they are removed first, as on a cluster KServe is not installed in.
    try:
        cluster = start(tmp_path / "cluster")
    except ToolchainMissing as missing:
        require(str(missing))
    try:
        cluster.kubectl("delete", "mutatingwebhookconfigurations,validatingwebhookconfigurations", "--all")
        project = pulumi_project(KUBECONFIG=str(cluster.kubeconfig))
        project.new_stack(STACK, config, secrets={key: secret_test_value(key) for key in secret_keys})
        preview = json.loads(project.run("preview", "--json", stack=STACK).stdout)
    finally:
        cluster.stop()
    assert_install_children(preview)


def assert_install_children(preview: dict[str, Any]) -> None:
    """The charts' children are in the plan with the program's transforms applied (dev: retained CRDs, readiness
    gates, nothing protected)."""
    steps = [step for step in preview["steps"] if step.get("newState")]
    assert all(step["op"] == "create" for step in steps), sorted({step["op"] for step in steps})
    children = [step for step in steps if CHART_TYPE in step["urn"].split("::")[2]]
    by_chart = {
        chart: [step for step in children if step["urn"].rpartition("::")[2].startswith(f"{chart}:")]
        for chart in LOCAL_CHARTS
    }
    assert all(by_chart.values()), {chart: len(found) for chart, found in by_chart.items()}
    # Each KServe CRD of the release, read from the local kserve-crd chart.
    kserve_crds = {
        step["urn"].rpartition(":")[2] for step in by_chart["kserve-crd"] if step["newState"]["type"] == CRD_TYPE
    }
    assert {"inferenceservices.serving.kserve.io", "servingruntimes.serving.kserve.io"} <= kserve_crds, kserve_crds
    # The built-in runtimes from the local kserve-runtime-configs chart.
    runtimes = [
        step
        for step in by_chart["kserve-runtime-configs"]
        if step["newState"]["type"].endswith(":ClusterServingRuntime")
    ]
    assert any(step["urn"].endswith(":kserve-mlserver") for step in runtimes), [step["urn"] for step in runtimes]

    crds = [step for step in steps if step["newState"]["type"] == CRD_TYPE]
    not_retained = [
        step["urn"].rpartition("::")[2]
        for step in crds
        if step["newState"].get("retainOnDelete") is not True
        or step["newState"]["inputs"]["metadata"].get("annotations", {}).get(RETAIN_ANNOTATION) != "keep"
    ]
    assert crds and not not_retained, not_retained
    protected = [step["urn"] for step in steps if step["newState"].get("protect")]
    assert not protected, protected
    # cert-manager injects the CA bundle of KServe's webhooks: the program makes the provider wait for it.
    webhooks = [step for step in by_chart["kserve-resources"] if step["newState"]["type"] in WEBHOOK_TYPES]
    ungated = [
        step["urn"].rpartition("::")[2]
        for step in webhooks
        if step["newState"]["inputs"]["metadata"].get("annotations", {}).get("pulumi.com/waitFor") != CA_GATE
    ]
    assert webhooks and not ungated, ungated


def test_up_of_the_installing_local_stack_renders_the_charts_to_a_directory(
    pulumi_project: Callable[..., PulumiProject], tmp_path: Path
) -> None:
    require_shared()
    plain, secret_keys = committed_config("local")
    config = copy.deepcopy(plain)
    assert RENDER_DIR_KEY in config and config[KSERVE_KEY].get("install", True), "local no longer renders the install"
    config[RENDER_DIR_KEY] = str(tmp_path / "render")
    config[KSERVE_KEY]["chartRepository"] = str(KSERVE_CHARTS)
    config[KSERVE_KEY].setdefault("certManager", {})["chartRepository"] = str(CERT_MANAGER_CHARTS)
    project = pulumi_project()
    project.new_stack("local", config, secrets={key: secret_test_value(key) for key in secret_keys})
    try:
        project.run("up", "--yes", "--skip-preview", stack="local")
    except PulumiError as failed:
        # pulumi-kubernetes' Chart v4 runs a chart's `lookup` calls against a cluster even with
        # renderYamlToDirectory, and each kserve-crd template calls `lookup` for its CRD: with no cluster the
        # render fails. Reported as expected only for that cause; anything else fails the test.
        if "error calling lookup" in str(failed) and "kserve-crd" in str(failed):
            pytest.xfail("Chart v4 in renderYamlToDirectory mode runs kserve-crd's `lookup` against a cluster")
        raise
    rendered = [yaml.safe_load(path.read_text()) for path in sorted((tmp_path / "render").glob("[01]-*/*.yaml"))]
    crds = [doc for doc in rendered if doc and doc["kind"] == "CustomResourceDefinition"]
    assert "inferenceservices.serving.kserve.io" in {doc["metadata"]["name"] for doc in crds}
    assert all(doc["metadata"].get("annotations", {}).get(RETAIN_ANNOTATION) == "keep" for doc in crds)
