"""Issue 11 item 2 (state part): after `pulumi up` of a stack with secrets, no file the state backend wrote holds a
secret's plaintext (nor its base64, which is how a Kubernetes Secret's `data` carries it).

Runs each committed stack that declares secrets, in its models-only form rendered to a directory (the state is the
same whether the provider applies to a cluster or renders; the harness-backed tests repeat it against a cluster).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import pytest

from e2e.pulumi_cli import PulumiProject
from tests.end_to_end.stacks import (
    RENDER_DIR_KEY,
    committed_config,
    committed_stacks,
    models_only,
    secret_test_value,
)

STACKS_WITH_SECRETS = [stack for stack in committed_stacks() if committed_config(stack)[1]]


def plaintext_forms(value: str) -> list[str]:
    return [value, base64.b64encode(value.encode()).decode()]


@pytest.mark.parametrize("stack", STACKS_WITH_SECRETS)
def test_state_files_hold_no_secret_plaintext(
    stack: str, pulumi_project: Callable[..., PulumiProject], tmp_path: Path
) -> None:
    plain, secure_keys = committed_config(stack)
    secrets = {key: secret_test_value(key) for key in secure_keys}
    project = pulumi_project()
    project.new_stack(stack, {**models_only(plain), RENDER_DIR_KEY: str(tmp_path / "render")}, secrets=secrets)
    project.run("up", "--yes", "--skip-preview", stack=stack)

    state_files = project.state_files()
    assert any(path.suffix == ".json" for path in state_files), f"no checkpoint written under {project.state_dir}"
    leaks = [
        f"{path.relative_to(project.state_dir)} holds the value of {key}"
        for path in state_files
        for key, value in secrets.items()
        if any(form in path.read_text(errors="replace") for form in plaintext_forms(value))
    ]
    assert not leaks, leaks
    # The stack file too: `pulumi config set --secret` stored ciphertext only.
    stack_file = (project.workdir / f"Pulumi.{stack}.yaml").read_text()
    assert not [key for key, value in secrets.items() if value in stack_file]
