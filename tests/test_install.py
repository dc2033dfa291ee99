"""The KServe install, read from what the program registered under mocks: charts, values, order, safety."""

from __future__ import annotations

import re
from pathlib import Path

import pulumi
import pytest
import yaml

from components.install import install_policy
from components.install.knative import own_istio_validation_failure_policy
from components.install.safety import (
    CRD_ESTABLISHED,
    CRD_TYPE,
    RETAIN_ANNOTATION,
    WAIT_FOR_ANNOTATION,
    WEBHOOK_CA_INJECTED,
    InstallPolicy,
    apply_policy,
)
from config.errors import ConfigError
from config.kserve import PROJECT_DIR, KServeConfig
from offline import manifests
from offline.program import ProgramRun
from offline.recorder import RegisteredResource
from tests.schemas import schema_errors

CHART = "kubernetes:helm.sh/v4:Chart"
RELEASE = "kubernetes:helm.sh/v3:Release"
CONFIG_FILE = "kubernetes:yaml/v2:ConfigFile"
ISVC = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
PINNED = re.compile(r"^v?\d+\.\d+\.\d+$")
MODEL = {
    "name": "iris",
    "namespace": "models",
    "format": "sklearn",
    "protocolVersion": "v2",
    "storageUri": "gs://seldon-models/sklearn/iris",
}


def one(run: ProgramRun, type_token: str, name: str) -> RegisteredResource:
    found = [r for r in run.resources if r.type == type_token and r.name == name]
    assert len(found) == 1, f"expected one {type_token} named {name}, found {len(found)}"
    return found[0]


def charts(run: ProgramRun) -> dict[str, RegisteredResource]:
    return {r.name: r for r in run.resources if r.type in (CHART, RELEASE)}


def depends(run: ProgramRun, resource: RegisteredResource, type_token: str, name: str) -> bool:
    return one(run, type_token, name).urn in resource.dependencies


def test_standard_gateway_api_installs_pinned_charts_with_kserve_values(run_config):
    run = run_config({"kserve": {}, "models": [MODEL]})
    found = charts(run)
    assert sorted(found) == [
        "cert-manager",
        "envoy-gateway",
        "envoy-gateway-crds",
        "kserve-crd",
        "kserve-resources",
        "kserve-runtime-configs",
    ]
    cert_manager = found["cert-manager"].inputs
    assert (cert_manager["chart"], cert_manager["version"]) == ("cert-manager", "v1.17.0")
    assert cert_manager["repositoryOpts"]["repo"] == "https://charts.jetstack.io"
    assert cert_manager["values"]["crds"]["enabled"] is True
    for name, chart in (
        ("kserve-crd", "kserve-crd"),
        ("kserve-resources", "kserve-resources"),
        ("kserve-runtime-configs", "kserve-runtime-configs"),
    ):
        inputs = found[name].inputs
        assert inputs["chart"] == f"oci://ghcr.io/kserve/charts/{chart}"
        assert inputs["version"] == "v0.20.0"
        assert inputs["namespace"] == "kserve"
    controller = found["kserve-resources"].inputs["values"]["kserve"]["controller"]
    assert controller["deploymentMode"] == "Standard"
    assert controller["gateway"]["ingressGateway"] == {
        "enableGatewayApi": True,
        "kserveGateway": "kserve/kserve-ingress-gateway",
        "createGateway": False,
    }
    assert controller["gateway"]["disableIngressCreation"] is False
    runtimes = found["kserve-runtime-configs"].inputs["values"]["kserve"]["servingruntime"]
    assert runtimes["enabled"] is True
    # MLServer pinned to 1.7.1 whatever the chart's default (1.5.0) says; every other built-in runtime off.
    assert runtimes["mlserver"] == {"disabled": False, "image": "docker.io/seldonio/mlserver", "tag": "1.7.1"}
    assert runtimes["sklearnserver"] == {"disabled": True} and runtimes["vllmserver"] == {"disabled": True}

    crds = one(run, CONFIG_FILE, "gateway-api-crds").inputs
    assert (
        crds["file"] == "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.5.1/standard-install.yaml"
    )
    envoy_crds = found["envoy-gateway-crds"].inputs
    assert envoy_crds["chart"] == "oci://docker.io/envoyproxy/gateway-crds-helm"
    assert envoy_crds["values"]["crds"] == {"gatewayAPI": {"enabled": False}, "envoyGateway": {"enabled": True}}
    envoy = found["envoy-gateway"].inputs
    assert (envoy["chart"], envoy["version"], envoy["skipCrds"]) == (
        "oci://docker.io/envoyproxy/gateway-helm",
        "v1.8.1",
        True,
    )
    assert envoy["timeout"] == 600  # kserve.timeouts.create: 10m

    assert run.outputs["kserveInstall"]["versions"] == {
        "kserve": "v0.20.0",
        "mlserverImage": "docker.io/seldonio/mlserver:1.7.1",
        "certManager": "v1.17.0",
        "gatewayApi": "v1.5.1",
        "envoyGateway": "v1.8.1",
    }
    assert run.outputs["kserveInstall"]["ingress"]["gateway"] == "kserve/kserve-ingress-gateway"
    assert run.duplicate_urns() == []


def test_standard_ingress_class_and_none_install_no_gateway(run_config):
    ingress_class = run_config({"kserve": {"ingress": {"mode": "ingressClass", "className": "nginx"}}})
    assert sorted(charts(ingress_class)) == ["cert-manager", "kserve-crd", "kserve-resources", "kserve-runtime-configs"]
    gateway = charts(ingress_class)["kserve-resources"].inputs["values"]["kserve"]["controller"]["gateway"]
    assert gateway["ingressGateway"] == {"enableGatewayApi": False, "className": "nginx"}
    assert ingress_class.outputs["kserveInstall"]["ingress"] == {
        "mode": "ingressClass",
        "ingressClassName": "nginx",
        "hosts": "{name}-{namespace}.example.com",
    }

    internal = run_config({"kserve": {"ingress": {"mode": "none"}, "certManager": {"install": False}}})
    assert sorted(charts(internal)) == ["kserve-crd", "kserve-resources", "kserve-runtime-configs"]
    gateway = charts(internal)["kserve-resources"].inputs["values"]["kserve"]["controller"]["gateway"]
    assert gateway["disableIngressCreation"] is True
    assert not internal.by_type(CONFIG_FILE) and not internal.by_type("kubernetes:gateway.networking.k8s.io/v1:Gateway")


def test_knative_mode_installs_istio_and_knative_serving(run_config):
    run = run_config({"kserve": {"deploymentMode": "Knative"}, "models": [MODEL]})
    found = charts(run)
    assert sorted(found) == [
        "cert-manager",
        "istio-base",
        "istio-ingressgateway",
        "istiod",
        "knative-operator",
        "kserve-crd",
        "kserve-resources",
        "kserve-runtime-configs",
    ]
    for name, chart in (("istio-base", "base"), ("istiod", "istiod"), ("istio-ingressgateway", "gateway")):
        inputs = found[name].inputs
        assert (inputs["chart"], inputs["version"], inputs["namespace"]) == (chart, "1.27.1", "istio-system")
        assert inputs["repositoryOpts"]["repo"] == "https://istio-release.storage.googleapis.com/charts"
    assert found["istio-ingressgateway"].inputs["name"] == "istio-ingressgateway"
    operator = found["knative-operator"].inputs
    assert operator["chart"] == (
        "https://github.com/knative/operator/releases/download/knative-v1.21.1/knative-operator-v1.21.1.tgz"
    )
    serving = one(run, "kubernetes:operator.knative.dev/v1beta1:KnativeServing", "knative-serving").inputs
    assert serving["spec"]["version"] == "1.21.1"
    assert serving["metadata"]["annotations"][WAIT_FOR_ANNOTATION] == "condition=Ready"
    controller = found["kserve-resources"].inputs["values"]["kserve"]["controller"]
    assert controller["deploymentMode"] == "Knative"
    assert controller["gateway"]["ingressGateway"]["className"] == "istio"
    assert controller["gateway"]["ingressGateway"]["enableGatewayApi"] is False
    assert one(run, "kubernetes:networking.k8s.io/v1:IngressClass", "istio").inputs["spec"] == {
        "controller": "istio.io/ingress-controller"
    }
    assert not run.by_type(RELEASE) and not run.by_type(CONFIG_FILE)
    isvc = one(run, ISVC, "models/iris").inputs
    assert isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Knative"


def test_install_false_declares_only_models(run_config):
    # The cluster's KServe is not this stack's: it says who may call its predictors (tests/test_model_namespace.py).
    allow = {"networkPolicy": {"allowFromNamespaces": ["kserve", "envoy-gateway-system"]}}
    run = run_config({"kserve": {"install": False}, "namespaces": allow, "models": [MODEL]})
    install_types = {CHART, RELEASE, CONFIG_FILE}
    assert not [r for r in run.resources if r.type in install_types or r.type.startswith("kserve-platform:install:")]
    isvc = one(run, ISVC, "models/iris")
    # (depends_on a component records its children: here the Namespace and its NetworkPolicy)
    assert set(isvc.dependencies) == {
        one(run, "kubernetes:core/v1:Namespace", "models").urn,
        one(run, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "models/kserve-predictors-ingress").urn,
    }
    assert run.outputs["kserveInstall"] == {
        "installed": False,
        "deploymentMode": "Standard",
        "versions": {"kserve": "v0.20.0"},
    }


def test_install_steps_then_runtimes_then_models_in_order(run_config):
    run = run_config({"kserve": {}, "models": [MODEL]})
    resources = one(run, CHART, "kserve-resources")
    runtimes = one(run, CHART, "kserve-runtime-configs")
    # Controller after its CRDs, cert-manager (Issuer, Certificate) and the networking layer, in its namespace.
    assert depends(run, resources, CHART, "kserve-crd")
    # (depends_on a component records each of its children)
    assert depends(run, resources, CHART, "cert-manager")
    assert depends(run, resources, RELEASE, "envoy-gateway")
    assert depends(run, resources, "kubernetes:gateway.networking.k8s.io/v1:Gateway", "gateway")
    assert depends(run, resources, "kubernetes:core/v1:Namespace", "ns-kserve")
    # Runtimes go through KServe's fail-closed webhook: after the controller.
    assert runtimes.dependencies == [resources.urn]
    # Gateway API: CRDs -> Envoy Gateway CRDs -> controller release -> GatewayClass -> Gateway.
    envoy_crds = one(run, CHART, "envoy-gateway-crds")
    assert depends(run, envoy_crds, CONFIG_FILE, "gateway-api-crds")
    assert depends(run, one(run, RELEASE, "envoy-gateway"), CHART, "envoy-gateway-crds")
    gateway_class = one(run, "kubernetes:gateway.networking.k8s.io/v1:GatewayClass", "gateway-class")
    assert depends(run, gateway_class, RELEASE, "envoy-gateway")
    gateway = one(run, "kubernetes:gateway.networking.k8s.io/v1:Gateway", "gateway")
    assert gateway_class.urn in gateway.dependencies
    # cert-manager's chart into its namespace.
    assert depends(run, one(run, CHART, "cert-manager"), "kubernetes:core/v1:Namespace", "ns-cert-manager")
    # Models: their namespace, then the InferenceService, both after runtimes and the controller.
    namespace_component = one(run, "kserve-platform:models:ModelNamespace", "models")
    assert {resources.urn, runtimes.urn} <= set(namespace_component.dependencies)
    isvc = one(run, ISVC, "models/iris")
    model_namespace = one(run, "kubernetes:core/v1:Namespace", "models")
    assert {model_namespace.urn, resources.urn, runtimes.urn} <= set(isvc.dependencies)


def test_knative_ordering(run_config):
    run = run_config({"kserve": {"deploymentMode": "Knative"}})
    assert depends(run, one(run, CHART, "istiod"), CHART, "istio-base")
    assert depends(run, one(run, CHART, "istio-ingressgateway"), CHART, "istiod")
    serving = one(run, "kubernetes:operator.knative.dev/v1beta1:KnativeServing", "knative-serving")
    assert depends(run, serving, CHART, "knative-operator")
    assert depends(run, serving, CHART, "istio-ingressgateway")
    resources = one(run, CHART, "kserve-resources")
    assert depends(run, resources, "kubernetes:operator.knative.dev/v1beta1:KnativeServing", "knative-serving")
    assert depends(run, resources, CHART, "istio-ingressgateway")
    assert depends(run, resources, CHART, "cert-manager")


def test_install_objects_are_children_of_the_install_and_carry_the_policy_transform(run_config, run_stack):
    run = run_config({"kserve": {}})
    install = one(run, "kserve-platform:install:KServeInstall", "kserve-install")
    assert install.transforms == 1 and install.protect is False
    by_urn = run.by_urn()

    def root(resource: RegisteredResource) -> RegisteredResource:
        while resource.parent in by_urn:
            resource = by_urn[resource.parent]
        return resource

    for resource in run.resources:
        if resource.type in (CHART, RELEASE, CONFIG_FILE):
            assert root(resource).urn == install.urn, resource.name

    prod = run_stack("prod")
    install = one(prod, "kserve-platform:install:KServeInstall", "kserve-install")
    assert install.protect is True
    assert all(r.protect for r in prod.resources if r.type in (CHART, RELEASE, CONFIG_FILE))


def _args(type_token: str, props: dict, custom: bool = True) -> pulumi.ResourceTransformArgs:
    return pulumi.ResourceTransformArgs(
        custom=custom, type_=type_token, name="x", props=props, opts=pulumi.ResourceOptions()
    )


TIMEOUTS = pulumi.CustomTimeouts(create="10m", update="10m", delete="5m")


def test_policy_retains_crds_unless_opted_in_and_waits_for_them():
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "a"}}
    kept = apply_policy(InstallPolicy(retain_crds=True, protect=False, timeouts=TIMEOUTS), _args(CRD_TYPE, crd))
    assert kept.opts.retain_on_delete is True
    assert kept.props["metadata"]["annotations"][WAIT_FOR_ANNOTATION] == CRD_ESTABLISHED
    assert kept.opts.custom_timeouts is TIMEOUTS
    deleted = apply_policy(InstallPolicy(retain_crds=False, protect=False, timeouts=TIMEOUTS), _args(CRD_TYPE, crd))
    assert not deleted.opts.retain_on_delete
    assert "annotations" not in crd["metadata"]  # the chart's own object is not mutated


def test_policy_follows_the_stack_config():
    default = install_policy(KServeConfig(), protect=False)
    assert default.retain_crds is True and default.protect is False
    assert (default.timeouts.create, default.timeouts.update, default.timeouts.delete) == ("10m", "10m", "10m")
    opted_in = install_policy(
        KServeConfig.model_validate({"deleteCrdsOnUninstall": True, "timeouts": {"create": "20m"}}), protect=True
    )
    assert opted_in.retain_crds is False and opted_in.protect is True and opted_in.timeouts.create == "20m"


def test_policy_gates_cert_manager_injected_webhooks_only():
    policy = InstallPolicy(retain_crds=True, protect=True, timeouts=TIMEOUTS)
    webhook_type = "kubernetes:admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration"
    injected = {
        "metadata": {"name": "kserve", "annotations": {"cert-manager.io/inject-ca-from": "kserve/serving-cert"}}
    }
    result = apply_policy(policy, _args(webhook_type, injected))
    assert result.props["metadata"]["annotations"][WAIT_FOR_ANNOTATION] == WEBHOOK_CA_INJECTED
    assert result.opts.protect is True and not result.opts.retain_on_delete
    # Istio's validator is patched by istiod, installed by a later chart: gating it would wait forever.
    istio = apply_policy(policy, _args(webhook_type, {"metadata": {"name": "istiod-default-validator"}}))
    assert WAIT_FOR_ANNOTATION not in (istio.props["metadata"].get("annotations") or {})
    deployment = apply_policy(policy, _args("kubernetes:apps/v1:Deployment", {"metadata": {"name": "d"}}))
    assert deployment.opts.custom_timeouts is TIMEOUTS and deployment.opts.protect is True
    assert apply_policy(policy, _args(CHART, {}, custom=False)) is None


def test_first_party_objects_validate_against_crd_schemas(run_config):
    for values in ({"kserve": {}}, {"kserve": {"deploymentMode": "Knative"}}):
        rendered = manifests.render(run_config(values))
        first_party = [
            o for o in rendered.objects.values() if o["kind"] in ("Gateway", "GatewayClass", "KnativeServing")
        ]
        assert first_party, values
        for obj in first_party:
            assert schema_errors(obj) == [], obj["kind"]


NETWORK_POLICY_CALLERS = "namespaces.networkPolicy.allowFromNamespaces"


@pytest.mark.parametrize(
    ("kserve", "expected"),
    [
        ({"deploymentMode": "Knative", "ingress": {"mode": "gatewayApi"}}, ["kserve.ingress.mode"]),
        ({"knative": {"operatorVersion": "v1.21.1"}}, ["kserve.knative"]),
        # An ingress controller (or a KServe) the stack does not install: the user says who may call the models.
        ({"ingress": {"mode": "ingressClass"}}, ["kserve.ingress.className", NETWORK_POLICY_CALLERS]),
        ({"ingress": {"mode": "none", "className": "nginx"}}, ["kserve.ingress.className"]),
        ({"install": False, "certManager": {"install": True}, "deleteCrdsOnUninstall": True},
         ["kserve.certManager", "kserve.deleteCrdsOnUninstall", NETWORK_POLICY_CALLERS]),
        ({"certManager": {"install": False, "version": "v1.16.0"}}, ["kserve.certManager.version"]),
        ({"version": "latest", "mlserverImage": "docker.io/seldonio/mlserver:latest"}, ["kserve.mlserverImage", "kserve.version"]),
        ({"builtinRuntimes": ["sklearnserver"], "timeouts": {"create": "ten minutes"}},
         ["kserve.builtinRuntimes", "kserve.timeouts.create"]),
        ({"certManager": {"version": "^1.17"}, "deletCrdsOnUninstall": True},
         ["kserve.certManager.version", "kserve.deletCrdsOnUninstall"]),
        ({"deploymentMode": "Knative", "knative": {"gatewayService": {"type": "NodePort", "waitForAddress": False}}},
         ["kserve.knative.gatewayService.waitForAddress"]),
        ({"deploymentMode": "Knative", "knative": {"gatewayService": {"type": "ExternalName"}}},
         ["kserve.knative.gatewayService.type"]),
        ({"builtinRuntimes": ["mlserver", "huggingfaceserver_multinode"]}, ["kserve.builtinRuntimes"]),
    ],
)  # fmt: skip
def test_bad_install_settings_name_their_keys_and_register_nothing(run_config, kserve, expected):
    with pytest.raises(ConfigError) as caught:
        run_config({"kserve": kserve, "models": [MODEL]})
    assert sorted(issue.path for issue in caught.value.issues) == expected


def test_render_lists_every_chart_and_manifest_with_version_and_values(run_config, tmp_path: Path):
    for values in ({"kserve": {}}, {"kserve": {"deploymentMode": "Knative"}}):
        run = run_config(values)
        manifests.write(manifests.render(run), tmp_path)
        listing = yaml.safe_load((tmp_path / manifests.HELM_RELEASES_FILE).read_text())
        registered = {r.name for r in run.resources if r.type in manifests.HELM_TYPES}
        assert {release["resource"] for release in listing["releases"]} == registered
        for release in listing["releases"]:
            assert PINNED.match(release["version"]), release
            assert release["chart"] and isinstance(release["values"], dict)
        files = {item["resource"]: item["file"] for item in listing["manifests"]}
        assert files == {r.name: r.inputs["file"] for r in run.by_type(CONFIG_FILE)}
    kserve = next(r for r in listing["releases"] if r["resource"] == "kserve-resources")
    assert kserve["values"]["kserve"]["controller"]["deploymentMode"] == "Knative"


@pytest.mark.parametrize("stack", ["dev", "staging", "prod", "local"])
def test_stacks_install_kserve_with_pinned_versions(run_stack, stack):
    run = run_stack(stack)
    assert run.outputs["kserveInstall"]["installed"] is True
    for resource in run.resources:
        if resource.type in (CHART, RELEASE):
            assert PINNED.match(resource.inputs["version"]), (stack, resource.name)
    if stack == "local":
        # renderYamlToDirectory renders Chart v4 and ConfigFile v2, not helm.v3.Release (pulumi-kubernetes #1716).
        assert not run.by_type(RELEASE)


def test_no_install_object_is_protected_unless_the_stack_is(run_config, run_stack):
    # A protected object makes `pulumi destroy` and `kserve.install: true -> false` fail: in a stack without
    # `protect`, nothing of the install is protected, KServe's CRD chart included (its CRDs are retained instead).
    for run in (run_config({"models": [MODEL]}), run_stack("dev"), run_stack("staging")):
        install = [r for r in run.resources if r.type.startswith(("kserve-platform:install:", "kubernetes:"))]
        assert install and not any(r.protect for r in install), run.stack
        assert not one(run, CHART, "kserve-crd").protect
    prod = run_stack("prod")
    assert all(r.protect for r in prod.resources)


def _crd_args(annotations: dict, protect: bool | None = None, retain: bool | None = None):
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "certificates.cert-manager.io", "annotations": annotations},
        "spec": {"group": "cert-manager.io"},
    }
    # What the engine passes for a chart child: the provider's options (retainOnDelete from Helm's `keep`) and
    # protect inherited from the chart.
    return pulumi.ResourceTransformArgs(
        custom=True,
        type_=CRD_TYPE,
        name="cert-manager:certificates.cert-manager.io",
        props=crd,
        opts=pulumi.ResourceOptions(protect=protect, retain_on_delete=retain),
    )


def test_transform_keeps_crds_by_retention_and_protects_only_a_protected_stack():
    dev = InstallPolicy(retain_crds=True, protect=False, timeouts=TIMEOUTS)
    # Even a child that inherited protect (a protected chart) comes out unprotected in a dev stack.
    result = apply_policy(dev, _crd_args({}, protect=True))
    assert result.opts.protect is False and result.opts.retain_on_delete is True
    assert result.props["metadata"]["annotations"][RETAIN_ANNOTATION] == "keep"
    prod = InstallPolicy(retain_crds=True, protect=True, timeouts=TIMEOUTS)
    result = apply_policy(prod, _crd_args({}))
    assert result.opts.protect is True and result.opts.retain_on_delete is True


def test_delete_crds_on_uninstall_releases_charts_own_kept_crds():
    # cert-manager's chart writes `helm.sh/resource-policy: keep`, which the provider turns into retainOnDelete.
    opted_in = InstallPolicy(retain_crds=False, protect=False, timeouts=TIMEOUTS)
    result = apply_policy(opted_in, _crd_args({RETAIN_ANNOTATION: "keep"}, retain=True))
    assert result.opts.retain_on_delete is False
    assert RETAIN_ANNOTATION not in result.props["metadata"]["annotations"]


def test_cert_manager_crds_follow_delete_crds_on_uninstall(run_config):
    kept = one(run_config({"models": [MODEL]}), CHART, "cert-manager").inputs["values"]
    assert kept["crds"] == {"enabled": True, "keep": True}
    released = one(run_config({"kserve": {"deleteCrdsOnUninstall": True}}), CHART, "cert-manager").inputs["values"]
    assert released["crds"] == {"enabled": True, "keep": False}


def test_chart_transforms_are_registered_on_the_charts_that_need_them(run_config):
    run = run_config({"kserve": {"deploymentMode": "Knative"}})
    assert one(run, CHART, "istio-base").transform_functions == (own_istio_validation_failure_policy,)
    assert one(run, CHART, "istiod").transform_functions == (own_istio_validation_failure_policy,)
    assert one(run, CHART, "istio-ingressgateway").transform_functions == ()


def test_istio_validator_transform_owns_the_failure_policy_istiod_sets():
    webhook_type = "kubernetes:admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration"
    validator = {
        "metadata": {"name": "istiod-default-validator", "labels": {"app": "istiod"}},
        "webhooks": [{"name": "validation.istio.io", "failurePolicy": "Ignore"}],
    }
    args = pulumi.ResourceTransformArgs(
        True, webhook_type, "istio-base:istiod-default-validator", validator, pulumi.ResourceOptions()
    )
    result = own_istio_validation_failure_policy(args)
    assert result is not None and result.props["webhooks"][0]["failurePolicy"] == "Fail"
    assert validator["webhooks"][0]["failurePolicy"] == "Ignore"  # the rendered object is not mutated
    other = {**validator, "metadata": {"name": "kserve-webhook", "labels": {}}}
    assert (
        own_istio_validation_failure_policy(
            pulumi.ResourceTransformArgs(True, webhook_type, "x", other, pulumi.ResourceOptions())
        )
        is None
    )


def test_knative_gateway_service_settings(run_config):
    def values(service: dict) -> dict:
        run = run_config({"kserve": {"deploymentMode": "Knative", "knative": {"gatewayService": service}}})
        return one(run, CHART, "istio-ingressgateway").inputs["values"]

    assert values({}) == {"service": {"type": "LoadBalancer"}}
    assert values({"type": "NodePort"}) == {"service": {"type": "NodePort"}}
    assert values({"waitForAddress": False}) == {
        "service": {"type": "LoadBalancer", "annotations": {"pulumi.com/skipAwait": "true"}}
    }


def test_huggingface_multinode_runtime_follows_huggingfaceserver(run_config):
    # The chart reads huggingfaceserver.disabled for both runtimes; the program passes only switches it reads.
    run = run_config({"models": [MODEL]})
    runtimes = one(run, CHART, "kserve-runtime-configs").inputs["values"]["kserve"]["servingruntime"]
    assert "huggingfaceserver_multinode" not in runtimes and runtimes["huggingfaceserver"] == {"disabled": True}


# --- chart sources: registries, mirrors, local directories --------------------------------------------------------

SHARED_KSERVE_CHARTS = "../shared/kserve/v0.20.0/charts"


def test_an_oci_mirror_holds_the_chart_itself(run_config):
    run = run_config({"kserve": {"certManager": {"chartRepository": "oci://mirror.example.com/charts"}}})
    inputs = one(run, CHART, "cert-manager").inputs
    assert inputs["chart"] == "oci://mirror.example.com/charts/cert-manager" and not inputs.get("repositoryOpts")
    # The default stays the chart's own https repository.
    default = one(run_config({"kserve": {}}), CHART, "cert-manager").inputs
    assert (default["chart"], default["repositoryOpts"]["repo"]) == ("cert-manager", "https://charts.jetstack.io")


def test_a_local_chart_directory_is_read_from_disk(run_config):
    if not (PROJECT_DIR / SHARED_KSERVE_CHARTS / "kserve-crd" / "Chart.yaml").is_file():
        pytest.skip(f"no unpacked KServe charts at {SHARED_KSERVE_CHARTS} (CI has ../shared beside the checkout)")
    run = run_config({"kserve": {"chartRepository": SHARED_KSERVE_CHARTS}})
    for name in ("kserve-crd", "kserve-resources", "kserve-runtime-configs"):
        inputs = one(run, CHART, name).inputs
        assert inputs["chart"] == str((PROJECT_DIR / SHARED_KSERVE_CHARTS / name).resolve())
        assert not inputs.get("repositoryOpts")


@pytest.mark.parametrize(
    ("kserve", "path", "message"),
    [
        ({"chartRepository": "./no-such-charts"}, "kserve.chartRepository", "no chart at"),
        ({"chartRepository": "file:///charts"}, "kserve.chartRepository", "a local directory"),
        ({"version": "v0.19.0", "chartRepository": SHARED_KSERVE_CHARTS}, "kserve.chartRepository", "pins v0.19.0"),
        ({"ingress": {"gatewayApi": {"envoyGateway": {"chart": "./vendor/gateway-helm"}}}},
         "kserve.ingress.gatewayApi.envoyGateway.chart", "no chart at"),
    ],
)  # fmt: skip
def test_bad_chart_sources_name_their_key(run_config, kserve, path, message):
    if "pins" in message and not (PROJECT_DIR / SHARED_KSERVE_CHARTS).is_dir():
        pytest.skip(f"no unpacked KServe charts at {SHARED_KSERVE_CHARTS} (CI has ../shared beside the checkout)")
    with pytest.raises(ConfigError) as caught:
        run_config({"kserve": kserve, "models": [MODEL]})
    issues = [issue for issue in caught.value.issues if issue.path == path]
    assert issues and message in issues[0].message, caught.value.issues
