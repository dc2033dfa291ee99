"""Proof that the monitoring objects query what MLServer 1.7.1 really exports: the program renders the PodMonitor,
the alert rules and the dashboard for a stack with monitoring on; the same stack's model is served on the real
MLServer through `python -m cli serve` on the ports the cluster uses (8080 HTTP, the metrics port the config names),
inside a private network namespace; inference requests (one failing) go in; the metrics endpoint at the
PodMonitor's port and path is scraped; every metric name, label and label value the queries use must be there.
Needs `pip install -r requirements-mlserver.txt` and `unshare` (root, as CI runs)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from components.monitoring import SYNTHETIC_METRICS, TARGET_LABELS, dashboard_expressions
from config.monitoring import MLSERVER_METRICS_PATH, MLSERVER_METRICS_PORT
from tests.conftest import PROJECT_DIR
from tests.promql import Query, parse

pytest.importorskip("mlserver", reason="MLServer is optional: pip install -r requirements-mlserver.txt")
pytest.importorskip("mlserver_sklearn")
joblib = pytest.importorskip("joblib")
datasets = pytest.importorskip("sklearn.datasets")
linear_model = pytest.importorskip("sklearn.linear_model")
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402  (installed with MLServer)

MODEL = {"name": "my-model", "namespace": "models-test", "format": "sklearn", "protocolVersion": "v2"}
# The cluster's HTTP port (KServe's kserve-mlserver runtime: MLSERVER_HTTP_PORT=8080).
CLUSTER_HTTP_PORT = 8080

Scrape = dict[str, list[dict[str, str]]]  # sample name -> label sets


def _private_network_available() -> str | None:
    """Why a private network namespace cannot be made here (None when it can)."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "needs unshare and ip (util-linux, iproute2)"
    probe = subprocess.run(["unshare", "--net", "true"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return f"cannot create a network namespace here: {probe.stderr.strip()}"
    return None


def stack_values(artifact: Path) -> dict:
    return {
        "kserve": {"deploymentMode": "Standard"},
        "monitoring": {"enabled": True},
        "models": [{**MODEL, "storageUri": f"file://{artifact}"}],
    }


@pytest.fixture(scope="module")
def artifact(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("artifact")
    features, labels = datasets.load_iris(return_X_y=True)
    joblib.dump(linear_model.LogisticRegression(max_iter=1000).fit(features, labels), root / "model.joblib")
    return root


@pytest.fixture(scope="module")
def rendered(artifact):
    """The PodMonitor, alert rules and dashboard the program registers for the stack (mocked run)."""
    from offline.program import run_program
    from tests.conftest import settings_for

    run = run_program(settings_for(stack_values(artifact)), "test")
    (pod_monitor,) = [r.inputs for r in run.resources if r.inputs.get("kind") == "PodMonitor"]
    (rule,) = [r.inputs for r in run.resources if r.inputs.get("kind") == "PrometheusRule"]
    (board_map,) = [r.inputs for r in run.resources if r.type == "kubernetes:core/v1:ConfigMap"]
    (board_json,) = board_map["data"].values()
    alerts = [alert for group in rule["spec"]["groups"] for alert in group["rules"]]
    return {"pod_monitor": pod_monitor, "alerts": alerts, "dashboard": json.loads(board_json)}


def scrape_address(pod_monitor: dict) -> tuple[int, str]:
    """The port and path Prometheus scrapes, read from the PodMonitor the program produced."""
    (endpoint,) = pod_monitor["spec"]["podMetricsEndpoints"]
    (ipv4,) = [
        r for r in endpoint["relabelings"] if r.get("targetLabel") == "__address__" and "[" not in r["replacement"]
    ]
    return int(ipv4["replacement"].rsplit(":", 1)[1]), endpoint["path"]


@pytest.fixture(scope="module")
def probed(rendered, artifact, tmp_path_factory) -> dict:
    reason = _private_network_available()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    port, path = scrape_address(rendered["pod_monitor"])
    workdir = tmp_path_factory.mktemp("probe")
    stack_file = workdir / "Pulumi.probe.yaml"
    stack_file.write_text(
        json.dumps({"config": {f"kserve-platform:{k}": v for k, v in stack_values(artifact).items()}})
    )
    out = workdir / "result.json"
    probe = (
        f"ip link set lo up && exec {sys.executable} -m tests.metrics_probe --stack-file {stack_file} "
        f"--model {MODEL['name']} --http-port {CLUSTER_HTTP_PORT} --metrics-port {port} --metrics-path {path} "
        f"--out {out}"
    )
    done = subprocess.run(
        ["unshare", "--net", "sh", "-c", probe],
        check=False,
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    result = json.loads(out.read_text()) if out.exists() else {}
    assert done.returncode == 0, f"{done.stdout}{done.stderr}{result.get('error', '')}"
    return result


def parse_scrape(text: str) -> Scrape:
    samples: Scrape = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(dict(sample.labels))
    return samples


def unknown_names(query: Query, scrape: Scrape) -> list[str]:
    """What the query uses that the scrape (plus Prometheus' own `up` and the target labels) does not have."""
    problems = []
    available: set[str] = set(TARGET_LABELS)
    for selector in query.selectors:
        if selector.metric in SYNTHETIC_METRICS:
            for matcher in selector.matchers:
                if matcher.label not in TARGET_LABELS:
                    problems.append(f"{selector.metric}: {matcher.label} is no target label")
            continue
        series = scrape.get(selector.metric)
        if not series:
            problems.append(f"no metric {selector.metric}")
            continue
        labels = {name for label_set in series for name in label_set}
        available |= labels
        for matcher in selector.matchers:
            if matcher.label in TARGET_LABELS:
                continue  # set by the scrape config (checked against the PodMonitor below)
            if matcher.label not in labels:
                problems.append(f"{selector.metric} has no label {matcher.label}")
            elif not any(matcher.matches(label_set.get(matcher.label)) for label_set in series):
                problems.append(f"no {selector.metric} series with {matcher.label}{matcher.op}{matcher.value!r}")
    problems.extend(f"grouping label {label} is on none of the series" for label in query.grouping_labels - available)
    return problems


def all_queries(rendered: dict) -> list[str]:
    return [alert["expr"] for alert in rendered["alerts"]] + dashboard_expressions(rendered["dashboard"])


def test_the_scrape_address_is_mlservers_metrics_server(rendered):
    assert scrape_address(rendered["pod_monitor"]) == (MLSERVER_METRICS_PORT, MLSERVER_METRICS_PATH)


def test_metrics_are_served_where_the_pod_monitor_scrapes_and_not_on_the_http_port(probed):
    assert probed["infer_statuses"] == [200, 200, 200, 500], probed
    assert probed["metrics_status"] == 200
    # KServe's runtime annotates prometheus.kserve.io/port '8080': MLServer's REST app has no /metrics route.
    assert probed["http_port_metrics_status"] == 404
    assert f"http://127.0.0.1:{MLSERVER_METRICS_PORT}{MLSERVER_METRICS_PATH}" in probed["ready_output"]


def test_every_metric_and_label_the_dashboard_and_alerts_query_is_exported(rendered, probed):
    scrape = parse_scrape(probed["metrics"])
    queries = all_queries(rendered)
    assert len(queries) >= 3 + 6
    problems = {expr: unknown_names(parse(expr), scrape) for expr in queries}
    assert {expr: found for expr, found in problems.items() if found} == {}


def test_the_failed_request_reaches_the_series_the_error_alert_divides(probed):
    scrape = parse_scrape(probed["metrics"])
    failures = [s for s in scrape["model_infer_request_failure_total"] if s["model"] == MODEL["name"]]
    assert failures, scrape["model_infer_request_failure_total"]
    text = probed["metrics"]
    values = {
        line.split(" ")[0]: float(line.split(" ")[1]) for line in text.splitlines() if line and not line.startswith("#")
    }
    assert values[f'model_infer_request_failure_total{{model="{MODEL["name"]}",version="None"}}'] == 1.0
    assert values[f'model_infer_request_duration_count{{model="{MODEL["name"]}",version="None"}}'] == 4.0


def test_target_labels_the_queries_use_come_from_the_pod_monitor(rendered):
    pod_monitor = rendered["pod_monitor"]
    (endpoint,) = pod_monitor["spec"]["podMetricsEndpoints"]
    ours = {r["targetLabel"] for r in endpoint["relabelings"] if not r.get("targetLabel", "__").startswith("__")}
    assert ours == {"inferenceservice"}
    assert pod_monitor["metadata"]["namespace"] == MODEL["namespace"]
    assert pod_monitor["spec"]["selector"]["matchLabels"] == {"serving.kserve.io/inferenceservice": MODEL["name"]}
    for alert in rendered["alerts"]:
        for selector in parse(alert["expr"]).selectors:
            values = {m.label: m.value for m in selector.matchers if m.op == "="}
            assert values["namespace"] == MODEL["namespace"] and values["inferenceservice"] == MODEL["name"]


def test_the_check_finds_a_metric_or_label_mlserver_does_not_export(probed):
    scrape = parse_scrape(probed["metrics"])
    assert unknown_names(parse("sum(rate(model_infer_request_errors_total[5m]))"), scrape) == [
        "no metric model_infer_request_errors_total"
    ]
    assert unknown_names(parse('rate(rest_server_requests_total{route=~".*/infer"}[5m])'), scrape) == [
        "rest_server_requests_total has no label route"
    ]
    assert unknown_names(parse('rate(rest_server_requests_total{path="/v2/models/my-model/infer"}[5m])'), scrape) == [
        "no rest_server_requests_total series with path='/v2/models/my-model/infer'"
    ]
    assert unknown_names(parse("sum by (model_name) (rate(model_infer_request_failure_total[5m]))"), scrape) == [
        "grouping label model_name is on none of the series"
    ]
