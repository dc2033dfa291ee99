"""`monitoring`: Prometheus Operator scraping, a Grafana dashboard and alert rules for every model (off by default).

Where MLServer 1.7.1 serves its metrics, read from MLServer itself (`mlserver/settings.py`, `mlserver/metrics/`):
`Settings.metrics_port: int = 8082` and `Settings.metrics_endpoint = "/metrics"`, served by a separate uvicorn
server (`MetricsServer`), not by the REST app on `http_port`. KServe's `kserve-mlserver` runtime sets only
`MLSERVER_HTTP_PORT=8080` and `MLSERVER_GRPC_PORT=9000`, so on the cluster the metrics are on 8082; its
annotation `prometheus.kserve.io/port: '8080'` points at the REST app, which answers `/metrics` with 404.
A custom MLServer image listens where its own settings.json says (a settings.json value beats the
`MLSERVER_METRICS_PORT` env), hence the per-model `metricsPort`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from config.base import StrictModel
from config.kserve import Duration
from config.kubernetes import DnsLabel, LabelMap, check_dns_label
from config.models import ModelConfig, check_isvc_name

# MLServer 1.7.1's own defaults (mlserver.settings.Settings); nothing KServe or this program sets changes them.
MLSERVER_METRICS_PORT = 8082
MLSERVER_METRICS_PATH = "/metrics"

# kube-prometheus-stack's Prometheus selects PodMonitors, ServiceMonitors and PrometheusRules carrying its release
# label (`release: <release name>`, the chart's default `...SelectorNilUsesHelmValues: true`).
DEFAULT_SELECTOR_LABELS = {"release": "kube-prometheus-stack"}
# The label Grafana's dashboard sidecar (kube-prometheus-stack: `grafana.sidecar.dashboards.label`) looks for.
DEFAULT_DASHBOARD_LABELS = {"grafana_dashboard": "1"}

Ratio = Annotated[float, Field(gt=0, le=1)]
Seconds = Annotated[float, Field(gt=0)]
Port = Annotated[int, Field(ge=1, le=65535)]


def _check_model_key(value: str) -> str:
    namespace, slash, name = value.partition("/")
    try:
        if not slash:
            raise ValueError("no '/'")
        check_dns_label(namespace)
        check_isvc_name(name)
    except ValueError:
        raise ValueError(f"{value!r} does not name a model as namespace/name (e.g. models/iris)") from None
    return value


# A model of `models` as `namespace/name` (ModelConfig.key).
ModelKey = Annotated[str, AfterValidator(_check_model_key)]


class DashboardsConfig(StrictModel):
    """A Grafana dashboard in a ConfigMap that Grafana's dashboard sidecar picks up."""

    enabled: bool = Field(True, description="Ship the Grafana dashboard as a ConfigMap the Grafana sidecar loads.")
    namespace: DnsLabel | None = Field(
        None,
        description=(
            "Namespace of the dashboard ConfigMap; unset: `monitoring.namespace` (the sidecar's "
            "default `searchNamespace` in kube-prometheus-stack is Grafana's own namespace)."
        ),
    )
    labels: LabelMap = Field(
        default_factory=lambda: dict(DEFAULT_DASHBOARD_LABELS),
        description=(
            "Labels on the dashboard ConfigMap; Grafana's dashboard sidecar picks up ConfigMaps carrying its label."
        ),
    )


class AlertThresholds(StrictModel):
    """Bounds an alert fires on; each may be overridden per model under `monitoring.models`."""

    error_ratio: Ratio | None = Field(
        None,
        description=(
            "Share of inference requests that fail (MLServer's model_infer_request_failure_total over all requests)."
        ),
    )
    latency_p99_seconds: Seconds | None = Field(
        None, description="99th percentile of the REST inference latency, in seconds."
    )


class AlertsConfig(StrictModel):
    enabled: bool = Field(True, description="Declare the PrometheusRule with the model alerts.")
    error_ratio: Ratio = Field(
        0.05, description="Alert when this share of inference requests fails (0..1), sustained for sustainedFor."
    )
    latency_p99_seconds: Seconds = Field(
        1.0,
        description=(
            "Alert when the 99th percentile of REST inference latency exceeds this many seconds, "
            "sustained for sustainedFor."
        ),
    )
    not_serving_for: Duration = Field(
        "5m", description='How long no replica of a model may be scraped successfully before "stops serving" fires.'
    )
    sustained_for: Duration = Field(
        "10m", description=("How long the error ratio or the latency must stay above its bound before the alert fires.")
    )
    labels: LabelMap = Field(
        default_factory=lambda: {"severity": "warning"},
        description="Labels on every alert (e.g. routing in Alertmanager).",
    )


class ModelMonitoring(AlertThresholds):
    """Per-model settings: `model` names an entry of `models` as `namespace/name`."""

    model: ModelKey = Field(description="The model these settings are for, as namespace/name (an entry of models).")
    metrics_port: Port | None = Field(
        None, description="Custom MLServer images only: the metrics_port the image's settings.json sets."
    )


class MonitoringConfig(StrictModel):
    enabled: bool = Field(
        False,
        description=(
            "Scrape every model's MLServer metrics with the Prometheus Operator, ship a Grafana "
            "dashboard and alerts. Needs the Prometheus Operator CRDs in the cluster."
        ),
    )
    namespace: DnsLabel = Field(
        "monitoring",
        description=(
            "Namespace the Prometheus (Operator) runs in: the PodMonitors, ServiceMonitor and "
            "PrometheusRule go there and the model namespaces' NetworkPolicy admits it on the metrics "
            "port."
        ),
    )
    selector_labels: LabelMap = Field(
        default_factory=lambda: dict(DEFAULT_SELECTOR_LABELS),
        description="Labels the Prometheus' podMonitorSelector / serviceMonitorSelector / ruleSelector match.",
    )
    scrape_interval: Duration = Field("30s", description="How often Prometheus scrapes the models (e.g. 30s).")
    kserve_controller: bool = Field(True, description="Also scrape KServe's controller (its kube-rbac-proxy on 8443).")
    dashboards: DashboardsConfig = Field(default_factory=DashboardsConfig, description="The Grafana dashboard.")
    alerts: AlertsConfig = Field(
        default_factory=AlertsConfig, description="Alerts for every model: not serving, error ratio, latency."
    )
    models: list[ModelMonitoring] = Field(
        default_factory=list,
        description=("Per-model overrides of the alert thresholds (and a custom image's metrics port), by model name."),
    )

    @model_validator(mode="after")
    def _unique_models(self) -> MonitoringConfig:
        seen: set[str] = set()
        for entry in self.models:
            if entry.model in seen:
                raise ValueError(f"monitoring.models names '{entry.model}' twice: merge the two entries")
            seen.add(entry.model)
        return self

    @property
    def dashboard_namespace(self) -> str:
        return self.dashboards.namespace or self.namespace

    def override(self, model: ModelConfig) -> ModelMonitoring | None:
        return next((entry for entry in self.models if entry.model == model.key), None)

    def metrics_port(self, model: ModelConfig) -> int:
        entry = self.override(model)
        return entry.metrics_port if entry and entry.metrics_port else MLSERVER_METRICS_PORT

    def error_ratio(self, model: ModelConfig) -> float:
        entry = self.override(model)
        return entry.error_ratio if entry and entry.error_ratio is not None else self.alerts.error_ratio

    def latency_p99_seconds(self, model: ModelConfig) -> float:
        entry = self.override(model)
        if entry and entry.latency_p99_seconds is not None:
            return entry.latency_p99_seconds
        return self.alerts.latency_p99_seconds

    def metrics_ports(self, models: Sequence[ModelConfig], namespace: str) -> list[int]:
        """Ports Prometheus scrapes in one model namespace (what its NetworkPolicy must admit)."""
        return sorted({self.metrics_port(model) for model in models if model.namespace == namespace})

    def issues(
        self, models: Sequence[tuple[int, ModelConfig]], all_models_valid: bool = True
    ) -> Iterator[tuple[tuple[str | int, ...], str]]:
        """Per-model entries that name no model, or set a port only a custom image can choose. While some model
        entries are malformed (reported on their own), an unmatched name may be one of them: not reported."""
        by_key = {model.key: model for _, model in models}
        for index, entry in enumerate(self.models):
            model = by_key.get(entry.model)
            if model is None and all_models_valid:
                declared = ", ".join(sorted(by_key)) or "none"
                yield (
                    ("monitoring", "models", index, "model"),
                    f"'{entry.model}' is not a model of this stack (namespace/name, declared: {declared})",
                )
            elif model is not None and entry.metrics_port is not None and not model.is_custom_image:
                yield (
                    ("monitoring", "models", index, "metricsPort"),
                    (
                        f"{model.key} runs on KServe's kserve-mlserver runtime, whose MLServer always serves metrics "
                        f"on {MLSERVER_METRICS_PORT}; metricsPort is for custom images whose settings.json sets "
                        "metrics_port: remove it"
                    ),
                )
