"""`monitoring`: the typed setting, the objects it produces (schema-validated against the Prometheus Operator
v0.93.0 CRDs), the model namespaces' NetworkPolicy rule for the scraper, and the metrics port read from MLServer."""

from __future__ import annotations

import json

import pytest
import yaml

from config.errors import ConfigError
from config.monitoring import MLSERVER_METRICS_PATH, MLSERVER_METRICS_PORT
from config.stack import parse_stack_config
from offline.manifests import kubernetes_object
from tests.conftest import model_namespace_resources
from tests.promql import parse
from tests.schemas import KSERVE_DIR, require_shared, schema_errors

NETPOL_TYPE = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
MONITORING_KINDS = ("PodMonitor", "ServiceMonitor", "PrometheusRule")
BUILTIN = {"name": "m", "namespace": "team-a", "format": "sklearn", "storageUri": "gs://bkt/m"}
CUSTOM = {"name": "c", "namespace": "team-b", "image": "reg/custom:1.0"}
ON = {"enabled": True}


def objects(run, kind: str) -> list[dict]:
    found = [kubernetes_object(r) for r in run.resources]
    return [obj for obj in found if obj is not None and obj.get("kind") == kind]


def alerts(run) -> list[dict]:
    (rule,) = objects(run, "PrometheusRule")
    return [alert for group in rule["spec"]["groups"] for alert in group["rules"]]


def test_off_by_default_registers_nothing(run_config) -> None:
    run = run_config({"models": [BUILTIN]})
    assert all(objects(run, kind) == [] for kind in MONITORING_KINDS)
    assert [r for r in run.resources if r.type.startswith("kserve-platform:monitoring")] == []
    (policy,) = [kubernetes_object(r) for r in run.by_type(NETPOL_TYPE)]
    assert len(policy["spec"]["ingress"]) == 1


def test_objects_match_the_prometheus_operator_crds(run_config) -> None:
    require_shared()
    run = run_config({"monitoring": ON, "models": [BUILTIN, CUSTOM]})
    checked = [obj for kind in MONITORING_KINDS for obj in objects(run, kind)]
    assert sorted(obj["kind"] for obj in checked) == ["PodMonitor", "PodMonitor", "PrometheusRule", "ServiceMonitor"]
    for obj in checked:
        assert schema_errors(obj) == [], obj["kind"]
        # kube-prometheus-stack's Prometheus selects its objects by its release label.
        assert obj["metadata"]["labels"] == {"release": "kube-prometheus-stack"}


def test_schema_check_refuses_a_misspelt_pod_monitor_field(run_config) -> None:
    require_shared()
    (pod_monitor, _) = objects(run_config({"monitoring": ON, "models": [BUILTIN, CUSTOM]}), "PodMonitor")
    pod_monitor["spec"]["podMetricsEndpoints"][0]["portNumbr"] = 8082
    assert any("portNumbr" in error for error in schema_errors(pod_monitor))


def test_one_pod_monitor_per_model_scrapes_its_predictor_container_on_the_metrics_port(run_config) -> None:
    values = {"monitoring": {**ON, "models": [{"model": "team-b/c", "metricsPort": 9100}]}, "models": [BUILTIN, CUSTOM]}
    by_model = {pm["metadata"]["namespace"]: pm for pm in objects(run_config(values), "PodMonitor")}
    for namespace, name, port in (("team-a", "m", MLSERVER_METRICS_PORT), ("team-b", "c", 9100)):
        spec = by_model[namespace]["spec"]
        assert spec["selector"] == {"matchLabels": {"serving.kserve.io/inferenceservice": name}}
        (endpoint,) = spec["podMetricsEndpoints"]
        assert endpoint["path"] == MLSERVER_METRICS_PATH
        keep, ipv4, ipv6, isvc = endpoint["relabelings"]
        assert keep == {
            "action": "keep",
            "sourceLabels": ["__meta_kubernetes_pod_container_name"],
            "regex": "kserve-container",
        }
        assert (ipv4["replacement"], ipv6["replacement"]) == (f"$1:{port}", f"[$1]:{port}")
        assert isvc["targetLabel"] == "inferenceservice"


def test_kserve_controller_is_scraped_through_its_rbac_proxy(run_config) -> None:
    run = run_config({"kserve": {"namespace": "kserve-system"}, "monitoring": ON, "models": [BUILTIN]})
    (monitor,) = objects(run, "ServiceMonitor")
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["kserve-system"]}
    (endpoint,) = monitor["spec"]["endpoints"]
    assert (endpoint["port"], endpoint["scheme"]) == ("https", "https")
    assert endpoint["relabelings"][0]["regex"] == "kserve-controller-manager-metrics-service"
    off = run_config({"monitoring": {**ON, "kserveController": False}, "models": [BUILTIN]})
    assert objects(off, "ServiceMonitor") == []


def test_controller_metrics_service_is_the_charts(run_config) -> None:
    """The ServiceMonitor's Service, port name and selector are those KServe's chart renders."""
    require_shared()
    text = (KSERVE_DIR / "charts" / "kserve-resources" / "files" / "kserve" / "resources.yaml").read_text()
    services = {
        doc["metadata"]["name"]: doc for doc in yaml.safe_load_all(text) if doc and doc.get("kind") == "Service"
    }
    service = services["kserve-controller-manager-metrics-service"]
    (monitor,) = objects(run_config({"monitoring": ON, "models": [BUILTIN]}), "ServiceMonitor")
    (endpoint,) = monitor["spec"]["endpoints"]
    assert [port["name"] for port in service["spec"]["ports"]] == [endpoint["port"]]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()


def test_network_policy_admits_the_monitoring_namespace_on_the_metrics_ports_only(run_config) -> None:
    values = {
        "monitoring": {**ON, "namespace": "prom", "models": [{"model": "team-b/c", "metricsPort": 9100}]},
        "models": [BUILTIN, CUSTOM],
    }
    policies = {
        p["metadata"]["namespace"]: p for p in (kubernetes_object(r) for r in run_config(values).by_type(NETPOL_TYPE))
    }
    for namespace, port in (("team-a", MLSERVER_METRICS_PORT), ("team-b", 9100)):
        clients, scraper = policies[namespace]["spec"]["ingress"]
        assert "ports" not in clients
        assert scraper == {
            "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "prom"}}}],
            "ports": [{"protocol": "TCP", "port": port}],
        }
    no_policy = {"namespaces": {"networkPolicy": {"enabled": False}}, "monitoring": ON, "models": [BUILTIN]}
    assert model_namespace_resources(run_config(no_policy), NETPOL_TYPE) == []


def test_alerts_per_model_with_overrides_and_no_not_serving_alert_for_scale_to_zero(run_config) -> None:
    idle = {**BUILTIN, "name": "idle", "minReplicas": 0}
    values = {
        "kserve": {"deploymentMode": "Knative"},
        "monitoring": {
            **ON,
            "alerts": {"errorRatio": 0.1, "latencyP99Seconds": 2, "notServingFor": "3m", "sustainedFor": "15m"},
            "models": [{"model": "team-a/m", "errorRatio": 0.01, "latencyP99Seconds": 0.25}],
        },
        "models": [BUILTIN, idle],
    }
    found = {(a["labels"]["inferenceservice"], a["alert"]): a for a in alerts(run_config(values))}
    assert sorted(found) == [
        ("idle", "KServeModelErrorRatioHigh"),
        ("idle", "KServeModelLatencyP99High"),
        ("m", "KServeModelErrorRatioHigh"),
        ("m", "KServeModelLatencyP99High"),
        ("m", "KServeModelNotServing"),
    ]
    assert found[("m", "KServeModelErrorRatioHigh")]["expr"].endswith("> 0.01")
    assert found[("idle", "KServeModelErrorRatioHigh")]["expr"].endswith("> 0.1")
    assert found[("m", "KServeModelLatencyP99High")]["expr"].endswith("> 0.25")
    assert found[("idle", "KServeModelLatencyP99High")]["expr"].endswith("> 2")
    assert found[("m", "KServeModelNotServing")]["for"] == "3m"
    assert found[("m", "KServeModelErrorRatioHigh")]["for"] == "15m"
    assert found[("m", "KServeModelNotServing")]["labels"]["severity"] == "warning"


def test_error_ratio_counts_the_served_model_name(run_config) -> None:
    custom = {**CUSTOM, "modelName": "centroids"}
    (ratio,) = [a for a in alerts(run_config({"monitoring": ON, "models": [custom]})) if "Error" in a["alert"]]
    for selector in parse(ratio["expr"]).selectors:
        assert {(m.label, m.value) for m in selector.matchers} >= {("model", "centroids"), ("inferenceservice", "c")}


def test_dashboard_configmap_for_the_grafana_sidecar(run_config) -> None:
    values = {"monitoring": {**ON, "dashboards": {"namespace": "grafana"}}, "models": [BUILTIN]}
    (board_map,) = [kubernetes_object(r) for r in run_config(values).by_type("kubernetes:core/v1:ConfigMap")]
    assert board_map["metadata"]["namespace"] == "grafana"
    assert board_map["metadata"]["labels"] == {"grafana_dashboard": "1"}
    (board,) = [json.loads(text) for text in board_map["data"].values()]
    titles = [panel["title"] for panel in board["panels"]]
    assert "Inference requests per second" in titles and "REST inference latency (p50, p90, p99)" in titles
    for panel in board["panels"]:
        for target in panel["targets"]:
            assert parse(target["expr"]).selectors, target["expr"]
    off = {"monitoring": {**ON, "dashboards": {"enabled": False}, "alerts": {"enabled": False}}, "models": [BUILTIN]}
    run = run_config(off)
    assert run.by_type("kubernetes:core/v1:ConfigMap") == [] and objects(run, "PrometheusRule") == []


def test_metrics_port_and_path_are_mlservers_own_defaults() -> None:
    """MLServer 1.7.1 itself says where it serves metrics when nothing sets them."""
    settings = pytest.importorskip("mlserver.settings", reason="MLServer is optional")
    fields = settings.Settings.model_fields
    assert fields["metrics_port"].default == MLSERVER_METRICS_PORT
    assert fields["metrics_endpoint"].default == MLSERVER_METRICS_PATH
    assert fields["http_port"].default == 8080


def test_neither_kserves_runtime_nor_the_program_moves_the_metrics_port(run_stack) -> None:
    require_shared()
    runtime = yaml.safe_load((KSERVE_DIR / "runtimes" / "kserve-mlserver.yaml").read_text())
    (container,) = runtime["spec"]["containers"]
    names = {var["name"] for var in container["env"]}
    assert "MLSERVER_HTTP_PORT" in names and not names & {"MLSERVER_METRICS_PORT", "MLSERVER_METRICS_ENDPOINT"}
    # The runtime's annotation names the REST port, where MLServer has no /metrics (tests/test_monitoring_live.py).
    assert runtime["spec"]["annotations"]["prometheus.kserve.io/port"] == "8080"
    for stack in ("dev", "staging", "prod"):
        for resource in run_stack(stack).by_type("kubernetes:serving.kserve.io/v1beta1:InferenceService"):
            text = json.dumps(kubernetes_object(resource))
            assert "MLSERVER_METRICS" not in text, stack


def test_bad_monitoring_settings_are_all_reported_with_their_keys() -> None:
    values = {
        "models": [BUILTIN, CUSTOM],
        "monitoring": {
            "enabled": True,
            "alerts": {"errorRatio": 1.5},
            "models": [
                {"model": "team-a/nope"},
                {"model": "team-a/m", "metricsPort": 9100},
                {"model": "team-b/c", "metricsPort": 9100},
            ],
        },
    }
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(values)
    paths = {issue.path for issue in caught.value.issues}
    assert paths >= {"monitoring.alerts.errorRatio", "monitoring.models[0].model", "monitoring.models[1].metricsPort"}
    assert not any(path.startswith("monitoring.models[2]") for path in paths)


def test_a_malformed_model_entry_is_not_also_reported_as_unknown_to_monitoring() -> None:
    broken = {**BUILTIN, "minReplicas": "three"}
    values = {"models": [broken], "monitoring": {"enabled": True, "models": [{"model": "team-a/m"}]}}
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(values)
    assert [issue.path for issue in caught.value.issues] == ["models[0].minReplicas"]


def test_grpc_models_get_no_rest_latency_alert(run_config) -> None:
    runtime = {
        "name": "fraud-mlserver",
        "image": "registry.example.com/fraud-mlserver:1.2.0",
        "supportedModelFormats": [{"name": "fraud-pipeline", "version": "1", "priority": 1}],
        "protocolVersions": ["v2", "grpc-v2"],
    }
    grpc = {
        **BUILTIN,
        "format": "fraud-pipeline",
        "protocolVersion": "grpc-v2",
        "runtime": "fraud-mlserver",
        # A grpc-v2 model declares its gRPC port (config/predictor.py), or KServe routes HTTP/1 to it.
        "ports": [{"name": "grpc", "containerPort": 9000}],
    }
    values = {"runtimes": [runtime], "monitoring": ON, "models": [grpc]}
    names = sorted(a["alert"] for a in alerts(run_config(values)))
    assert names == ["KServeModelErrorRatioHigh", "KServeModelNotServing"]
