"""Model files through the real engine: a stack whose models live in files of the project previews against the
loopback cluster, and the limit model files get around sits exactly where `config.config_size` says it does.

The Python language host hands the program its whole config in one environment string (`PULUMI_CONFIG`); Linux
refuses any single environment string over 128 KiB, so `exec` of the program fails before it runs. The second test
runs a program that does nothing with a config sized to the byte by `config_env_bytes`: at the limit the preview
runs, one byte over it the engine reports "argument list too long". That is what lets the offline render refuse (and
the program warn about) a stack the engine could not start.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from config.config_size import MAX_ENV_STRING_BYTES, config_env_bytes
from config.schema import model_file_modeline
from e2e.pulumi_cli import PulumiProject, PulumiToolchain
from tests.end_to_end.stacks import PROJECT, committed_config, models_only, secret_test_value

ISVC = "kubernetes:serving.kserve.io/v1beta1:InferenceService"


def test_preview_of_a_stack_whose_models_live_in_model_files(
    pulumi_project: Callable[..., PulumiProject], kserve_cluster
) -> None:
    """The dev stack's models-only form with every model moved to two model files (none inline): the engine runs
    the program, which reads the files from the project root, and KServe's webhook admits each InferenceService."""
    plain, secret_keys = committed_config("dev")
    config = models_only(plain)
    config.pop("kubernetes:renderYamlToDirectory", None)
    models = config.pop(f"{PROJECT}:models")
    assert len(models) >= 2
    project = pulumi_project(KUBECONFIG=str(kserve_cluster.kubeconfig))
    for relative, entries in (("models/dev/first.yaml", models[:1]), ("models/dev/team/rest.yaml", models[1:])):
        path = project.workdir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{model_file_modeline(relative)}\n{yaml.safe_dump(entries, sort_keys=False)}")
    config[f"{PROJECT}:modelFiles"] = ["models/dev/**/*.yaml"]
    project.new_stack("dev", config, secrets={key: secret_test_value(key) for key in secret_keys})
    steps = json.loads(project.run("preview", "--json", stack="dev").stdout)["steps"]
    created = {
        (step["newState"]["inputs"]["metadata"]["namespace"], step["newState"]["inputs"]["metadata"]["name"])
        for step in steps
        if step["op"] == "create" and step["newState"]["type"] == ISVC
    }
    assert created == {(m["namespace"], m["name"]) for m in models if m.get("deploy", True)}


PROBE = "limit-probe"


def _probe_project(root: Path, toolchain: PulumiToolchain) -> PulumiProject:
    """A project whose program does nothing: only whether the engine can start it is measured."""
    workdir = root / "project"
    workdir.mkdir(parents=True)
    (workdir / "Pulumi.yaml").write_text(
        yaml.safe_dump({"name": PROBE, "runtime": {"name": "python", "options": {"virtualenv": "venv"}}})
    )
    (workdir / "__main__.py").write_text('import pulumi\n\npulumi.export("started", True)\n')
    (workdir / "venv").symlink_to(toolchain.venv, target_is_directory=True)
    (root / "state").mkdir()
    return PulumiProject(workdir=workdir, toolchain=toolchain, state_dir=root / "state")


def _payload(size: int) -> list[dict[str, Any]]:
    """A structured config value (as `models` is) whose PULUMI_CONFIG string is exactly `size` bytes long, with the
    characters Go escapes (`<`, `&`, quotes) and multi-byte ones among them."""

    def value(padding: int) -> list[dict[str, Any]]:
        return [{"name": 'a "model" <&> é', "padding": "x" * padding, "count": 2}]

    def measured(padding: int) -> int:
        return config_env_bytes({f"{PROBE}:payload": json.dumps(value(padding))})

    padding = size - measured(0)
    assert measured(padding) == size
    return value(padding)


def test_the_engine_starts_the_program_up_to_the_limit_config_size_computes(
    pulumi_toolchain: PulumiToolchain, tmp_path: Path
) -> None:
    for size, starts in ((MAX_ENV_STRING_BYTES, True), (MAX_ENV_STRING_BYTES + 1, False)):
        project = _probe_project(tmp_path / str(size), pulumi_toolchain)
        project.new_stack("probe", {f"{PROBE}:payload": _payload(size)})
        result = project.run("preview", stack="probe", check=False)
        output = result.stdout + result.stderr
        if starts:
            assert result.returncode == 0, output
        else:
            assert result.returncode != 0, f"a {size}-byte PULUMI_CONFIG started the program:\n{output}"
            assert "argument list too long" in output, output
