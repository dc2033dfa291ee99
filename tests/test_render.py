"""`render.py`, the offline render: layout, names, summary, exit codes, and nothing written on bad config."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from offline.stackfile import UNDECRYPTED_SECRET, read_stack_settings
from tests.conftest import PROJECT_DIR, committed_config, committed_models, fixture_stack_file


def render(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(PROJECT_DIR / "render.py"), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        timeout=120,
        check=False,
    )


def test_committed_dev_stack_renders_one_inference_service_per_model(tmp_path: Path) -> None:
    out = tmp_path / "dev"
    result = render("--stack", "dev", "--out", out)
    assert result.returncode == 0, result.stderr
    models = committed_models("dev")
    for model in models:
        isvc = out / f"1-manifest/serving.kserve.io_v1beta1-inferenceservice-{model.namespace}-{model.name}.yaml"
        assert isvc.is_file(), f"{model.namespace}/{model.name} was not rendered"
    for namespace in committed_config("dev").model_namespaces:
        assert (out / f"1-manifest/v1-namespace-default-{namespace}.yaml").is_file()
    assert f"InferenceService: {len(models)}" in result.stdout


def test_dev_render_layout_and_summary(tmp_path: Path) -> None:
    out = tmp_path / "dev"
    result = render("--stack", "dev", "--config-file", fixture_stack_file("dev"), "--out", out)
    assert result.returncode == 0, result.stderr
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.yaml"))
    assert "1-manifest/serving.kserve.io_v1beta1-inferenceservice-models-dev-my-model.yaml" in files
    assert "1-manifest/serving.kserve.io_v1beta1-inferenceservice-models-dev-custom-model.yaml" in files
    assert "1-manifest/v1-namespace-default-models-dev.yaml" in files, "cluster-scoped objects go under 'default'"
    assert "helm-releases.yaml" in files
    assert (out / "0-crd").is_dir()
    for path in (out / "1-manifest").glob("*.yaml"):
        obj = yaml.safe_load(path.read_text())
        name = f"{obj['apiVersion'].replace('/', '_')}-{obj['kind'].lower()}-"
        name += f"{obj['metadata'].get('namespace', 'default')}-{obj['metadata']['name']}.yaml"
        assert path.name == name
    isvc = yaml.safe_load(
        (out / "1-manifest/serving.kserve.io_v1beta1-inferenceservice-models-dev-my-model.yaml").read_text()
    )
    assert isvc["spec"]["predictor"]["model"]["storageUri"] == "gs://seldon-models/sklearn/iris"
    assert "InferenceService: 3" in result.stdout and "NetworkPolicy: 1" in result.stdout


def test_render_is_deterministic(tmp_path: Path) -> None:
    assert render("--stack", "dev", "--out", tmp_path / "a").returncode == 0
    assert render("--stack", "dev", "--out", tmp_path / "b").returncode == 0
    a = {p.relative_to(tmp_path / "a"): p.read_bytes() for p in (tmp_path / "a").rglob("*.yaml")}
    b = {p.relative_to(tmp_path / "b"): p.read_bytes() for p in (tmp_path / "b").rglob("*.yaml")}
    assert a == b


def test_invalid_config_exits_2_names_every_key_and_writes_nothing(tmp_path: Path) -> None:
    stack_file = tmp_path / "Pulumi.bad.yaml"
    stack_file.write_text(
        yaml.safe_dump(
            {
                "config": {
                    "kserve-platform:models": [
                        {"name": "ok", "namespace": "ns", "format": "sklearn", "storageUri": "gs://bkt/m"},
                        {"name": "Bad_Name", "namespace": "ns", "format": "sklearn", "storageUri": "gs://bkt/m"},
                        {"name": "x", "namespace": "ns", "image": "img", "storageUrl": "gs://bkt/m"},
                    ]
                }
            }
        )
    )
    out = tmp_path / "out"
    result = render("--stack", "bad", "--config-file", stack_file, "--out", out)
    assert result.returncode == 2
    for path in ("models[1].name", "models[2].image", "models[2].storageUrl"):
        assert path in result.stderr
    assert "did you mean 'storageUri'" in result.stderr
    assert not out.exists()
    assert "Traceback" not in result.stderr


def test_invalid_config_leaves_an_existing_render_untouched(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert render("--stack", "dev", "--out", out).returncode == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    bad = tmp_path / "Pulumi.bad.yaml"
    bad.write_text("config:\n  kserve-platform:models: [{name: x}]\n")
    assert render("--stack", "bad", "--config-file", bad, "--out", out).returncode == 2
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("", "is empty"),
        ("- just\n- a list\n", "must be a mapping"),
        ("config: [1, 2]\n", "must be a mapping"),
        ("config:\n  kserve-platform:models: [\n", "not valid YAML"),
    ],
)
def test_malformed_stack_files_exit_2(tmp_path: Path, content: str, needle: str) -> None:
    stack_file = tmp_path / "Pulumi.x.yaml"
    stack_file.write_text(content)
    result = render("--stack", "x", "--config-file", stack_file, "--out", tmp_path / "out")
    assert result.returncode == 2 and needle in result.stderr
    assert not (tmp_path / "out").exists()


def test_missing_stack_file_exits_2(tmp_path: Path) -> None:
    result = render("--stack", "nope", "--out", tmp_path / "out")
    assert result.returncode == 2 and "Pulumi.nope.yaml" in result.stderr and "no such stack file" in result.stderr


def test_config_file_renders_another_stack_file(tmp_path: Path) -> None:
    stack_file = tmp_path / "Pulumi.review.yaml"
    stack_file.write_text(
        "config:\n  kserve-platform:models:\n"
        "    - {name: review-model, namespace: review, format: xgboost, storageUri: 's3://bkt/xgb'}\n"
    )
    out = tmp_path / "out"
    result = render("--stack", "review", "--config-file", stack_file, "--out", out)
    assert result.returncode == 0, result.stderr
    assert (out / "1-manifest/serving.kserve.io_v1beta1-inferenceservice-review-review-model.yaml").is_file()


def test_project_defaults_merge_under_stack_values(tmp_path: Path) -> None:
    project = tmp_path / "Pulumi.yaml"
    project.write_text(
        "name: kserve-platform\nruntime: python\nconfig:\n"
        "  protect:\n    type: boolean\n    default: true\n"
        "  kserve-platform:kserve:\n    value: {deploymentMode: Knative}\n"
    )
    stack = tmp_path / "Pulumi.s.yaml"
    stack.write_text("config:\n  kserve-platform:kserve: {deploymentMode: Standard}\n")
    settings = read_stack_settings(project, stack)
    assert settings.config["kserve-platform:protect"] == "true"
    assert settings.config["kserve-platform:kserve"] == '{"deploymentMode": "Standard"}'


def test_secure_values_become_marked_placeholders(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.s.yaml"
    stack.write_text(
        "config:\n  kserve-platform:token:\n    secure: v1:abc\n"
        "  kserve-platform:nested:\n    key:\n      secure: v1:def\n    plain: x\n"
    )
    settings = read_stack_settings(PROJECT_DIR / "Pulumi.yaml", stack)
    assert settings.config["kserve-platform:token"] == UNDECRYPTED_SECRET
    assert set(settings.secret_keys) == {"kserve-platform:token", "kserve-platform:nested"}
    assert "v1:abc" not in str(settings.config) and "v1:def" not in str(settings.config)
