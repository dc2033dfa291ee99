"""The install's charts rendered for real (helm, the chart sources in ../shared) with the values the program passes:
every value takes effect, no object is applied by two parts of the install, hooks Chart v4 skips are replaced, and
the options the engine would give each child (protect, retainOnDelete, transforms) are the documented ones."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import yaml
from conftest import STACKS, settings_for, stack_settings
from policy_harness import chart_children, require_rendering

from components.install.knative import SKIP_AWAIT_ANNOTATION
from components.install.safety import RETAIN_ANNOTATION, WAIT_FOR_ANNOTATION, WEBHOOK_CA_INJECTED
from config.kserve import KNATIVE_OPERATOR_CHART_URL, KNATIVE_OPERATOR_VERSION, GatewayApiConfig
from offline import charts
from offline.program import ProgramRun, run_program

# ../shared holds no Knative operator chart: Knative runs render every chart but that one.
KNATIVE_OPERATOR = frozenset({charts.chart_name(KNATIVE_OPERATOR_CHART_URL.format(version=KNATIVE_OPERATOR_VERSION))})
KNATIVE = {"kserve": {"deploymentMode": "Knative"}}
NODE_PORT = {"kserve": {"deploymentMode": "Knative", "knative": {"gatewayService": {"type": "NodePort"}}}}
NO_WAIT = {"kserve": {"deploymentMode": "Knative", "knative": {"gatewayService": {"waitForAddress": False}}}}
DELETE_CRDS = {"kserve": {"deleteCrdsOnUninstall": True}}
# Every way the program configures a chart: the committed stacks, and the settings no committed stack uses.
SCENARIOS: dict[str, dict[str, Any] | None] = {
    **dict.fromkeys(STACKS),
    "knative": KNATIVE,
    "knative-node-port": NODE_PORT,
    "knative-no-wait": NO_WAIT,
    "delete-crds": DELETE_CRDS,
    # Chart v4 reading KServe's charts from a local directory (relative to the project directory).
    "local-chart-source": {"kserve": {"chartRepository": "../shared/kserve/v0.20.0/charts"}},
}
CHART = charts.CHART_V4
RELEASE = charts.RELEASE_V3
CONFIG_FILE = "kubernetes:yaml/v2:ConfigFile"
_RUNS: dict[str, ProgramRun] = {}


def scenario_run(name: str) -> ProgramRun:
    if name not in _RUNS:
        values = SCENARIOS[name]
        settings = stack_settings(name) if values is None else settings_for(values)
        _RUNS[name] = run_program(settings, name if values is None else "test")
    return _RUNS[name]


def installs(run: ProgramRun) -> list[charts.ChartInstall]:
    return [i for i in charts.chart_installs(run.resources) if i.name not in KNATIVE_OPERATOR]


def install_named(run: ProgramRun, resource_name: str) -> charts.ChartInstall:
    found = [i for i in installs(run) if i.resource_name == resource_name]
    assert len(found) == 1, resource_name
    return found[0]


def objects(rendered: charts.Rendered, kind: str, name: str | None = None) -> list[dict[str, Any]]:
    return [o for o in rendered.objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]


@pytest.fixture(autouse=True)
def _rendering() -> None:
    require_rendering()


# --- every value the program passes takes effect -----------------------------------------------------------------


def leaves(values: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(values, dict) and values:
        for key, value in values.items():
            yield from leaves(value, (*path, key))
    else:
        yield path, values


def probe(value: Any) -> Any:
    """A different value of the same type."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return f"{value}-probe"
    raise AssertionError(f"no probe for {value!r}")


def with_leaf(values: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(values)
    node = changed
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return changed


def value_probes() -> list[tuple[str, str, tuple[str, ...]]]:
    """(scenario, chart, value path): each path any scenario passes to a chart, probed in the first that does."""
    seen: set[tuple[str, tuple[str, ...]]] = set()
    cases = []
    for scenario in SCENARIOS:
        for install in installs(scenario_run(scenario)):
            for path, _ in leaves(install.values):
                if path and (install.resource_name, path) not in seen:
                    seen.add((install.resource_name, path))
                    cases.append((scenario, install.resource_name, path))
    return cases


def test_every_value_the_program_passes_changes_what_the_chart_renders() -> None:
    """For each value path of each chart in each scenario: a different value renders different objects (or the chart
    refuses it), so the chart reads that path. A value a chart ignores (istiod's `proxy.autoInject`) fails here."""
    cases = value_probes()
    assert len(cases) > 20

    def ignored(case: tuple[str, str, tuple[str, ...]]) -> str | None:
        scenario, resource_name, path = case
        install = install_named(scenario_run(scenario), resource_name)
        current = dict(leaves(install.values))[path]
        try:
            probed = charts.template_install(install, with_leaf(dict(install.values), path, probe(current)))
        except charts.ChartRenderError:
            return None
        # helm's output order is deterministic, so equal text means the value changed nothing.
        if probed == charts.template_install(install):
            return f"{scenario}: {resource_name} {'.'.join(path)}={current!r}"
        return None

    for scenario in {scenario for scenario, _, _ in cases}:
        scenario_run(scenario)  # the program runs in this thread; only helm runs in parallel
    with ThreadPoolExecutor(max_workers=4) as pool:
        found = [result for result in pool.map(ignored, cases) if result]
    assert found == []


def test_istiod_disables_sidecar_injection() -> None:
    istiod = charts.render_install(install_named(scenario_run("knative"), "istiod"))
    injector = objects(istiod, "ConfigMap", "istio-sidecar-injector")
    assert len(injector) == 1
    assert yaml.safe_load(injector[0]["data"]["config"])["policy"] == "disabled"


def test_cert_manager_keeps_its_crds_unless_the_user_opts_in_to_deleting_them() -> None:
    for scenario, kept in (("dev", True), ("delete-crds", False)):
        rendered = charts.render_install(install_named(scenario_run(scenario), "cert-manager"))
        crds = objects(rendered, "CustomResourceDefinition")
        assert len(crds) == 6
        assert all((c["metadata"].get("annotations", {}).get(RETAIN_ANNOTATION) == "keep") is kept for c in crds)


def test_envoy_gateway_leaves_the_gateway_api_safe_upgrade_policy_to_the_gateway_api_manifest() -> None:
    release = install_named(scenario_run("dev"), "envoy-gateway")
    assert release.type == RELEASE and release.skip_crds
    rendered = charts.render_install(release)
    kinds = {o["kind"] for o in rendered.all()}
    assert not kinds & {"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "CustomResourceDefinition"}
    # With the chart's default, the crds subchart renders both despite skip_crds.
    default = charts.render_install(release, {})
    assert {"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"} <= {o["kind"] for o in default.all()}


# --- hooks: Chart v4 skips them ------------------------------------------------------------------------------------


def test_hooks_only_where_a_helm_release_runs_them_or_a_readiness_gate_replaces_them() -> None:
    """Chart v4 does not run Helm hooks. gateway-helm's certgen Job creates the TLS secrets Envoy Gateway needs to
    start, so that chart stays a helm.v3.Release (which runs it); cert-manager's startupapicheck Job only waits
    for the webhook to answer, which the install's caBundle gate on cert-manager's webhooks replaces."""
    hooks = {}
    for scenario in SCENARIOS:
        for install in installs(scenario_run(scenario)):
            found = sorted(f"{o['kind']}/{o['metadata']['name']}" for o in charts.render_install(install).hooks)
            if found:
                hooks[(install.name, install.type)] = found
    assert set(hooks) == {("gateway-helm", RELEASE), ("cert-manager", CHART)}
    assert "Job/eg-gateway-helm-certgen" in hooks[("gateway-helm", RELEASE)]
    assert [h for h in hooks[("cert-manager", CHART)] if h.startswith("Job/")] == ["Job/cert-manager-startupapicheck"]
    webhooks = [
        c
        for c in chart_children(scenario_run("dev"))
        if c.parent.endswith("::cert-manager") and c.type.endswith("WebhookConfiguration")
    ]
    assert len(webhooks) == 2
    assert all(w.inputs["metadata"]["annotations"][WAIT_FOR_ANNOTATION] == WEBHOOK_CA_INJECTED for w in webhooks)


# --- no object is applied twice -----------------------------------------------------------------------------------


def _identity_of_registration(resource: Any) -> tuple[str, str, str, str]:
    api_version, kind = resource.type.split(":", 1)[1].rsplit(":", 1)
    group = api_version.rpartition("/")[0]
    metadata = resource.inputs.get("metadata") or {}
    return ("" if group == "core" else group), kind, metadata.get("namespace") or "", metadata.get("name") or ""


def gateway_api_manifest(config: GatewayApiConfig) -> list[dict[str, Any]]:
    """The objects of Gateway API's standard-install.yaml at the pinned version: the bundle Envoy Gateway's CRD chart
    carries verbatim (checked against the pinned CRDs in ../shared/deps/gateway-api)."""
    source = charts.local_chart(config.envoy_gateway.crds_chart, config.envoy_gateway.version)
    values = {"crds": {"gatewayAPI": {"enabled": True, "channel": "standard"}, "envoyGateway": {"enabled": False}}}
    bundle = charts.render_chart(source, "gateway-api", "default", values).objects
    crds = [o for o in bundle if o["kind"] == "CustomResourceDefinition"]
    versions = {o["metadata"]["annotations"]["gateway.networking.k8s.io/bundle-version"] for o in crds}
    assert versions == {config.crds_version}
    pinned = charts.SHARED_DIR / "deps" / "gateway-api" / config.crds_version / "crds"
    files = [p.stem.split("_", 1) for p in pinned.glob("*.yaml")]
    assert {o["metadata"]["name"] for o in crds} == {f"{plural}.{group}" for group, plural in files}
    return bundle


def everything_applied(run: ProgramRun) -> list[tuple[str, tuple[str, str, str, str]]]:
    """(part, identity) of every object the install and the program apply."""
    applied = []
    for install in installs(run):
        rendered = charts.render_install(install)
        parts = rendered.all() if install.type == RELEASE else rendered.objects
        applied += [(install.resource_name, charts.identity(o)) for o in parts]
    for resource in run.by_type(CONFIG_FILE):
        assert resource.name == "gateway-api-crds"
        applied += [(resource.name, charts.identity(o)) for o in gateway_api_manifest(GatewayApiConfig())]
    for resource in run.resources:
        if (
            resource.custom
            and resource.type.startswith("kubernetes:")
            and resource.type not in (CHART, RELEASE, CONFIG_FILE)
        ):
            applied.append(("program", _identity_of_registration(resource)))
    return applied


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_no_object_is_applied_by_two_parts_of_the_install(scenario: str) -> None:
    applied = everything_applied(scenario_run(scenario))
    counts = Counter(identity for _, identity in applied)
    duplicates = {identity: [p for p, i in applied if i == identity] for identity, n in counts.items() if n > 1}
    assert duplicates == {}
    assert len(applied) > 50


# --- Knative mode without a load balancer; istiod's webhook --------------------------------------------------------


def _gateway_service(scenario: str) -> dict[str, Any]:
    rendered = charts.render_install(install_named(scenario_run(scenario), "istio-ingressgateway"))
    services = objects(rendered, "Service", "istio-ingressgateway")
    assert len(services) == 1
    return services[0]


def test_knative_gateway_service_type_and_address_wait_are_settings() -> None:
    default = _gateway_service("knative")
    assert default["spec"]["type"] == "LoadBalancer"
    assert SKIP_AWAIT_ANNOTATION not in (default["metadata"].get("annotations") or {})
    node_port = _gateway_service("knative-node-port")
    assert node_port["spec"]["type"] == "NodePort"
    no_wait = _gateway_service("knative-no-wait")
    assert no_wait["spec"]["type"] == "LoadBalancer"
    assert no_wait["metadata"]["annotations"][SKIP_AWAIT_ANNOTATION] == "true"


def test_istio_validating_webhooks_are_applied_with_the_failure_policy_istiod_sets() -> None:
    children = chart_children(scenario_run("knative"), without=KNATIVE_OPERATOR)
    validators = [c for c in children if c.type.endswith(":ValidatingWebhookConfiguration") and "istio" in c.name]
    assert sorted(v.inputs["metadata"]["name"] for v in validators) == [
        "istio-validator-istio-system",
        "istiod-default-validator",
    ]
    for validator in validators:
        assert {w["failurePolicy"] for w in validator.inputs["webhooks"]} == {"Fail"}
    # What the charts render (the value istiod later rewrites, which server-side apply would fight over).
    for name in ("istio-base", "istiod"):
        rendered = charts.render_install(install_named(scenario_run("knative"), name))
        webhooks = [w for o in objects(rendered, "ValidatingWebhookConfiguration") for w in o["webhooks"]]
        assert webhooks and {w["failurePolicy"] for w in webhooks} == {"Ignore"}


def test_a_local_chart_source_renders_from_that_directory() -> None:
    install = install_named(scenario_run("local-chart-source"), "kserve-resources")
    assert (
        charts.local_chart(install.chart, install.version)
        == (charts.SHARED_DIR / "kserve" / "v0.20.0" / "charts" / "kserve-resources").resolve()
    )
    assert objects(charts.render_install(install), "Deployment", "kserve-controller-manager")
