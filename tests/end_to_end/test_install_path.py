"""Issue 11 item 4: the install path through the real Pulumi engine and Kubernetes provider, from local chart sources.

The committed `dev` stack (it installs KServe, cert-manager and Gateway API with Envoy Gateway) previews with every
chart source pointed at the unpacked charts in ../shared (the air-gapped setting users need as well) and the Gateway
API manifest read from a local file made of ../shared's Gateway API CRDs. Chart v4 renders the real charts inside the
real provider, so the preview lists each chart child with the options the program's transforms gave it. A targeted
`pulumi up` of the CRDs and the CA-injected webhook configurations then records those options in the state, where
they are read back, and `pulumi destroy` shows what retention means on the cluster.
"""

from __future__ import annotations

import base64
import copy
import json
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.kserve import duration_seconds
from e2e.cluster import Cluster
from e2e.pulumi_cli import PROJECT_DIR, PulumiProject, PulumiToolchain
from offline.stackconfig import load_stack_config
from tests.end_to_end.stacks import (
    CERT_MANAGER_CHARTS,
    KSERVE_CHARTS,
    KSERVE_KEY,
    PROJECT,
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
WAIT_FOR = "pulumi.com/waitFor"
CA_GATE = "jsonpath={.webhooks[*].clientConfig.caBundle}"
# How long `pulumi up` must keep waiting for a webhook's CA bundle before the test injects one.
CA_HOLD_SECONDS = 10


def installing_config(tmp_path: Path) -> dict[str, Any]:
    require_shared()
    plain, _ = committed_config(STACK)
    assert plain[KSERVE_KEY].get("install", True), "the dev stack no longer installs KServe"
    return with_local_chart_sources(plain, tmp_path)


@dataclass
class InstallingStack:
    """An installing form of the dev stack, previewed against the module's cluster."""

    cluster: Cluster
    project: PulumiProject
    preview: dict[str, Any]

    def planned(self) -> dict[str, dict[str, Any]]:
        """Each resource the preview plans, by URN: its planned state (type, parent, dependencies, inputs)."""
        return {step["urn"]: step["newState"] for step in self.preview["steps"] if step.get("newState")}

    def urns_of(self, wanted: Callable[[dict[str, Any]], bool]) -> list[str]:
        return sorted(urn for urn, state in self.planned().items() if wanted(state))

    def targets(self, urns: list[str]) -> list[str]:
        """`--target` arguments for `urns` and what they need registered first: their parents (the charts and
        components) and their dependencies. The engine refuses a target whose parent is not targeted."""
        planned = self.planned()
        chosen, todo = set(urns), list(urns)
        while todo:
            state = planned[todo.pop()]
            needed = [state.get("parent"), *(state.get("dependencies") or [])]
            needed += [urn for urns in (state.get("propertyDependencies") or {}).values() for urn in urns]
            for urn in needed:
                if urn and urn in planned and urn not in chosen:
                    chosen.add(urn)
                    todo.append(urn)
        return [argument for urn in sorted(chosen) for argument in ("--target", urn)]

    def state(self) -> dict[str, dict[str, Any]]:
        exported = json.loads(self.project.run("stack", "export", stack=STACK).stdout)
        return {resource["urn"]: resource for resource in exported["deployment"].get("resources") or []}


def previewed(cluster: Cluster, toolchain: PulumiToolchain, root: Path, config: dict[str, Any]) -> InstallingStack:
    _, secret_keys = committed_config(STACK)
    project = PulumiProject.copy_of(
        PROJECT_DIR, root / "project", toolchain, state_dir=root / "state", KUBECONFIG=str(cluster.kubeconfig)
    )
    project.new_stack(STACK, config, secrets={key: secret_test_value(key) for key in secret_keys})
    preview = json.loads(project.run("preview", "--json", stack=STACK).stdout)
    return InstallingStack(cluster=cluster, project=project, preview=preview)


@pytest.fixture(scope="module")
def installing_dev(
    cluster_without_kserve_webhooks: Cluster,
    pulumi_toolchain: PulumiToolchain,
    tmp_path_factory: pytest.TempPathFactory,
) -> InstallingStack:
    """The committed dev stack as it is (Gateway API with Envoy Gateway), previewed."""
    root = tmp_path_factory.mktemp("installing-dev")
    return previewed(cluster_without_kserve_webhooks, pulumi_toolchain, root, installing_config(root))


@pytest.fixture(scope="module")
def installing_dev_behind_an_ingress_class(
    cluster_without_kserve_webhooks: Cluster,
    pulumi_toolchain: PulumiToolchain,
    tmp_path_factory: pytest.TempPathFactory,
) -> InstallingStack:
    """The dev stack with `ingress.mode: ingressClass`, previewed, for the `up`s: KServe's chart waits for the
    Gateway to be Programmed, which only a running Gateway controller reports (Envoy Gateway is a kwok pod here)."""
    require_shared()
    root = tmp_path_factory.mktemp("installing-dev-ingress-class")
    plain, _ = committed_config(STACK)
    plain[KSERVE_KEY]["ingress"] = {"mode": "ingressClass", "className": "nginx"}
    # The ingress controller is then the cluster's: its namespace is let through the models' NetworkPolicies.
    namespaces = plain.setdefault(f"{PROJECT}:namespaces", {})
    namespaces.setdefault("networkPolicy", {})["allowFromNamespaces"] = ["ingress-nginx"]
    return previewed(cluster_without_kserve_webhooks, pulumi_toolchain, root, with_local_chart_sources(plain, root))


def test_preview_of_the_installing_dev_stack_from_local_charts_against_a_cluster(
    installing_dev: InstallingStack,
) -> None:
    assert_install_children(installing_dev.preview)


def is_crd(state: dict[str, Any]) -> bool:
    return state["type"] == CRD_TYPE


def is_gated_webhook(state: dict[str, Any]) -> bool:
    return state["type"] in WEBHOOK_TYPES and annotations_of(state).get(WAIT_FOR) == CA_GATE


def annotations_of(resource: dict[str, Any]) -> dict[str, str]:
    """The Kubernetes annotations of a planned or recorded resource (components have none)."""
    return (resource.get("inputs") or {}).get("metadata", {}).get("annotations", {})


def object_name(urn: str) -> str:
    """The Kubernetes name of a chart child: its resource name is `<chart>:<namespace>/<name>` or `<chart>:<name>`."""
    return urn.rpartition("::")[2].partition(":")[2].rpartition("/")[2]


def test_up_of_the_installing_stack_keeps_what_its_transforms_say_read_back_from_the_state(
    installing_dev_behind_an_ingress_class: InstallingStack,
) -> None:
    """`pulumi up` of the install's CRDs and cert-manager-injected webhooks (with the charts, namespaces and
    cert-manager objects they depend on), and `pulumi destroy` after it. A whole install cannot come up here: cert-manager, KServe's manager and Envoy Gateway
    run only as kwok pods, so no in-cluster webhook answers (docs/end-to-end.md)."""
    stack = installing_dev_behind_an_ingress_class
    cluster = stack.cluster
    crds = stack.urns_of(is_crd)
    webhooks = stack.urns_of(is_gated_webhook)
    crd_names = [object_name(urn) for urn in crds]
    assert {"inferenceservices.serving.kserve.io", "certificates.cert-manager.io"} <= set(crd_names), crd_names
    assert {"inferenceservice.serving.kserve.io", "cert-manager-webhook"} <= {object_name(urn) for urn in webhooks}
    timeouts = load_stack_config(STACK)[1].kserve.timeouts
    expected_timeouts = {
        "create": duration_seconds(timeouts.create),
        "update": duration_seconds(timeouts.update),
        "delete": duration_seconds(timeouts.delete),
    }

    # The test stands in for cert-manager's cainjector (which runs only as a kwok pod here): each gated webhook
    # configuration gets its CA bundle only after `pulumi up` has been seen waiting for it.
    with ThreadPoolExecutor(max_workers=1) as pool:
        up = pool.submit(
            stack.project.run, "up", "--yes", "--skip-preview", *stack.targets(crds + webhooks), stack=STACK
        )
        live = stand_in_for_cainjector(cluster, [stack.planned()[urn] for urn in webhooks], up)
        up.result(timeout=900)

    state = stack.state()
    missing = sorted(set(crds + webhooks) - set(state))
    assert not missing, missing
    for urn in crds:
        resource = state[urn]
        assert resource.get("retainOnDelete") is True, urn
        assert annotations_of(resource).get(RETAIN_ANNOTATION) == "keep", urn
        assert annotations_of(resource).get(WAIT_FOR) == "condition=Established", urn
    for urn in webhooks:
        assert annotations_of(state[urn]).get(WAIT_FOR) == CA_GATE, urn
    for urn in crds + webhooks:
        assert state[urn].get("customTimeouts") == expected_timeouts, (urn, state[urn].get("customTimeouts"))
        assert not state[urn].get("protect"), urn
    established = json.loads(cluster.kubectl("get", "crd", *crd_names, "-o", "json").stdout)["items"]
    assert sorted(crd["metadata"]["name"] for crd in established) == sorted(crd_names)

    stack.project.run("destroy", "--yes", "--skip-preview", stack=STACK)
    assert not [urn for urn in stack.state() if urn in set(crds + webhooks)]
    # Retained: every CRD is still served, though the state no longer holds it.
    kept = json.loads(cluster.kubectl("get", "crd", *crd_names, "-o", "json").stdout)["items"]
    assert sorted(crd["metadata"]["name"] for crd in kept) == sorted(crd_names)
    # Not retained: the webhook configurations are gone.
    for item in live:
        gone = cluster.kubectl("get", item["kind"], item["metadata"]["name"], "--ignore-not-found", "-o", "name")
        assert not gone.stdout.strip(), gone.stdout


def test_destroy_deletes_the_crds_when_the_stack_opts_in(
    installing_dev_behind_an_ingress_class: InstallingStack,
) -> None:
    """`kserve.deleteCrdsOnUninstall: true`: no retainOnDelete, no `keep`, and `pulumi destroy` deletes the CRDs."""
    stack = installing_dev_behind_an_ingress_class
    stack_file = stack.project.workdir / f"Pulumi.{STACK}.yaml"
    original = stack_file.read_text()
    document = yaml.safe_load(original)
    document["config"][KSERVE_KEY]["deleteCrdsOnUninstall"] = True
    stack_file.write_text(yaml.safe_dump(document, sort_keys=False))
    try:
        crds = stack.urns_of(is_crd)
        stack.project.run("up", "--yes", "--skip-preview", *stack.targets(crds), stack=STACK)
        state = stack.state()
        retained = [
            urn for urn in crds if state[urn].get("retainOnDelete") or RETAIN_ANNOTATION in annotations_of(state[urn])
        ]
        assert not retained, retained
        stack.project.run("destroy", "--yes", "--skip-preview", stack=STACK)
    finally:
        stack_file.write_text(original)
    names = [object_name(urn) for urn in crds]
    left = stack.cluster.kubectl("get", "crd", *names, "--ignore-not-found", "-o", "name").stdout.split()
    assert not left, left


def stand_in_for_cainjector(
    cluster: Cluster, planned: list[dict[str, Any]], up: Future[Any], timeout: float = 900
) -> list[dict[str, Any]]:
    """Injects a CA bundle into each webhook configuration of `planned` once it has existed for CA_HOLD_SECONDS,
    failing if `pulumi up` has stopped waiting by then or another writer already filled the bundle in. Returns the
    configurations as found before injection. One at a time, as cainjector does: KServe's webhooks depend on
    cert-manager's, so they are only created once cert-manager's are served."""
    deadline = time.monotonic() + timeout
    wanted = [(state["inputs"]["kind"], state["inputs"]["metadata"]["name"]) for state in planned]
    first_seen: dict[tuple[str, str], float] = {}
    injected: dict[tuple[str, str], dict[str, Any]] = {}
    while len(injected) < len(wanted):
        if time.monotonic() > deadline:
            pytest.fail(
                f"only {sorted(injected)} of the webhook configurations {wanted} appeared within {timeout:.0f} s"
            )
        if up.done():
            up.result()  # raises the CLI's failure
            pytest.fail(f"pulumi up finished before the CA bundles of {sorted(set(wanted) - set(injected))} came")
        for kind, name in wanted:
            if (kind, name) in injected:
                continue
            found = cluster.kubectl("get", kind, name, "--ignore-not-found", "-o", "json").stdout.strip()
            if not found:
                continue
            seen = first_seen.setdefault((kind, name), time.monotonic())
            if time.monotonic() - seen < CA_HOLD_SECONDS:
                continue
            configuration = json.loads(found)
            assert not any(webhook["clientConfig"].get("caBundle") for webhook in configuration["webhooks"]), name
            assert not up.done(), f"pulumi up stopped waiting for the CA bundle of {kind} {name}"
            inject_ca_bundle(cluster, configuration)
            injected[(kind, name)] = configuration
        time.sleep(1)
    return list(injected.values())


def inject_ca_bundle(cluster: Cluster, configuration: dict[str, Any]) -> None:
    """What cert-manager's cainjector does: the CA bundle written into each webhook's clientConfig."""
    bundle = base64.b64encode(cluster.ca.read_bytes()).decode()
    patch = [
        {"op": "add", "path": f"/webhooks/{index}/clientConfig/caBundle", "value": bundle}
        for index in range(len(configuration["webhooks"]))
    ]
    cluster.kubectl(
        "patch", configuration["kind"], configuration["metadata"]["name"], "--type=json", "-p", json.dumps(patch)
    )


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


def local_stack(pulumi_project: Callable[..., PulumiProject], render_dir: Path, **env: str) -> PulumiProject:
    """The committed `local` stack (renderYamlToDirectory, install on) with its charts from ../shared."""
    require_shared()
    plain, secret_keys = committed_config("local")
    config = copy.deepcopy(plain)
    assert RENDER_DIR_KEY in config and config[KSERVE_KEY].get("install", True), "local no longer renders the install"
    config[RENDER_DIR_KEY] = str(render_dir)
    config[KSERVE_KEY]["chartRepository"] = str(KSERVE_CHARTS)
    config[KSERVE_KEY].setdefault("certManager", {})["chartRepository"] = str(CERT_MANAGER_CHARTS)
    project = pulumi_project(**env)
    project.new_stack("local", config, secrets={key: secret_test_value(key) for key in secret_keys})
    return project


def test_up_of_the_installing_local_stack_renders_the_charts_to_a_directory(
    pulumi_project: Callable[..., PulumiProject], tmp_path: Path, cluster_without_kserve_webhooks: Cluster
) -> None:
    """With a cluster reachable, which Chart v4 only reads (kserve-crd's `lookup` calls), `pulumi up --stack local`
    writes the charts' objects with the program's transforms to the directory and applies nothing."""
    before = cluster_without_kserve_webhooks.kubectl("get", "crd", "-o", "name").stdout.split()
    project = local_stack(
        pulumi_project, tmp_path / "render", KUBECONFIG=str(cluster_without_kserve_webhooks.kubeconfig)
    )
    project.run("up", "--yes", "--skip-preview", stack="local")
    rendered = [yaml.safe_load(path.read_text()) for path in sorted((tmp_path / "render").glob("[01]-*/*.yaml"))]
    crds = [doc for doc in rendered if doc and doc["kind"] == "CustomResourceDefinition"]
    assert {"inferenceservices.serving.kserve.io", "certificates.cert-manager.io"} <= {
        doc["metadata"]["name"] for doc in crds
    }
    assert all(doc["metadata"].get("annotations", {}).get(RETAIN_ANNOTATION) == "keep" for doc in crds)
    model_namespaces = {doc["metadata"]["namespace"] for doc in rendered if doc and doc["kind"] == "InferenceService"}
    assert model_namespaces, "the local stack rendered no InferenceService"
    # Nothing was applied: no CRD came or went, and the models' namespaces do not exist.
    assert cluster_without_kserve_webhooks.kubectl("get", "crd", "-o", "name").stdout.split() == before
    for namespace in sorted(model_namespaces):
        assert not cluster_without_kserve_webhooks.kubectl(
            "get", "namespace", namespace, "--ignore-not-found", "-o", "name"
        ).stdout


def test_rendering_the_install_with_no_cluster_stops_at_kserve_crds_lookup(
    pulumi_project: Callable[..., PulumiProject], tmp_path: Path
) -> None:
    """The provider's render mode is not fully offline (pulumi-kubernetes #3498, documented by #4408): Chart v4 runs
    a chart's `lookup` calls against the cluster, and each kserve-crd template looks its CRD up. What
    Pulumi.local.yaml and docs/deploying.md tell users; when this test fails because the render succeeded, that
    advice has become unnecessary."""
    project = local_stack(pulumi_project, tmp_path / "render")  # KUBECONFIG is /dev/null
    result = project.run("up", "--yes", "--skip-preview", stack="local", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0, "the install rendered with no cluster: update Pulumi.local.yaml and the docs"
    assert "error calling lookup" in output and "kserve-crd" in output, output[-3000:]
