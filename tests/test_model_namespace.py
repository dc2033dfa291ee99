"""Model namespaces: Pod Security Admission labels and the default-deny ingress NetworkPolicy, per mode."""

from __future__ import annotations

from offline.manifests import kubernetes_object
from tests.conftest import model_namespace_resources

NETPOL_TYPE = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
NAMESPACE_TYPE = "kubernetes:core/v1:Namespace"
MODEL = {"name": "m", "namespace": "team-a", "format": "sklearn", "storageUri": "gs://bkt/m"}


def allowed(policy: dict) -> set[str]:
    (rule,) = policy["spec"]["ingress"]
    values: set[str] = set()
    for peer in rule["from"]:
        for expression in peer.get("namespaceSelector", {}).get("matchExpressions", []):
            values.update(expression["values"])
    return values


def test_standard_mode_enforces_restricted_and_admits_gateway_and_controller(run_config) -> None:
    run = run_config({"models": [MODEL]})
    (namespace,) = [kubernetes_object(r) for r in model_namespace_resources(run, NAMESPACE_TYPE)]
    labels = namespace["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["pod-security.kubernetes.io/enforce-version"] != "latest"
    (policy,) = [kubernetes_object(r) for r in run.by_type(NETPOL_TYPE)]
    assert policy["metadata"]["namespace"] == "team-a"
    assert policy["spec"]["podSelector"] == {} and policy["spec"]["policyTypes"] == ["Ingress"]
    assert {"podSelector": {}} in policy["spec"]["ingress"][0]["from"], "pods of the namespace reach each other"
    assert allowed(policy) == {"kserve", "envoy-gateway-system"}


def test_knative_mode_admits_knative_and_istio_and_enforces_baseline(run_config) -> None:
    run = run_config({"kserve": {"deploymentMode": "Knative"}, "models": [MODEL]})
    (namespace,) = [kubernetes_object(r) for r in model_namespace_resources(run, NAMESPACE_TYPE)]
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/warn"] == "restricted"
    (policy,) = [kubernetes_object(r) for r in run.by_type(NETPOL_TYPE)]
    assert allowed(policy) == {"kserve", "knative-serving", "istio-system"}


def test_extra_allowed_namespaces_and_switch_off(run_config) -> None:
    run = run_config({"namespaces": {"networkPolicy": {"allowFromNamespaces": ["monitoring"]}}, "models": [MODEL]})
    (policy,) = [kubernetes_object(r) for r in run.by_type(NETPOL_TYPE)]
    assert "monitoring" in allowed(policy)
    off = run_config({"namespaces": {"networkPolicy": {"enabled": False}}, "models": [MODEL]})
    assert model_namespace_resources(off, NETPOL_TYPE) == []


def test_models_wait_for_the_network_policy(run_config) -> None:
    run = run_config({"models": [MODEL]})
    (policy,) = run.by_type(NETPOL_TYPE)
    (isvc,) = run.by_type("kubernetes:serving.kserve.io/v1beta1:InferenceService")
    assert policy.urn in isvc.dependencies


def test_existing_namespaces_get_no_policy(run_config) -> None:
    run = run_config({"kserve": {"existingNamespaces": ["team-a"]}, "models": [MODEL]})
    assert run.by_type(NETPOL_TYPE) == [] and model_namespace_resources(run, NAMESPACE_TYPE) == []
