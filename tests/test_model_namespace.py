"""Model namespaces: Pod Security Admission labels and the default-deny ingress NetworkPolicy, per mode."""

from __future__ import annotations

import pytest

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


# --- Who may call the predictors when the program cannot know (issue 10, defect 8) ---

CALLERS_KEY = "namespaces.networkPolicy.allowFromNamespaces"


def _refused(run_config, values: dict) -> str:
    from config.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        run_config(values)
    issues = {issue.path: issue.message for issue in caught.value.issues}
    assert CALLERS_KEY in issues, issues
    assert caught.value.registered_before_failure == []  # type: ignore[attr-defined]
    return issues[CALLERS_KEY]


@pytest.mark.parametrize(
    ("kserve", "says"),
    [
        ({"install": False}, "kserve.install: false"),
        ({"install": False, "deploymentMode": "Knative"}, "kserve.install: false"),
        ({"ingress": {"mode": "ingressClass", "className": "nginx"}}, "ingress controller of class 'nginx'"),
        ({"ingress": {"gatewayApi": {"envoyGateway": {"install": False}}}}, "envoyGateway.install: false"),
    ],
)
def test_unknown_callers_must_be_listed(run_config, kserve: dict, says: str) -> None:
    """An existing KServe (or an ingress controller the stack does not install) may run anywhere: admitting the
    namespaces this program would have used (kserve, envoy-gateway-system) would block its traffic silently."""
    message = _refused(run_config, {"kserve": kserve, "models": [MODEL]})
    assert says in message
    assert "namespaces.networkPolicy.enabled: false" in message and "`[]`" in message


def test_install_false_admits_exactly_the_listed_namespaces(run_config) -> None:
    callers = ["ingress-gateways", "kserve-system"]
    run = run_config(
        {
            "kserve": {"install": False},
            "namespaces": {"networkPolicy": {"allowFromNamespaces": callers}},
            "models": [MODEL],
        }
    )
    (policy,) = [kubernetes_object(r) for r in run.by_type(NETPOL_TYPE)]
    assert allowed(policy) == set(callers), "nothing assumed about where the cluster's KServe runs"


def test_an_explicit_empty_list_admits_only_the_namespace_itself(run_config) -> None:
    run = run_config(
        {"kserve": {"install": False}, "namespaces": {"networkPolicy": {"allowFromNamespaces": []}}, "models": [MODEL]}
    )
    (policy,) = [kubernetes_object(r) for r in run.by_type(NETPOL_TYPE)]
    assert policy["spec"]["ingress"] == [{"from": [{"podSelector": {}}]}]


def test_ingress_class_adds_the_listed_controller_to_the_installed_kserve(run_config) -> None:
    run = run_config(
        {
            "kserve": {"ingress": {"mode": "ingressClass", "className": "nginx"}},
            "namespaces": {"networkPolicy": {"allowFromNamespaces": ["ingress-nginx"]}},
            "models": [MODEL],
        }
    )
    (policy,) = [kubernetes_object(r) for r in run.by_type(NETPOL_TYPE)]
    assert allowed(policy) == {"kserve", "ingress-nginx"}


def test_no_policy_or_no_created_namespace_needs_no_list(run_config) -> None:
    off = run_config(
        {"kserve": {"install": False}, "namespaces": {"networkPolicy": {"enabled": False}}, "models": [MODEL]}
    )
    assert off.by_type(NETPOL_TYPE) == []
    existing = run_config({"kserve": {"install": False, "existingNamespaces": ["team-a"]}, "models": [MODEL]})
    assert existing.by_type(NETPOL_TYPE) == []
