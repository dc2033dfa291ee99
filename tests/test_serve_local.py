"""`python -m cli serve` end to end on the real MLServer: tiny models trained here, written where a stack file
points, served on a free loopback port through the command, answered over the V2 protocol exactly as the
in-process model answers. Needs `pip install -r requirements-mlserver.txt` (CI installs it)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from localserve.server import free_port, request
from tests.conftest import PROJECT_DIR, fixture_stack_file

pytest.importorskip("mlserver", reason="MLServer is optional: pip install -r requirements-mlserver.txt")
pytest.importorskip("mlserver_sklearn")
pytest.importorskip("mlserver_xgboost")
joblib = pytest.importorskip("joblib")
np = pytest.importorskip("numpy")
datasets = pytest.importorskip("sklearn.datasets")
linear_model = pytest.importorskip("sklearn.linear_model")
neighbors = pytest.importorskip("sklearn.neighbors")
xgb = pytest.importorskip("xgboost")


READY_TIMEOUT_S = 90
# The stack's tuning for the sklearn model: every key reaches MLServer (the version is visible in the V2 API).
SKLEARN_TUNING = {"parallelWorkers": 2, "maxBatchSize": 4, "maxBatchTime": 0.01, "modelVersion": "v7"}


def iris() -> tuple[np.ndarray, np.ndarray]:
    features, labels = datasets.load_iris(return_X_y=True)
    return features, labels


def v2_request(rows: np.ndarray, outputs: list[str] | None = None) -> dict:
    body: dict = {
        "inputs": [{"name": "input-0", "shape": list(rows.shape), "datatype": "FP64", "data": rows.ravel().tolist()}]
    }
    if outputs:
        body["outputs"] = [{"name": name} for name in outputs]
    return body


def output(response: dict, name: str) -> np.ndarray:
    (tensor,) = [o for o in response["outputs"] if o["name"] == name]
    return np.asarray(tensor["data"]).reshape(tensor["shape"])


class Served:
    """A running `python -m cli serve` process and the port its MLServer listens on."""

    def __init__(self, args: list[str], workdir: Path, quiet: bool = True):
        self.port = free_port()
        self.stdout = workdir / "serve_local.out"
        self.stderr = workdir / "serve_local.err"
        with self.stdout.open("w") as out, self.stderr.open("w") as err:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "cli",
                    "serve",
                    *args,
                    "--port",
                    str(self.port),
                    *(["--quiet"] if quiet else []),
                ],
                cwd=PROJECT_DIR,
                stdout=out,
                stderr=err,
                text=True,
            )

    def output(self) -> str:
        return self.stdout.read_text() + self.stderr.read_text()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if "is ready after" in self.stdout.read_text():
                return
            if self.process.poll() is not None:
                pytest.fail(f"serve_local exited with {self.process.returncode}:\n{self.output()}")
            time.sleep(0.2)
        self.stop()
        pytest.fail(f"serve_local did not report ready within {READY_TIMEOUT_S}s:\n{self.output()}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def write_stack(path: Path, models: list[dict]) -> Path:
    document = {
        "config": {
            "kserve-platform:kserve": {"deploymentMode": "Standard"},
            "kserve-platform:models": models,
        }
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict:
    """Tiny models trained in the test, saved in the artifact form MLServer's runtimes load."""
    root = tmp_path_factory.mktemp("artifacts")
    features, labels = iris()
    sklearn_model = linear_model.LogisticRegression(max_iter=1000).fit(features, labels)
    (root / "sklearn").mkdir()
    joblib.dump(sklearn_model, root / "sklearn" / "model.joblib")
    xgb_model = xgb.XGBClassifier(n_estimators=20, max_depth=3).fit(features, labels)
    (root / "xgboost").mkdir()
    xgb_model.save_model(root / "xgboost" / "model.json")
    return {"root": root, "sklearn": sklearn_model, "xgboost": xgb_model}


@pytest.fixture(scope="module")
def stack_file(tmp_path_factory, trained) -> Path:
    """A stack file like dev's, with storageUri pointing at the artifacts trained above."""
    root = trained["root"]
    return write_stack(
        tmp_path_factory.mktemp("stack") / "Pulumi.test.yaml",
        [
            {
                "name": "my-model",
                "namespace": "models-test",
                "format": "sklearn",
                "protocolVersion": "v2",
                "storageUri": f"file://{root / 'sklearn'}",
                "mlserver": SKLEARN_TUNING,
            },
            {
                "name": "xgboost-iris",
                "namespace": "models-test",
                "format": "xgboost",
                "protocolVersion": "v2",
                "storageUri": f"file://{root / 'xgboost'}",
            },
            {
                "name": "broken",
                "namespace": "models-test",
                "format": "sklearn",
                "storageUri": f"file://{root / 'broken'}",
            },
        ],
    )


def _serve(tmp_path_factory, args: list[str]):
    served = Served(args, tmp_path_factory.mktemp("run"))
    served.wait_ready()
    yield served
    assert served.stop() == 0, served.output()


@pytest.fixture(scope="module")
def sklearn_server(tmp_path_factory, stack_file):
    yield from _serve(tmp_path_factory, ["--stack", "test", "--config-file", str(stack_file), "--model", "my-model"])


@pytest.fixture(scope="module")
def xgboost_server(tmp_path_factory, stack_file):
    yield from _serve(
        tmp_path_factory, ["--stack", "test", "--config-file", str(stack_file), "--model", "xgboost-iris"]
    )


@pytest.fixture(scope="module")
def custom_server(tmp_path_factory):
    # The seed's dev stack and the project's runtime folder, exactly as a user runs it.
    yield from _serve(
        tmp_path_factory, ["--stack", "dev", "--config-file", str(fixture_stack_file("dev")), "--model", "custom-model"]
    )


def test_sklearn_predictions_equal_the_in_process_model(sklearn_server, trained):
    features, _ = iris()
    status, body = request(sklearn_server.port, "POST", "/v2/models/my-model/infer", v2_request(features))
    assert status == 200, body
    np.testing.assert_array_equal(output(body, "predict").ravel(), trained["sklearn"].predict(features))


def test_sklearn_probabilities_and_the_configured_version(sklearn_server, trained):
    features, _ = iris()
    path = "/v2/models/my-model/versions/v7/infer"
    status, body = request(sklearn_server.port, "POST", path, v2_request(features[:10], ["predict_proba"]))
    assert status == 200, body
    assert body["model_name"] == "my-model" and body["model_version"] == "v7"
    np.testing.assert_allclose(output(body, "predict_proba"), trained["sklearn"].predict_proba(features[:10]))


def test_stack_settings_reached_mlserver_and_are_printed(sklearn_server):
    text = sklearn_server.stdout.read_text()
    assert '"parallel_workers": 2' in text and '"max_batch_size": 4' in text
    assert "MLSERVER_PARALLEL_WORKERS" in text and "parallel workers: 2" in text
    # Two inference worker processes really run and loaded the model (the uvloop pin at work).
    assert len(_workers(sklearn_server.process.pid)) == 2
    assert "Couldn't load model" not in sklearn_server.output()


def test_default_worker_pool_is_mlservers_default(custom_server):
    # The dev stack sets no `mlserver:` block: MLServer's default pool (1 worker), as on the cluster.
    assert len(_workers(custom_server.process.pid)) == 1


def test_printed_curl_example_runs(sklearn_server):
    lines = [line.strip() for line in sklearn_server.stdout.read_text().splitlines()]
    (infer,) = [line for line in lines if line.startswith("curl") and line.endswith("/v2/models/my-model/infer")]
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    result = subprocess.run(infer, shell=True, capture_output=True, text=True, timeout=30, check=True)
    answer = json.loads(result.stdout)
    assert answer["model_name"] == "my-model" and output(answer, "predict").shape == (1, 1)


def test_malformed_v2_request_gets_mlservers_error(sklearn_server):
    port = sklearn_server.port
    status, body = request(port, "POST", "/v2/models/my-model/infer", {"inputs": [{"name": "x", "data": [1]}]})
    assert status == 422 and any(item["loc"][-1] == "shape" for item in body["detail"])
    wrong_width = {"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP64", "data": [1.0, 2.0, 3.0]}]}
    status, body = request(port, "POST", "/v2/models/my-model/infer", wrong_width)
    # MLServer passes the runtime's own exception through; scikit-learn's is not an MLServerError, hence 500.
    assert status == 500 and "4 features" in body["error"]
    status, body = request(port, "POST", "/v2/models/no-such-model/infer", wrong_width)
    assert status == 404 and "no-such-model" in body["error"]


def test_xgboost_predictions_equal_the_in_process_model(xgboost_server, trained):
    features, _ = iris()
    body_in = v2_request(features, ["predict", "predict_proba"])
    status, body = request(xgboost_server.port, "POST", "/v2/models/xgboost-iris/infer", body_in)
    assert status == 200, body
    np.testing.assert_array_equal(output(body, "predict").ravel(), trained["xgboost"].predict(features))
    np.testing.assert_allclose(output(body, "predict_proba"), trained["xgboost"].predict_proba(features), rtol=1e-6)


def test_custom_runtime_predictions_equal_a_nearest_centroid_model(custom_server):
    features, labels = iris()
    reference = neighbors.NearestCentroid().fit(features, labels)
    # The committed artifact is what NearestCentroid learns from iris.
    shipped = json.loads((PROJECT_DIR / "runtimes" / "custom-mlserver" / "centroids.json").read_text())
    np.testing.assert_allclose(shipped["centroids"], reference.centroids_)
    status, body = request(custom_server.port, "POST", "/v2/models/custom-model/infer", v2_request(features))
    assert status == 200, body
    np.testing.assert_array_equal(output(body, "predict").ravel(), reference.predict(features))
    status, body = request(custom_server.port, "POST", "/v2/models/custom-model/infer", v2_request(features[:, :3]))
    assert status == 400 and "[N, 4]" in body["error"]


def test_printed_curl_uses_the_inputs_the_model_declares(custom_server):
    # runtimes/custom-mlserver/model-settings.json declares the input `features` (FP64, [-1, 4]).
    lines = [line.strip() for line in custom_server.stdout.read_text().splitlines()]
    (infer,) = [line for line in lines if line.startswith("curl") and line.endswith("/v2/models/custom-model/infer")]
    assert '"name": "features"' in infer and "input-0" not in infer and "adjust" not in infer
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    result = subprocess.run(infer, shell=True, capture_output=True, text=True, timeout=30, check=True)
    answer = json.loads(result.stdout)
    assert answer["model_name"] == "custom-model" and output(answer, "predict").shape == (1, 1)


def test_echoed_log_has_no_runpy_warning_and_no_doubled_lines(tmp_path, stack_file):
    served = Served(["--stack", "test", "--config-file", str(stack_file), "--model", "my-model"], tmp_path, quiet=False)
    served.wait_ready()
    assert served.stop() == 0, served.output()
    echoed = served.stderr.read_text()
    assert "RuntimeWarning" not in echoed and "found in sys.modules" not in echoed, echoed
    assert "Loaded model 'my-model' successfully" in echoed
    lifecycle = [line for line in echoed.splitlines() if line.startswith("INFO:") and ' - "' not in line]
    doubled = sorted({line for line in lifecycle if lifecycle.count(line) > 1})
    assert doubled == [], f"echoed more than once: {doubled}"


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists() and not _zombie(pid)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux only")
def test_sigkilled_serve_local_leaves_no_mlserver_behind(tmp_path, stack_file):
    served = Served(["--stack", "test", "--config-file", str(stack_file), "--model", "my-model"], tmp_path)
    served.wait_ready()
    servers = _children(served.process.pid)
    workers = _workers(served.process.pid)
    assert servers and len(workers) == 2, "MLServer and its two workers run"
    served.process.kill()  # SIGKILL: serve_local runs no cleanup at all
    served.process.wait(timeout=10)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(_alive(pid) for pid in servers + workers):
        time.sleep(0.2)
    left = [pid for pid in servers + workers if _alive(pid)]
    for pid in left:  # do not leak them into the rest of the run
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert left == [], f"orphaned MLServer processes: {left}"


def test_sigterm_stops_mlserver_and_its_workers(tmp_path, stack_file):
    served = Served(["--stack", "test", "--config-file", str(stack_file), "--model", "xgboost-iris"], tmp_path)
    served.wait_ready()
    mlserver_pids = _children(served.process.pid)
    assert mlserver_pids, "serve_local should have started MLServer"
    server_pids = mlserver_pids + [child for pid in mlserver_pids for child in _children(pid)]
    assert served.stop() == 0
    assert "stopped" in served.stdout.read_text()
    time.sleep(0.5)
    assert [pid for pid in server_pids if Path(f"/proc/{pid}").exists() and not _zombie(pid)] == []


def test_model_that_fails_to_load_exits_non_zero_with_the_log_tail(tmp_path, stack_file, trained):
    broken = trained["root"] / "broken"
    broken.mkdir(exist_ok=True)
    (broken / "model.joblib").write_bytes(b"this is not a joblib pickle")
    result = subprocess.run(
        [sys.executable, "-m", "cli", "serve", "--stack", "test", "--config-file", str(stack_file), "--model", "broken",
         "--port", str(free_port()), "--quiet", "--ready-timeout", "60"],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 4, result.stdout + result.stderr
    assert "before model 'broken' was ready" in result.stderr
    assert "last lines of MLServer's log" in result.stderr and "  | " in result.stderr


def test_unknown_model_and_unfetchable_artifact_are_clear_errors(stack_file):
    run = [sys.executable, "-m", "cli", "serve", "--stack", "test", "--config-file", str(stack_file)]
    result = subprocess.run(
        [*run, "--model", "nope"], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2 and "models-test/my-model" in result.stderr
    dev = [sys.executable, "-m", "cli", "serve", "--stack", "dev", "--config-file", str(fixture_stack_file("dev"))]
    dev += ["--model", "my-model"]
    result = subprocess.run(dev, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=60, check=False)
    # The dev stack's artifact lives in a public bucket: without a client library (or network) the command
    # says how to serve it anyway.
    assert result.returncode == 3 and "--model-dir" in result.stderr


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


def _workers(serve_local_pid: int) -> list[int]:
    """MLServer's inference workers: processes its main process spawned with multiprocessing."""
    found = []
    for server in _children(serve_local_pid):
        for child in _children(server):
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
            if b"multiprocessing.spawn" in cmdline:
                found.append(child)
    return found


def _zombie(pid: int) -> bool:
    try:
        return (Path(f"/proc/{pid}") / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return False
