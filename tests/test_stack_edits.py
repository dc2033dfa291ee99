"""Users edit their stack files: the stack-level tests must pass for any valid edit, and change safety must still
refuse a dropped model with the way to accept it.

Each test copies the project to a temporary folder, edits the copy's Pulumi.dev.yaml as a user would, and runs
the key render, program, policy and change-safety tests there in a child pytest (a chosen set, not the whole
suite, which would be too slow)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import PROJECT_DIR, render

# The tests that read the committed dev stack: what must keep passing after any valid edit.
STACK_LEVEL_TESTS = (
    "tests/test_render.py::test_committed_dev_stack_renders_one_inference_service_per_model",
    "tests/test_render.py::test_render_is_deterministic",
    "tests/test_program.py::test_no_duplicate_urns_in_any_stack",
    "tests/test_program.py::test_components_own_their_children",
    "tests/test_program.py::test_namespaces_are_created_before_the_models_in_them",
    "tests/test_program.py::test_outputs_name_every_model_of_the_committed_dev_stack",
    "tests/test_program.py::test_deployment_mode_is_set_on_every_inference_service",
    "tests/test_program.py::test_prod_protects_every_resource_and_dev_does_not",
    "tests/test_policies.py::test_stack_has_no_mandatory_violation",
    "tests/test_policies.py::test_dev_stacks_only_warn",
    "tests/test_policies.py::test_prod_resources_are_all_protected_and_dev_ones_would_be_caught",
    "tests/test_change_safety.py::test_stack_keeps_every_live_object",
)
NEW_MODEL = {
    "name": "iris-2",
    "namespace": "team-b",
    "format": "sklearn",
    "protocolVersion": "v2",
    "storageUri": "gs://seldon-models/sklearn/iris",
}
IGNORED = shutil.ignore_patterns(".git", "venv", "rendered", "__pycache__", ".pytest_cache", ".ruff_cache")


def copy_project(tmp_path: Path) -> Path:
    """The project in `tmp_path/<name>`, with `../shared` beside it as beside the checkout (when it exists)."""
    copy = tmp_path / PROJECT_DIR.name
    shutil.copytree(PROJECT_DIR, copy, ignore=IGNORED)
    shared = PROJECT_DIR.parent / "shared"
    if shared.is_dir():
        (tmp_path / "shared").symlink_to(shared)
    return copy


def edit_dev_models(project: Path, edit) -> None:
    stack_file = project / "Pulumi.dev.yaml"
    document = yaml.safe_load(stack_file.read_text(encoding="utf-8"))
    models = document["config"]["kserve-platform:models"]
    document["config"]["kserve-platform:models"] = edit(models)
    stack_file.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


def run_tests(project: Path, *node_ids: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *node_ids],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def test_adding_a_model_in_a_new_namespace_keeps_the_stack_tests_green(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    edit_dev_models(project, lambda models: [*models, NEW_MODEL])

    result = run_tests(project, *STACK_LEVEL_TESTS)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout

    # The edit really reached the program: the copy renders the new model in its own namespace.
    out = tmp_path / "rendered"
    rendered = render("--stack", "dev", "--out", out, project=project, timeout=300)
    assert rendered.returncode == 0, rendered.stderr
    assert (out / "1-manifest/serving.kserve.io_v1beta1-inferenceservice-team-b-iris-2.yaml").is_file()
    assert (out / "1-manifest/v1-namespace-default-team-b.yaml").is_file()


def test_dropping_a_model_fails_change_safety_and_says_how_to_accept_it(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    edit_dev_models(project, lambda models: [m for m in models if m["name"] != "xgboost-iris"])
    safety = "tests/test_change_safety.py::test_stack_keeps_every_live_object[dev]"

    refused = run_tests(project, safety)
    assert refused.returncode == 1, refused.stdout[-4000:]
    assert "DROPPED" in refused.stdout and "models-dev/xgboost-iris" in refused.stdout
    assert "python -m cli snapshot --update --stack dev" in refused.stdout

    # Accepting it the way the message says makes the check pass.
    update = subprocess.run(
        [sys.executable, "-m", "cli", "snapshot", "--update", "--stack", "dev"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert update.returncode == 0, update.stderr
    accepted = run_tests(project, safety)
    assert accepted.returncode == 0, accepted.stdout[-4000:]
