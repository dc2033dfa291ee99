"""The one translation "model entry -> MLServer settings" and where it lands: the InferenceService env
(rendered by the real program under mocks), the local repository files, and MLServer's own settings classes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from config import ConfigError, ModelConfig, parse_stack_config
from config import mlserver as translate
from config.runtimes import BUILTIN_RUNTIMES
from localserve import preflight
from localserve.repository import NotServable, Ports, build_repository, find_runtime_dir
from offline.stackconfig import config_values, load_stack_config
from tests.conftest import PROJECT_DIR, STACKS, fixture_stack_file, stack_settings

ISVC = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
TUNING = {"parallelWorkers": 3, "maxBatchSize": 8, "maxBatchTime": 0.05, "modelVersion": "v2"}
EXPECTED_ENV = [
    {"name": "MLSERVER_PARALLEL_WORKERS", "value": "3"},
    {"name": "MLSERVER_MODEL_MAX_BATCH_SIZE", "value": "8"},
    {"name": "MLSERVER_MODEL_MAX_BATCH_TIME", "value": "0.05"},
    {"name": "MLSERVER_MODEL_VERSION", "value": "v2"},
]
PORTS = Ports(http=18000, grpc=18001, metrics=18002)


def builtin(**extra) -> dict:
    return {"name": "iris", "namespace": "models", "format": "sklearn", "storageUri": "gs://bucket/iris", **extra}


def custom(**extra) -> dict:
    return {"name": "custom-model", "namespace": "models", "image": "my-custom-server:0.1.0", **extra}


def model_of(entry: dict) -> ModelConfig:
    return parse_stack_config({"models": [entry]}).models[0]


def predictor(run, name: str) -> dict:
    (isvc,) = [r for r in run.by_type(ISVC) if r.inputs["metadata"]["name"] == name]
    return isvc.inputs["spec"]["predictor"]


# --- the InferenceService carries the derived env -------------------------------------------------------


def test_builtin_model_env_carries_mlserver_settings(run_config):
    run = run_config({"models": [builtin(mlserver=TUNING, env={"LOG_LEVEL": "debug"})]})
    env = predictor(run, "iris")["model"]["env"]
    assert env == [{"name": "LOG_LEVEL", "value": "debug"}, *EXPECTED_ENV]


def test_custom_container_env_carries_mlserver_settings(run_config):
    run = run_config({"models": [custom(mlserver={"parallelWorkers": 0, "maxBatchSize": 4})]})
    (container,) = predictor(run, "custom-model")["containers"]
    assert container["env"] == [
        {"name": "PROTOCOL", "value": "v2"},
        {"name": "MLSERVER_PARALLEL_WORKERS", "value": "0"},
        {"name": "MLSERVER_MODEL_MAX_BATCH_SIZE", "value": "4"},
    ]


def test_no_mlserver_block_means_no_mlserver_env(run_config):
    run = run_config({"models": [builtin(), custom()]})
    assert "env" not in predictor(run, "iris")["model"]
    (container,) = predictor(run, "custom-model")["containers"]
    assert [var["name"] for var in container["env"]] == ["PROTOCOL"]


@pytest.mark.parametrize("stack", STACKS)
def test_committed_stacks_render_exactly_the_translated_env(run_stack, stack):
    """Whatever the stack files say, the ISVC env is the user's env plus `mlserver_env` and the listen ports
    `port_env` derives from the declared ports, nothing else."""
    _, config = load_stack_config(stack)
    run = run_stack(stack)
    for model in config.deployed_models:
        spec = predictor(run, model.name)
        if model.is_custom_image:
            env = spec["containers"][0]["env"]
            derived = [var for var in env if var["name"].startswith("MLSERVER_")]
        else:
            derived = [var for var in spec["model"].get("env", []) if var["name"].startswith("MLSERVER_")]
        assert derived == translate.mlserver_env(model) + translate.port_env(model)


def test_dev_stack_sklearn_model_runs_inference_in_the_main_process(run_fixture_stack):
    assert predictor(run_fixture_stack("dev"), "my-model")["model"]["env"] == [
        {"name": "MLSERVER_PARALLEL_WORKERS", "value": "0"}
    ]


def test_isvc_with_mlserver_env_is_valid_against_the_crd(run_config):
    from tests.schemas import schema_errors

    run = run_config({"models": [builtin(mlserver=TUNING), custom(mlserver=TUNING)]})
    for isvc in run.by_type(ISVC):
        obj = {key: isvc.inputs[key] for key in ("apiVersion", "kind", "metadata", "spec")}
        assert schema_errors(obj) == []


# --- config rules ------------------------------------------------------------------------------------------


def test_env_that_duplicates_an_mlserver_setting_is_rejected_with_the_key_to_use():
    with pytest.raises(ConfigError) as error:
        parse_stack_config({"models": [builtin(env={"MLSERVER_MODEL_MAX_BATCH_SIZE": "4"})]})
    (issue,) = error.value.issues
    assert issue.path == "models[0].env[0].name"
    assert "mlserver.maxBatchSize" in issue.message


@pytest.mark.parametrize(
    ("tuning", "path"),
    [
        ({"parallelWorkers": -1}, "models[0].mlserver.parallelWorkers"),
        ({"maxBatchSize": 0}, "models[0].mlserver.maxBatchSize"),
        ({"modelVersion": "v1/../x"}, "models[0].mlserver.modelVersion"),
        ({"workers": 2}, "models[0].mlserver.workers"),
    ],
)
def test_bad_mlserver_values_name_their_key(tuning, path):
    with pytest.raises(ConfigError) as error:
        parse_stack_config({"models": [builtin(mlserver=tuning)]})
    assert [issue.path for issue in error.value.issues] == [path]


# --- the settings files for the local server ------------------------------------------------------------


def test_model_settings_for_a_builtin_format():
    model = model_of(builtin(format="xgboost", mlserver=TUNING))
    assert translate.model_settings_json(model, uri="/data/iris") == {
        "name": "iris",
        "implementation": "mlserver_xgboost.XGBoostModel",
        "max_batch_size": 8,
        "max_batch_time": 0.05,
        "parameters": {"uri": "/data/iris", "version": "v2"},
    }
    settings = translate.settings_json(model, host="127.0.0.1", http_port=1, grpc_port=2, metrics_port=3)
    assert settings == {"parallel_workers": 3, "host": "127.0.0.1", "http_port": 1, "grpc_port": 2, "metrics_port": 3}


def test_unset_tuning_leaves_mlserver_defaults():
    model = model_of(builtin())
    assert translate.model_settings_json(model, uri="/m") == {
        "name": "iris",
        "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": "/m"},
    }
    assert translate.mlserver_env(model) == []


def test_every_format_has_an_implementation_and_artifact_names():
    # Every format KServe's MLServer runtime serves has an MLServer implementation and artifact names.
    (mlserver,) = [runtime for runtime in BUILTIN_RUNTIMES if runtime.name == "kserve-mlserver"]
    formats = {support.name for support in mlserver.formats}
    assert formats == set(translate.IMPLEMENTATIONS) == set(translate.WELLKNOWN_ARTIFACTS)


def test_local_repository_files_and_env_match_the_cluster_env(tmp_path):
    artifact = tmp_path / "iris"
    artifact.mkdir()
    (artifact / "model.joblib").write_bytes(b"not read by this test")
    model = model_of(builtin(storageUri=f"file://{artifact}", mlserver=TUNING, env={"LOG_LEVEL": "debug"}))
    shell = {"PATH": "/usr/bin", "MLSERVER_PARALLEL_WORKERS": "9", "MLSERVER_DEBUG": "false"}
    repo = build_repository(model, tmp_path / "repo", PORTS, base_env=shell)
    written = json.loads((tmp_path / "repo" / "iris" / "model-settings.json").read_text())
    assert written == repo.model_settings
    assert written["parameters"] == {"uri": str(artifact), "version": "v2"}
    assert json.loads((tmp_path / "repo" / "settings.json").read_text())["parallel_workers"] == 3
    # The process env: the shell's MLSERVER_* dropped (they would win over nothing we control), the entry's
    # env and exactly the InferenceService's MLSERVER_* env added.
    assert {k: v for k, v in repo.env.items() if k.startswith("MLSERVER_")} == {
        item["name"]: item["value"] for item in EXPECTED_ENV
    }
    assert repo.env["LOG_LEVEL"] == "debug" and repo.env["PATH"] == "/usr/bin"
    assert any("MLSERVER_DEBUG" in note for note in repo.notes)


def test_artifact_without_the_runtime_files_is_refused_early(tmp_path):
    (tmp_path / "iris").mkdir()
    (tmp_path / "iris" / "weights.bin").write_bytes(b"")
    model = model_of(builtin(storageUri=f"file://{tmp_path / 'iris'}"))
    with pytest.raises(NotServable, match=r"model\.joblib / model\.pickle / model\.pkl"):
        build_repository(model, tmp_path / "repo", PORTS, base_env={})


def test_dev_custom_model_is_served_by_the_project_runtime_folder():
    _, stack = load_stack_config("dev", fixture_stack_file("dev"))
    (entry,) = [m for m in stack.models if m.is_custom_image]
    folder = find_runtime_dir(entry)
    assert folder == PROJECT_DIR / "runtimes" / "custom-mlserver"
    model_settings = json.loads((folder / "model-settings.json").read_text())
    # The V2 path the stack exports must be the one the runtime serves.
    assert entry.inference_path == f"/v2/models/{model_settings['name']}/infer"
    # The image must listen where the InferenceService sends traffic.
    assert json.loads((folder / "settings.json").read_text())["http_port"] == entry.container_port


def test_custom_runtime_name_mismatch_is_refused(tmp_path):
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    (runtime / "model-settings.json").write_text(json.dumps({"name": "other", "implementation": "x.Y"}))
    with pytest.raises(NotServable, match="404"):
        build_repository(model_of(custom()), tmp_path / "repo", PORTS, model_dir=runtime, base_env={})


def test_custom_runtime_files_are_overridden_by_the_entry_as_env_overrides_them_on_the_cluster(tmp_path):
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    (runtime / "settings.json").write_text(json.dumps({"http_port": 8080, "parallel_workers": 4}))
    (runtime / "model-settings.json").write_text(
        json.dumps({"name": "custom-model", "implementation": "m.M", "max_batch_size": 2})
    )
    model = model_of(custom(mlserver={"parallelWorkers": 1, "maxBatchSize": 16}))
    repo = build_repository(model, tmp_path / "repo", PORTS, model_dir=runtime, base_env={})
    assert repo.settings["parallel_workers"] == 1 and repo.settings["http_port"] == PORTS.http
    assert repo.model_settings == {"name": "custom-model", "implementation": "m.M", "max_batch_size": 16}
    assert len([note for note in repo.notes if "overridden by mlserver." in note]) == 2


# --- typed config from stack files, without Pulumi ------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_stack_files_load_as_typed_config(stack):
    path, config = load_stack_config(stack)
    assert path == PROJECT_DIR / f"Pulumi.{stack}.yaml"
    raw = config_values(stack_settings(stack))
    assert [m.name for m in config.models] == [entry["name"] for entry in raw["models"]]


def test_missing_stack_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="no such stack file"):
        load_stack_config("nope", tmp_path / "Pulumi.nope.yaml")


# --- preflight: the uvloop pin ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uvloop", "workers", "refused"),
    [("0.23.0", 1, True), ("0.22.0", 2, True), ("0.21.0", 1, False), ("0.23.0", 0, False)],
)
def test_known_bad_uvloop_is_refused_when_workers_run(monkeypatch, uvloop, workers, refused):
    versions = {"mlserver": "1.7.1", "uvloop": uvloop}
    monkeypatch.setattr(preflight, "_version", versions.get)
    monkeypatch.setattr(preflight.importlib.util, "find_spec", lambda name: object())
    found = preflight.problems(model_of(builtin()), workers)
    assert any("uvloop" in problem and "requirements-mlserver.txt" in problem for problem in found) is refused


def test_requirements_pin_the_working_uvloop_and_the_cluster_mlserver():
    from config.kserve import MLSERVER_IMAGE

    lines = [
        *(PROJECT_DIR / "requirements-mlserver.txt").read_text().splitlines(),
        *(PROJECT_DIR / "requirements-no-deps.txt").read_text().splitlines(),
    ]
    pins = dict(line.split("==") for line in lines if "==" in line and not line.startswith("#"))
    assert pins["mlserver"] == MLSERVER_IMAGE.rsplit(":", 1)[1]
    assert pins["mlserver-sklearn"] == pins["mlserver-xgboost"] == pins["mlserver"]
    assert preflight._numbers(pins["uvloop"])[:2] < preflight.UVLOOP_FIRST_BAD


def test_pulumi_program_does_not_import_mlserver():
    """Run the whole program (dev stack) in a fresh interpreter and look at what it imported."""
    probe = (
        "import sys; sys.path.insert(0, '.');"
        "from tests.conftest import stack_settings; from offline.program import run_program;"
        "run_program(stack_settings('dev'), 'dev');"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('mlserver', 'uvloop', 'sklearn', 'xgboost')))"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=PROJECT_DIR, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


# --- the env names are MLServer's own (needs MLServer installed) ---------------------------------------


def test_env_names_are_read_by_mlserver_settings_classes(monkeypatch):
    settings_module = pytest.importorskip("mlserver.settings")
    for item in translate.mlserver_env(model_of(builtin(mlserver=TUNING))):
        monkeypatch.setenv(item["name"], item["value"])
    assert settings_module.Settings().parallel_workers == 3
    model_settings = settings_module.ModelSettings(implementation="mlserver_sklearn.SKLearnModel")
    assert (model_settings.max_batch_size, model_settings.max_batch_time) == (8, 0.05)
    assert settings_module.ModelParameters().version == "v2"
    assert settings_module.DEFAULT_PARALLEL_WORKERS == translate.DEFAULT_PARALLEL_WORKERS


def test_settings_files_validate_as_mlserver_settings(tmp_path):
    settings_module = pytest.importorskip("mlserver.settings")
    model = model_of(builtin(mlserver=TUNING))
    settings = settings_module.Settings.model_validate(
        translate.settings_json(model, host="127.0.0.1", http_port=1, grpc_port=2, metrics_port=3)
    )
    assert (settings.parallel_workers, settings.http_port) == (3, 1)
    path = Path(tmp_path / "model-settings.json")
    path.write_text(json.dumps(translate.model_settings_json(model, uri="/m")))
    parsed = settings_module.ModelSettings.parse_file(str(path))
    assert (parsed.name, parsed.implementation_, parsed.version) == ("iris", "mlserver_sklearn.SKLearnModel", "v2")
