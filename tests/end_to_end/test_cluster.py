"""The loopback cluster is real: the API server serves KServe's CRDs and KServe's own webhooks judge what we send."""

from __future__ import annotations

import copy
import json
import subprocess
import time
from typing import Any

from e2e.cluster import Cluster, inferenceservice_config, kserve_files

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


def test_kserve_controller_creates_the_predictor_but_it_never_runs_without_a_kubelet(kserve_cluster: Cluster) -> None:
    """The harness's limit, shown: KServe's controller and kube-controller-manager do their part (Deployment,
    ReplicaSet, a Pod that went through KServe's pod mutator), but with no scheduler or kubelet the pod stays
    Pending, so the InferenceService's PredictorReady stays False and `Ready` is never reached."""
    namespace = "e2e-predictor"
    kserve_cluster.kubectl("create", "namespace", namespace)
    isvc = copy.deepcopy(SEED_MODEL)
    isvc["metadata"]["namespace"] = namespace
    try:
        kserve_cluster.apply([isvc])
        deadline = time.monotonic() + 120
        pods: list[dict[str, Any]] = []
        while time.monotonic() < deadline and not pods:
            listed = kserve_cluster.kubectl(
                "get", "pods", "-n", namespace, "-l", "serving.kserve.io/inferenceservice=sklearn-iris", "-o", "json"
            )
            pods = json.loads(listed.stdout)["items"]
            time.sleep(1)
        assert pods, "no predictor pod was created for the InferenceService"
        pod = pods[0]
        # KServe's pod mutator injected the storage initializer that fetches storageUri.
        init_containers = [container["name"] for container in pod["spec"].get("initContainers", [])]
        assert "storage-initializer" in init_containers
        assert pod["status"]["phase"] == "Pending" and not pod["spec"].get("nodeName")

        status = json.loads(kserve_cluster.kubectl("get", "isvc", "sklearn-iris", "-n", namespace, "-o", "json").stdout)
        conditions = {c["type"]: c["status"] for c in status.get("status", {}).get("conditions", [])}
        assert conditions.get("Ready") != "True", conditions
    finally:
        kserve_cluster.kubectl("delete", "namespace", namespace, "--wait=false", check=False)
