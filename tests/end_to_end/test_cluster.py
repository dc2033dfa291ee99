"""The loopback cluster is real: the API server serves KServe's CRDs, KServe's own webhooks judge what we send, and
KServe's controller brings a model to Ready on the fake nodes."""

from __future__ import annotations

import copy
import json
import subprocess
import time
from collections.abc import Callable
from typing import Any

from e2e.cluster import FAKE_NODE_ALLOCATABLE, FAKE_NODES, Cluster, inferenceservice_config, kserve_files

SEED_MODEL: dict[str, Any] = {
    "apiVersion": "serving.kserve.io/v1beta1",
    "kind": "InferenceService",
    "metadata": {"name": "sklearn-iris", "namespace": "default"},
    "spec": {
        "predictor": {
            "model": {
                "modelFormat": {"name": "sklearn"},
                "protocolVersion": "v2",
                "storageUri": "gs://seldon-models/sklearn/iris",
            }
        }
    },
}


def dry_run_create(cluster: Cluster, manifest: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    return cluster.kubectl(
        "create", "--dry-run=server", "-o", "json", "-f", "-", input=json.dumps(manifest), check=False
    )


def test_api_server_serves_the_kserve_crds(kserve_cluster: Cluster) -> None:
    served = kserve_cluster.kubectl("api-resources", "--api-group=serving.kserve.io", "-o", "name").stdout.split()
    assert {
        "inferenceservices.serving.kserve.io",
        "servingruntimes.serving.kserve.io",
        "clusterservingruntimes.serving.kserve.io",
    } <= set(served)
    # The built-in runtimes a models-only stack relies on went in through the live ClusterServingRuntime validator.
    mlserver = json.loads(
        kserve_cluster.kubectl("get", "clusterservingruntime", "kserve-mlserver", "-o", "json").stdout
    )
    assert {"name": "sklearn", "version": "1", "autoSelect": True, "priority": 2} in mlserver["spec"][
        "supportedModelFormats"
    ]


def test_webhook_refuses_a_canary_without_predictor_name(kserve_cluster: Cluster) -> None:
    isvc = copy.deepcopy(SEED_MODEL)
    isvc["metadata"]["annotations"] = {"serving.kserve.io/deploymentMode": "Standard"}
    canary_predictor = copy.deepcopy(isvc["spec"]["predictor"])
    canary_predictor["model"]["storageUri"] = "gs://seldon-models/sklearn/iris-v2"
    isvc["spec"]["canary"] = [{"trafficPercent": 10, "predictor": canary_predictor}]

    refused = dry_run_create(kserve_cluster, isvc)

    assert refused.returncode != 0, refused.stdout
    assert 'admission webhook "inferenceservice.kserve-webhook-server.validator" denied the request' in refused.stderr
    assert "canary[0] predictor.name is required" in refused.stderr

    # The same canary with the name KServe asks for is accepted: the refusal was about the name alone.
    canary_predictor["name"] = "iris-v2"
    accepted = dry_run_create(kserve_cluster, isvc)
    assert accepted.returncode == 0, accepted.stderr


def test_webhook_accepts_the_seed_model_and_applies_its_defaults(kserve_cluster: Cluster) -> None:
    result = dry_run_create(kserve_cluster, SEED_MODEL)

    assert result.returncode == 0, result.stderr
    defaulted = json.loads(result.stdout)
    deploy = json.loads(inferenceservice_config(kserve_files(), "Standard")["data"]["deploy"])
    # What KServe's defaulter (webhook/inference_service_defaults.go) adds to what we sent: the deployment mode of
    # `inferenceservice-config` (deploy.defaultDeploymentMode) and, from setPredictorModelDefaults, a `modelFormat`
    # annotation naming the model format. A program that does not declare these sees them appear on the live object.
    assert SEED_MODEL["metadata"].get("annotations") is None
    assert defaulted["metadata"]["annotations"] == {
        "serving.kserve.io/deploymentMode": deploy["defaultDeploymentMode"],
        "modelFormat": "sklearn",
    }
    # The predictor comes back as sent, plus the zero values Go serialises (ModelSpec.Default sets nothing: no
    # resource defaults for a `model` predictor in v0.20.0, unlike custom containers).
    assert defaulted["spec"] == {
        "predictor": {"model": {**SEED_MODEL["spec"]["predictor"]["model"], "name": "", "resources": {}}}
    }


def test_serving_runtime_validator_refuses_a_priority_clash(kserve_cluster: Cluster) -> None:
    namespace = "e2e-runtime-priority"
    kserve_cluster.kubectl("create", "namespace", namespace)

    def runtime(name: str) -> dict[str, Any]:
        return {
            "apiVersion": "serving.kserve.io/v1alpha1",
            "kind": "ServingRuntime",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "protocolVersions": ["v2"],
                "supportedModelFormats": [{"name": "sklearn", "version": "1", "autoSelect": True, "priority": 1}],
                "containers": [{"name": "kserve-container", "image": "docker.io/seldonio/mlserver:1.7.1"}],
            },
        }

    try:
        kserve_cluster.apply([runtime("first")])
        # The validator compares with the runtimes in the manager's informer cache, which sees `first` shortly.
        deadline = time.monotonic() + 30
        while True:
            clash = dry_run_create(kserve_cluster, runtime("second"))
            if clash.returncode != 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert clash.returncode != 0, "a second runtime with the same format and priority was accepted"
        assert 'admission webhook "servingruntime.kserve-webhook-server.validator" denied the request' in clash.stderr
        assert (
            "same priority assigned for the model format sklearn in the servingruntimes first and second "
            f"in namespace {namespace}"
        ) in clash.stderr

        different = runtime("second")
        different["spec"]["supportedModelFormats"][0]["priority"] = 2
        accepted = dry_run_create(kserve_cluster, different)
        assert accepted.returncode == 0, accepted.stderr
    finally:
        kserve_cluster.kubectl("delete", "namespace", namespace, "--wait=false", check=False)


def test_fake_nodes_are_ready_with_the_allocatable_the_harness_gave_them(kserve_cluster: Cluster) -> None:
    nodes = json.loads(kserve_cluster.kubectl("get", "nodes", "-o", "json").stdout)["items"]
    by_name = {node["metadata"]["name"]: node for node in nodes}
    assert set(by_name) == set(FAKE_NODES)
    for node in by_name.values():
        conditions = {c["type"]: c["status"] for c in node["status"]["conditions"]}
        # kwok's node-initialize stage: Ready, no pressure; the node lifecycle controller left no not-ready taint.
        assert conditions["Ready"] == "True", conditions
        assert not node["spec"].get("taints"), node["spec"]["taints"]
        assert {key: node["status"]["allocatable"][key] for key in FAKE_NODE_ALLOCATABLE} == FAKE_NODE_ALLOCATABLE
        assert node["status"]["nodeInfo"]["kubeletVersion"].startswith("kwok-")


def wait_for(what: str, probe: Callable[[], Any], timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found or time.monotonic() > deadline:
            assert found, f"{what} not within {timeout:.0f} s"
            return found
        time.sleep(1)


def test_the_seed_model_turns_ready_on_a_fake_node(kserve_cluster: Cluster) -> None:
    """KServe's chain runs for real up to the pod: its controller makes the predictor Deployment, the controller
    manager its ReplicaSet and Pod, KServe's pod mutator adds the storage initializer, the scheduler binds the Pod to a
    fake node, kwok reports it Running and Ready (no container starts), the Deployment turns Available, KServe
    creates the Ingress and sets PredictorReady, IngressReady and so Ready."""
    namespace = "e2e-predictor"
    kserve_cluster.kubectl("create", "namespace", namespace)
    isvc = copy.deepcopy(SEED_MODEL)
    isvc["metadata"]["namespace"] = namespace
    name = isvc["metadata"]["name"]
    try:
        kserve_cluster.apply([isvc])

        def ready_status() -> dict[str, Any] | None:
            live = json.loads(kserve_cluster.kubectl("get", "isvc", name, "-n", namespace, "-o", "json").stdout)
            conditions = {c["type"]: c["status"] for c in live.get("status", {}).get("conditions", [])}
            return live["status"] if conditions.get("Ready") == "True" else None

        status = wait_for(f"InferenceService {namespace}/{name} Ready", ready_status)
        conditions = {c["type"]: c["status"] for c in status["conditions"]}
        assert conditions["PredictorReady"] == "True" and conditions["IngressReady"] == "True", conditions
        assert status["deploymentMode"] == "Standard"
        assert status["url"] == f"http://{name}-{namespace}.example.com"
        assert status["clusterServingRuntimeName"] == "kserve-mlserver"

        pods = json.loads(
            kserve_cluster.kubectl(
                "get", "pods", "-n", namespace, "-l", f"serving.kserve.io/inferenceservice={name}", "-o", "json"
            ).stdout
        )["items"]
        assert len(pods) == 1, [pod["metadata"]["name"] for pod in pods]
        pod = pods[0]
        assert pod["spec"]["nodeName"] in FAKE_NODES
        assert pod["status"]["phase"] == "Running"
        # KServe's pod mutator injected the storage initializer; kwok reports it Completed without running it.
        (initializer,) = [s for s in pod["status"]["initContainerStatuses"] if s["name"] == "storage-initializer"]
        assert initializer["state"]["terminated"]["reason"] == "Completed"

        deployment = json.loads(
            kserve_cluster.kubectl("get", "deployment", f"{name}-predictor", "-n", namespace, "-o", "json").stdout
        )
        available = {c["type"]: c["status"] for c in deployment["status"]["conditions"]}["Available"]
        assert available == "True"
        ingress = json.loads(kserve_cluster.kubectl("get", "ingress", name, "-n", namespace, "-o", "json").stdout)
        assert f"{name}-{namespace}.example.com" in {rule["host"] for rule in ingress["spec"]["rules"]}
    finally:
        kserve_cluster.kubectl("delete", "namespace", namespace, "--wait=false", check=False)
