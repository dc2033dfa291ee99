"""Observability for every model: Prometheus Operator objects that scrape each model's MLServer and KServe's
controller, a Grafana dashboard (ConfigMap for the dashboard sidecar) and alert rules (PrometheusRule).

Why PodMonitors, not ServiceMonitors: MLServer serves metrics on its own port (8082, see config/monitoring.py),
which no Service exposes: KServe's predictor Service (Standard mode) carries only the inference port, and in
Knative mode the queue-proxy fronts only that port too. A PodMonitor reaches the pod IP directly; as the port is
not declared on the container (KServe's runtime declares none for it, and Knative allows one container port), the
target address is rewritten to `<pod IP>:<metrics port>` (the PodMonitor CRD's own advice for undeclared ports;
Prometheus keeps one target when several declared ports rewrite to the same address).

Every query below uses only series MLServer 1.7.1 exports (checked live in tests/test_monitoring_live.py) plus
`up` and the target labels this PodMonitor attaches (`TARGET_LABELS`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.manifest import custom_resource
from config.kserve_admission import DEFAULT_MIN_REPLICAS, PREDICTOR_CONTAINER
from config.models import ModelConfig
from config.monitoring import MLSERVER_METRICS_PATH, MonitoringConfig

API_VERSION = "monitoring.coreos.com/v1"
# KServe labels every pod of an InferenceService with its name.
ISVC_POD_LABEL = "serving.kserve.io/inferenceservice"
# Target labels the scrape attaches: the Prometheus Operator's own (from the pod) and ours (the model's name).
OPERATOR_TARGET_LABELS = ("namespace", "pod", "container", "job", "instance")
INFERENCESERVICE_LABEL = "inferenceservice"
TARGET_LABELS = (*OPERATOR_TARGET_LABELS, INFERENCESERVICE_LABEL)
# Series Prometheus itself writes for every target.
SYNTHETIC_METRICS = ("up",)
RATE_WINDOW = "5m"
# starlette_exporter labels REST requests by route template (`/v2/models/{model_name}/infer` and the versioned one).
INFER_PATH = 'path=~".*/infer"'
DASHBOARD_UID = "kserve-platform-models"
RULES_NAME = "kserve-platform-models"
DASHBOARD_NAME = "kserve-platform-models-dashboard"
CONTROLLER_METRICS_SERVICE = "kserve-controller-manager-metrics-service"


def _model_matchers(model: ModelConfig) -> str:
    return f'namespace="{model.namespace}", {INFERENCESERVICE_LABEL}="{model.name}"'


def pod_monitor_manifest(model: ModelConfig, config: MonitoringConfig) -> dict[str, Any]:
    port = config.metrics_port(model)
    return {
        "apiVersion": API_VERSION,
        "kind": "PodMonitor",
        "metadata": {
            "name": f"{model.name}-mlserver",
            "namespace": model.namespace,
            "labels": dict(config.selector_labels),
        },
        "spec": {
            "selector": {"matchLabels": {ISVC_POD_LABEL: model.name}},
            "podMetricsEndpoints": [
                {
                    "path": MLSERVER_METRICS_PATH,
                    "interval": config.scrape_interval,
                    "relabelings": [
                        # One target per pod: the predictor container (not queue-proxy, not init containers).
                        {
                            "action": "keep",
                            "sourceLabels": ["__meta_kubernetes_pod_container_name"],
                            "regex": PREDICTOR_CONTAINER,
                        },
                        {
                            "action": "replace",
                            "sourceLabels": ["__meta_kubernetes_pod_ip"],
                            "regex": "([^:]+)",
                            "targetLabel": "__address__",
                            "replacement": f"$1:{port}",
                        },
                        {
                            "action": "replace",
                            "sourceLabels": ["__meta_kubernetes_pod_ip"],
                            "regex": "(.+:.+)",
                            "targetLabel": "__address__",
                            "replacement": f"[$1]:{port}",
                        },
                        {
                            "action": "replace",
                            "sourceLabels": ["__meta_kubernetes_pod_label_serving_kserve_io_inferenceservice"],
                            "targetLabel": INFERENCESERVICE_LABEL,
                        },
                    ],
                }
            ],
        },
    }


def controller_service_monitor_manifest(config: MonitoringConfig, kserve_namespace: str) -> dict[str, Any]:
    """KServe's controller binds its metrics to 127.0.0.1:8080 and publishes them through kube-rbac-proxy on 8443
    (the chart's `kserve-controller-manager-metrics-service`, port `https`), which admits a token allowed
    `get` on the non-resource URL /metrics (kube-prometheus-stack's Prometheus ClusterRole grants it) and serves a
    certificate it generates itself, hence no CA to verify against."""
    return {
        "apiVersion": API_VERSION,
        "kind": "ServiceMonitor",
        "metadata": {
            "name": "kserve-controller-manager",
            "namespace": config.namespace,
            "labels": dict(config.selector_labels),
        },
        "spec": {
            "namespaceSelector": {"matchNames": [kserve_namespace]},
            "selector": {"matchLabels": {"control-plane": "kserve-controller-manager"}},
            "endpoints": [
                {
                    "port": "https",
                    "scheme": "https",
                    "path": "/metrics",
                    "interval": config.scrape_interval,
                    "bearerTokenFile": "/var/run/secrets/kubernetes.io/serviceaccount/token",
                    "tlsConfig": {"insecureSkipVerify": True},
                    "relabelings": [
                        # Two Services select the controller pods; only this one names its 8443 port.
                        {
                            "action": "keep",
                            "sourceLabels": ["__meta_kubernetes_service_name"],
                            "regex": CONTROLLER_METRICS_SERVICE,
                        }
                    ],
                }
            ],
        },
    }


def not_serving_expr(model: ModelConfig) -> str:
    selector = f"up{{{_model_matchers(model)}}}"
    return f"sum({selector}) == 0 or absent({selector})"


def error_ratio_expr(model: ModelConfig, bound: float) -> str:
    # MLServer counts every inference it handles in model_infer_request_duration (a Summary, REST and gRPC) and
    # those that raised in model_infer_request_failure, both labelled with the served model's name.
    matchers = f'{_model_matchers(model)}, model="{model.served_model_name}"'
    failures = f"sum(rate(model_infer_request_failure_total{{{matchers}}}[{RATE_WINDOW}]))"
    requests = f"sum(rate(model_infer_request_duration_count{{{matchers}}}[{RATE_WINDOW}]))"
    return f"{failures} / {requests} > {bound:g}"


def latency_quantile_expr(quantile: float, matchers: str, by: Sequence[str]) -> str:
    bucket = f"rest_server_request_duration_seconds_bucket{{{matchers}}}"
    return f"histogram_quantile({quantile:g}, sum by ({', '.join([*by, 'le'])}) (rate({bucket}[{RATE_WINDOW}])))"


def latency_p99_expr(model: ModelConfig, bound: float) -> str:
    return f"{latency_quantile_expr(0.99, f'{_model_matchers(model)}, {INFER_PATH}', [])} > {bound:g}"


def _alert(name: str, model: ModelConfig, expr: str, duration: str, labels: dict[str, str], summary: str) -> dict:
    return {
        "alert": name,
        "expr": expr,
        "for": duration,
        "labels": {**labels, "namespace": model.namespace, INFERENCESERVICE_LABEL: model.name},
        "annotations": {"summary": summary},
    }


def alert_rules(models: Sequence[ModelConfig], config: MonitoringConfig) -> list[dict[str, Any]]:
    alerts = config.alerts
    rules = []
    for model in models:
        min_replicas = DEFAULT_MIN_REPLICAS if model.min_replicas is None else model.min_replicas
        # A model allowed to scale to zero has no target while idle: "no replica up" is then normal.
        if min_replicas > 0:
            rules.append(
                _alert(
                    "KServeModelNotServing",
                    model,
                    not_serving_expr(model),
                    alerts.not_serving_for,
                    alerts.labels,
                    f"{model.key}: no MLServer replica has answered a metrics scrape for {alerts.not_serving_for}",
                )
            )
        ratio = config.error_ratio(model)
        rules.append(
            _alert(
                "KServeModelErrorRatioHigh",
                model,
                error_ratio_expr(model, ratio),
                alerts.sustained_for,
                alerts.labels,
                f"{model.key}: more than {ratio:.0%} of inference requests fail",
            )
        )
        # The latency histogram is MLServer's REST middleware's: a gRPC model's inferences never reach it.
        if model.protocol.startswith("grpc"):
            continue
        p99 = config.latency_p99_seconds(model)
        rules.append(
            _alert(
                "KServeModelLatencyP99High",
                model,
                latency_p99_expr(model, p99),
                alerts.sustained_for,
                alerts.labels,
                f"{model.key}: p99 REST inference latency above {p99:g}s",
            )
        )
    return rules


def prometheus_rule_manifest(models: Sequence[ModelConfig], config: MonitoringConfig) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "PrometheusRule",
        "metadata": {"name": RULES_NAME, "namespace": config.namespace, "labels": dict(config.selector_labels)},
        "spec": {"groups": [{"name": "kserve-platform.models", "rules": alert_rules(models, config)}]},
    }


def _panel(panel_id: int, title: str, unit: str, targets: list[tuple[str, str]], y: int, x: int) -> dict[str, Any]:
    return {
        "id": panel_id,
        "type": "timeseries",
        "title": title,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"h": 8, "w": 12, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [
            {"refId": chr(ord("A") + index), "expr": expr, "legendFormat": legend}
            for index, (expr, legend) in enumerate(targets)
        ],
    }


def dashboard(config: MonitoringConfig) -> dict[str, Any]:
    """Per model (namespace/inferenceservice): request rate, errors, latency percentiles, replicas up."""
    per_model = ["namespace", INFERENCESERVICE_LABEL]
    by = f"sum by ({', '.join(per_model)})"
    legend = "{{namespace}}/{{inferenceservice}}"
    window = f"[{RATE_WINDOW}]"
    panels = [
        _panel(1, "Inference requests per second", "reqps",
               [(f"{by} (rate(model_infer_request_duration_count{window}))", legend)], 0, 0),
        _panel(2, "Failed inference requests per second", "reqps",
               [(f"{by} (rate(model_infer_request_failure_total{window}))", legend)], 0, 12),
        _panel(3, "Error ratio", "percentunit",
               [(f"{by} (rate(model_infer_request_failure_total{window})) / "
                 f"{by} (rate(model_infer_request_duration_count{window}))", legend)], 8, 0),
        _panel(4, "REST inference responses by status code", "reqps",
               [(f"sum by (namespace, {INFERENCESERVICE_LABEL}, status_code) "
                 f"(rate(rest_server_requests_total{{{INFER_PATH}}}{window}))",
                 f"{legend} {{{{status_code}}}}")], 8, 12),
        _panel(5, "REST inference latency (p50, p90, p99)", "s",
               [(latency_quantile_expr(q, INFER_PATH, per_model), f"{legend} p{round(q * 100)}")
                for q in (0.5, 0.9, 0.99)], 16, 0),
        _panel(6, "Replicas answering scrapes", "short",
               [(f'{by} (up{{{INFERENCESERVICE_LABEL}!=""}})', legend)], 16, 12),
    ]  # fmt: skip
    return {
        "uid": DASHBOARD_UID,
        "title": "KServe models (MLServer)",
        "tags": ["kserve", "mlserver", "kserve-platform"],
        "schemaVersion": 39,
        "editable": False,
        "refresh": config.scrape_interval,
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [{"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Data source"}]
        },
        "panels": panels,
    }


def dashboard_expressions(board: dict[str, Any]) -> list[str]:
    return [target["expr"] for panel in board["panels"] for target in panel["targets"]]


@dataclass
class MonitoringArgs:
    config: MonitoringConfig
    models: list[ModelConfig]
    kserve_namespace: str
    # Each model namespace the stack owns, as dependencies: a PodMonitor waits for its namespace.
    namespace_dependencies: dict[str, list[pulumi.Resource]]


class Monitoring(pulumi.ComponentResource):
    """The scrape configs, dashboard and alerts of `monitoring`; registered only when it is enabled."""

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kserve-platform:monitoring:Monitoring", name, None, opts)
        config = args.config
        self.pod_monitors = {
            model.key: custom_resource(
                f"{model.key}/pod-monitor",
                pod_monitor_manifest(model, config),
                pulumi.ResourceOptions(parent=self, depends_on=args.namespace_dependencies.get(model.namespace, [])),
            )
            for model in args.models
        }
        self.controller_monitor = (
            custom_resource(
                "kserve-controller/service-monitor",
                controller_service_monitor_manifest(config, args.kserve_namespace),
                pulumi.ResourceOptions(parent=self),
            )
            if config.kserve_controller
            else None
        )
        self.rules = (
            custom_resource(
                f"{config.namespace}/{RULES_NAME}",
                prometheus_rule_manifest(args.models, config),
                pulumi.ResourceOptions(parent=self),
            )
            if config.alerts.enabled and args.models
            else None
        )
        self.dashboard = (
            k8s.core.v1.ConfigMap(
                f"{config.dashboard_namespace}/{DASHBOARD_NAME}",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=DASHBOARD_NAME, namespace=config.dashboard_namespace, labels=dict(config.dashboards.labels)
                ),
                data={f"{DASHBOARD_UID}.json": json.dumps(dashboard(config), indent=2, sort_keys=True)},
                opts=pulumi.ResourceOptions(parent=self),
            )
            if config.dashboards.enabled
            else None
        )
        self.pod_monitor_names: list[str] = sorted(self.pod_monitors)
        self.register_outputs(
            {
                "namespace": config.namespace,
                "podMonitors": self.pod_monitor_names,
                "controllerScraped": self.controller_monitor is not None,
                "alertRules": self.rules is not None,
                "dashboard": self.dashboard is not None,
            }
        )
