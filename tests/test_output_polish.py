"""What `python -m cli render` tells a user: warnings marked and naming the model, errors naming the model, --out that is a
file, a missing stack, and the stack outputs a user sees after `pulumi up` (outputs.yaml)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from config import ConfigError, parse_stack_config
from offline.manifests import OUTPUTS_FILE
from offline.program import UNKNOWN_OUTPUT, run_program
from offline.recorder import SECRET
from offline.stackconfig import committed_stacks
from offline.stackfile import StackSettings, read_stack_settings
from tests.conftest import PROJECT_DIR, fixture_stack_file, render


def write_stack(path: Path, models: list[dict]) -> Path:
    path.write_text(yaml.safe_dump({"config": {"kserve-platform:models": models}}), encoding="utf-8")
    return path


def test_every_issue_under_a_model_names_it() -> None:
    models = [
        {"name": "fraud", "namespace": "risk", "format": "sklearn", "storageUri": "gs://b/f", "minReplicas": "two"},
        {"name": "Bad_Name", "namespace": "risk", "format": "sklearn", "storageUri": "gs://b/x", "typo": 1},
        {"name": "no-namespace", "format": "sklearn", "storageUri": "gs://b/y"},
        "not a mapping",
    ]
    with pytest.raises(ConfigError) as caught:
        parse_stack_config({"models": models, "modles": []})
    by_index: dict[int, set[str | None]] = {}
    for issue in caught.value.issues:
        match = re.match(r"models\[(\d+)\]", issue.path)
        if match:
            by_index.setdefault(int(match.group(1)), set()).add(issue.model)
    assert by_index[0] == {"risk/fraud"}
    assert by_index[1] == {"risk/Bad_Name"}, "named as the user wrote it, even when the name itself is the error"
    assert by_index[2] == {"no-namespace"}
    assert by_index[3] == {None}, "an entry with no name cannot be named"
    text = str(caught.value)
    assert "models[0].minReplicas (risk/fraud): " in text and "models[1].typo (risk/Bad_Name): " in text
    # Issues outside models[] are unchanged.
    assert "  - modles: " in text


def test_render_marks_warnings_and_names_the_model(tmp_path: Path) -> None:
    stack = write_stack(
        tmp_path / "Pulumi.w.yaml",
        [{"name": "fraud", "namespace": "risk", "format": "sklearn", "storageUri": "s3://acme/fraud"}],
    )
    result = render("--stack", "w", "--config-file", stack, "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    (warning,) = [line for line in result.stderr.splitlines() if "read without credentials" in line]
    assert warning.startswith("render: warning: models[0].storageUri (risk/fraud): 's3://acme/fraud'")
    assert "read without credentials" not in result.stdout and "Warnings: 1" in result.stdout


def test_out_pointing_at_a_file_is_a_clear_error(tmp_path: Path) -> None:
    target = tmp_path / "rendered.yaml"
    target.write_text("keep me\n")
    for out in (target, target / "dev"):
        result = render("--stack", "dev", "--config-file", fixture_stack_file("dev"), "--out", out)
        assert result.returncode == 2
        assert f"{target} is a file, not a folder" in result.stderr and "Traceback" not in result.stderr
    assert target.read_text() == "keep me\n"


def test_missing_stack_lists_the_stacks_that_exist(tmp_path: Path) -> None:
    result = render("--stack", "nope", "--out", tmp_path / "out")
    assert result.returncode == 2 and "Pulumi.nope.yaml" in result.stderr
    listed = re.search(r"stacks here: ([a-z0-9, -]+)\)", result.stderr)
    assert listed and listed.group(1).split(", ") == committed_stacks() and "dev" in committed_stacks()
    assert not (tmp_path / "out").exists()


def test_render_writes_the_stack_outputs_a_user_sees_after_up(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = render("--stack", "dev", "--config-file", fixture_stack_file("dev"), "--out", out)
    assert result.returncode == 0, result.stderr
    written = yaml.safe_load((out / OUTPUTS_FILE).read_text())
    run = run_program(read_stack_settings(PROJECT_DIR / "Pulumi.yaml", fixture_stack_file("dev")), "dev")
    assert written == run.outputs, "no secret and nothing unknown in dev: the outputs as the program exports them"
    # custom-model has `deploy: false` (no registry holds its image yet): no InferenceService, no output.
    assert set(written["models"]) == {"models-dev/my-model", "models-dev/xgboost-iris"}
    assert written["models"]["models-dev/my-model"]["inferenceUrl"].endswith("/v2/models/my-model/infer")


PROGRAM = """
import asyncio

import pulumi


def unknown() -> pulumi.Output:
    # How the SDK carries a value known only after `up` (a resource's computed field during preview).
    loop = asyncio.get_event_loop()
    value, known = loop.create_future(), loop.create_future()
    value.set_result(None)
    known.set_result(False)
    return pulumi.Output(set(), value, known)


pulumi.export("plain", "value")
pulumi.export("password", pulumi.Output.secret("hunter2"))
pulumi.export("uid", unknown())
pulumi.export("nested", {"uid": unknown(), "name": "x"})
"""


def test_secret_and_unknown_outputs_are_marked(tmp_path: Path) -> None:
    program = tmp_path / "__main__.py"
    program.write_text(PROGRAM)
    run = run_program(StackSettings(), "t", program=program)
    assert run.shown_outputs == {
        "nested": {"uid": UNKNOWN_OUTPUT, "name": "x"},
        "password": SECRET,
        "plain": "value",
        "uid": UNKNOWN_OUTPUT,
    }
    assert "hunter2" not in str(run.shown_outputs)
