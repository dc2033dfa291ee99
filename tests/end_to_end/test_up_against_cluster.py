"""Issue 11 item 1 (up part): `pulumi up` of every committed stack's models-only form (`kserve.install: false`,
KServe run by the loopback cluster) through the real engine and provider, against the real API server, KServe's
webhooks and controller, and kwok's fake nodes.

Per stack, on one cluster: `up` succeeds and every Kubernetes object in the state is on the cluster (each
InferenceService Ready, as the program's `pulumi.com/waitFor` already demanded, with its runtime present); a second
`up --expect-no-changes` changes nothing; `preview --refresh --expect-no-changes` right after finds no diff between
the live objects (after KServe's defaulting and the controllers' writes) and the program; the state holds no secret's
plaintext; `destroy` removes every object, and KServe's CRDs stay.

What Ready means here: KServe's controller made the predictor Deployment, the scheduler placed its Pods on fake
nodes, kwok reported them Running and Ready (no container started, no model was downloaded or loaded) and KServe set
PredictorReady and IngressReady (see e2e/cluster.py).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from e2e.cluster import SHARED, Cluster
from e2e.pulumi_cli import PulumiProject
from offline.stackconfig import load_stack_config
from tests.end_to_end.stacks import (
    PROJECT,
    committed_stacks,
    crd_from_shared,
    destroy_leftovers,
    is_custom_resource_group,
    rendered_models_only,
    stack_on_cluster,
)

ISVC_TYPE = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
# A model that cannot turn Ready keeps `up` waiting until the stack's readinessTimeout (prod: 20 minutes); on fake
# nodes every committed stack is Ready within seconds.
UP_TIMEOUT = 300
KSERVE_CRDS = (
    "inferenceservices.serving.kserve.io",
    "servingruntimes.serving.kserve.io",
    "clusterservingruntimes.serving.kserve.io",
)


def kubectl_name(manifest: dict[str, Any]) -> list[str]:
    """`kubectl get` arguments naming one object exactly: KIND.VERSION.GROUP (or KIND for the core group), name and
    namespace."""
    group, _, version = manifest["apiVersion"].rpartition("/")
    kind = manifest["kind"].lower()
    resource = f"{kind}.{version}.{group}" if group else kind
    metadata = manifest["metadata"]
    namespace = ["-n", metadata["namespace"]] if metadata.get("namespace") else []
    return [resource, metadata["name"], *namespace]


def identity(manifest: dict[str, Any]) -> tuple[str, str, str, str]:
    metadata = manifest["metadata"]
    return manifest["apiVersion"], manifest["kind"], metadata.get("namespace", ""), metadata["name"]


def live(cluster: Cluster, manifest: dict[str, Any]) -> dict[str, Any] | None:
    result = cluster.kubectl("get", *kubectl_name(manifest), "-o", "json", check=False)
    if result.returncode != 0:
        assert "NotFound" in result.stderr, result.stderr
        return None
    return json.loads(result.stdout)


def kubernetes_objects(project: PulumiProject, stack: str) -> list[dict[str, Any]]:
    """The outputs (the live object as the provider last read it) of every Kubernetes resource in the stack's state."""
    deployment = json.loads(project.run("stack", "export", stack=stack).stdout)["deployment"]
    return [
        resource["outputs"]
        for resource in deployment.get("resources") or []
        if resource.get("custom") and resource["type"].startswith("kubernetes:")
    ]


@pytest.fixture
def outside_the_stack(kserve_cluster: Cluster) -> Iterator[Callable[[list[dict[str, Any]]], None]]:
    """Puts on the cluster what a stack writes into but does not declare, as a real cluster has it before `up`:
    the CRDs of kinds it declares that the cluster does not serve (prod's monitoring: Prometheus Operator's, from
    ../shared/deps) and namespaces it does not create (prod's `monitoring`, kube-prometheus-stack's). Removed after."""
    added: list[list[str]] = []

    def prepare(objects: list[dict[str, Any]]) -> None:
        declared = {o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"}
        namespaces = sorted({o["metadata"]["namespace"] for o in objects if o["metadata"].get("namespace")})
        for namespace in namespaces:
            manifest = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
            if namespace not in declared and live(kserve_cluster, manifest) is None:
                kserve_cluster.apply([manifest])
                added.append(["namespace", namespace])
        crds = json.loads(kserve_cluster.kubectl("get", "crd", "-o", "json").stdout)["items"]
        served = {(crd["spec"]["group"], crd["spec"]["names"]["kind"]) for crd in crds}
        kinds = sorted({(o["apiVersion"].rpartition("/")[0], o["kind"]) for o in objects})
        for group, kind in kinds:
            if is_custom_resource_group(group) and (group, kind) not in served:
                crd = crd_from_shared(group, kind, SHARED)
                kserve_cluster.apply([crd])
                kserve_cluster.kubectl("wait", "--for=condition=Established", f"crd/{crd['metadata']['name']}")
                added.append(["crd", crd["metadata"]["name"]])

    yield prepare
    for kind, name in reversed(added):
        kserve_cluster.kubectl("delete", kind, name, "--wait=true", "--timeout=120s", check=False, timeout=150)


def is_protected(config: dict[str, Any]) -> bool:
    return bool(config.get(f"{PROJECT}:protect"))


@pytest.mark.parametrize("stack", committed_stacks())
def test_up_creates_every_object_then_changes_nothing_and_destroy_removes_them(
    stack: str,
    pulumi_project: Callable[..., PulumiProject],
    kserve_cluster: Cluster,
    outside_the_stack: Callable[[list[dict[str, Any]]], None],
    tmp_path: Path,
) -> None:
    config, secrets = stack_on_cluster(stack)
    declared = rendered_models_only(stack, config, list(secrets), tmp_path / "offline")
    outside_the_stack(declared)
    project = pulumi_project(KUBECONFIG=str(kserve_cluster.kubeconfig))
    project.new_stack(stack, config, secrets=secrets)
    try:
        project.run("up", "--yes", "--skip-preview", stack=stack, timeout=UP_TIMEOUT)

        objects = kubernetes_objects(project, stack)
        # The state holds exactly the objects the program declares (the offline render of the same config), and
        # each is on the cluster.
        assert sorted(map(identity, objects)) == sorted(map(identity, declared))
        missing = [" ".join(kubectl_name(o)) for o in objects if live(kserve_cluster, o) is None]
        assert not missing, f"in the state but not on the cluster: {missing}"
        deployed = {(m.namespace, m.name): m for m in load_stack_config(stack)[1].deployed_models}
        inference_services = {
            (o["metadata"]["namespace"], o["metadata"]["name"]): live(kserve_cluster, o)
            for o in objects
            if o["kind"] == "InferenceService"
        }
        assert set(inference_services) == set(deployed)
        for key, isvc in inference_services.items():
            assert isvc is not None
            conditions = {c["type"]: c["status"] for c in isvc["status"]["conditions"]}
            assert conditions["Ready"] == "True", (key, conditions)
            status = isvc["status"]
            # The runtime KServe picked (the model's own, or auto-selected for its format) is on the cluster; a custom
            # image runs its own container and names none.
            if deployed[key].is_custom_image:
                assert not status.get("servingRuntimeName") and not status.get("clusterServingRuntimeName"), status
            elif status.get("servingRuntimeName"):
                kserve_cluster.kubectl("get", "servingruntime", status["servingRuntimeName"], "-n", key[0])
            else:
                kserve_cluster.kubectl("get", "clusterservingruntime", status["clusterServingRuntimeName"])
                if deployed[key].runtime:
                    assert status["clusterServingRuntimeName"] == deployed[key].runtime

        # The state holds no secret's plaintext (nor its base64, the form a Secret's data carries).
        state = "\n".join(path.read_text(errors="replace") for path in project.state_files())
        leaked = [
            key
            for key, value in secrets.items()
            if any(form in state for form in (value, base64.b64encode(value.encode()).decode()))
        ]
        assert not leaked, leaked

        # `--expect-no-changes` makes the CLI exit non-zero when anything would change.
        project.run("up", "--yes", "--skip-preview", "--expect-no-changes", stack=stack, timeout=UP_TIMEOUT)
        project.run("preview", "--refresh", "--expect-no-changes", stack=stack)

        if is_protected(config):
            refused = project.run("destroy", "--yes", "--skip-preview", stack=stack, check=False)
            assert refused.returncode != 0 and "protected" in refused.stdout + refused.stderr, refused.stdout
            assert all(live(kserve_cluster, o) is not None for o in objects), "a refused destroy deleted an object"
            project.run("state", "unprotect", "--all", "--yes", stack=stack)
        project.run("destroy", "--yes", "--skip-preview", stack=stack)

        left = [" ".join(kubectl_name(o)) for o in objects if live(kserve_cluster, o) is not None]
        assert not left, f"still on the cluster after destroy: {left}"
        state_left = json.loads(project.run("stack", "export", stack=stack).stdout)["deployment"].get("resources")
        assert not state_left, [resource["urn"] for resource in state_left]
        for crd in KSERVE_CRDS:
            kserve_cluster.kubectl("get", "crd", crd)
    except BaseException:
        destroy_leftovers(project, stack)
        raise
