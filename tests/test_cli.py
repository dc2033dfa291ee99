"""The one command (`python -m cli` / `kserve-platform`): subcommands, --help, exit codes; and the files it
generates from the config models (the stack-file JSON Schema and the config reference) are fresh and right."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import jsonschema
import pytest
import yaml

from cli import EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_OK
from cli.main import COMMANDS
from cli.main import main as cli_main
from config.reference import REFERENCE_PATH, api_mirror_models, render_reference
from config.schema import MODELINE, SCHEMA_PATH, config_schema, render_schema, stack_file_schema
from config.stack import PROJECT, StackConfig
from offline.snapshot import committed_stacks
from tests.conftest import PROJECT_DIR

FIXTURES = PROJECT_DIR / "tests" / "fixtures" / "stacks"


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args], capture_output=True, text=True, cwd=PROJECT_DIR, timeout=120, check=False
    )


def test_the_root_holds_no_entry_scripts_but_pulumis() -> None:
    scripts = sorted(path.name for path in PROJECT_DIR.glob("*.py"))
    assert scripts == ["__main__.py", "lock_requirements.py"]


def test_every_subcommand_has_help_naming_its_exit_status() -> None:
    top = run_cli("--help")
    assert top.returncode == EXIT_OK
    for name in COMMANDS:
        assert name in top.stdout
        result = run_cli(name, "--help")
        assert result.returncode == EXIT_OK, result.stderr
        assert result.stdout.startswith(f"usage: kserve-platform {name}")
        assert "Exit status" in result.stdout, f"{name} --help does not document its exit status"


def test_unknown_command_and_bad_arguments_are_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["deploy"]) == EXIT_BAD_INPUT
    assert "unknown command 'deploy'" in capsys.readouterr().err
    assert cli_main([]) == EXIT_BAD_INPUT
    assert cli_main(["render", "--no-such-flag"]) == EXIT_BAD_INPUT


def test_check_secrets_and_snapshot_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["check-secrets", "--stack", "no-such-stack"]) == EXIT_BAD_INPUT
    assert cli_main(["snapshot", "--stack", "no-such-stack"]) == EXIT_BAD_INPUT
    assert "stacks: " in capsys.readouterr().err
    assert cli_main(["snapshot", "--stack", "dev"]) == EXIT_OK


def test_snapshot_reports_an_unsafe_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cli import snapshot as snapshot_command

    committed = json.loads(snapshot_command.snapshot_path("dev").read_text(encoding="utf-8"))
    committed["urn:pulumi:dev::kserve-platform::kubernetes:core/v1:Namespace::gone"] = {
        "group": "",
        "kind": "Namespace",
        "name": "gone",
        "namespace": None,
    }
    (tmp_path / "dev.json").write_text(json.dumps(committed), encoding="utf-8")
    monkeypatch.setattr(snapshot_command, "snapshot_path", lambda stack: tmp_path / f"{stack}.json")
    assert cli_main(["snapshot", "--stack", "dev"]) == EXIT_FINDINGS


def test_a_copy_without_the_checkout_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`pip install .` copies the packages away from Pulumi.yaml and the stack files: say so instead of failing later."""
    import cli.main

    monkeypatch.setattr(cli.main, "PROJECT_DIR", tmp_path)
    assert cli_main(["render", "--stack", "dev", "--out", str(tmp_path / "out")]) == EXIT_BAD_INPUT
    assert "pip install -e ." in capsys.readouterr().err


def test_pyproject_installs_the_command() -> None:
    project = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text(encoding="utf-8"))
    module, _, function = project["project"]["scripts"]["kserve-platform"].partition(":")
    assert (module, function) == ("cli.main", "main")
    assert project["tool"]["setuptools"]["dynamic"]["dependencies"]["file"] == ["requirements.txt"]


# --- generated files -------------------------------------------------------------------------------------------


def test_committed_schema_is_fresh() -> None:
    committed = (PROJECT_DIR / SCHEMA_PATH).read_text(encoding="utf-8")
    assert committed == render_schema(), "stale schema: run `python -m cli schema` and commit the result"
    assert run_cli("schema", "--check").returncode == EXIT_OK


def test_committed_reference_is_fresh() -> None:
    committed = (PROJECT_DIR / REFERENCE_PATH).read_text(encoding="utf-8")
    assert committed == render_reference(), "stale config reference: run `python -m cli docs` and commit the result"
    assert run_cli("docs", "--check").returncode == EXIT_OK


def test_check_fails_on_a_stale_file(tmp_path: Path) -> None:
    stale = tmp_path / "config.md"
    stale.write_text(render_reference().replace("example.com", "example.org"), encoding="utf-8")
    assert cli_main(["docs", "--check", "--out", str(stale)]) == EXIT_FINDINGS
    assert cli_main(["docs", "--out", str(stale)]) == EXIT_OK
    assert cli_main(["docs", "--check", "--out", str(stale)]) == EXIT_OK


def _stack_documents() -> dict[str, dict]:
    return {
        stack: yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))
        for stack in committed_stacks()
    }


def _validator() -> jsonschema.Draft202012Validator:
    schema = stack_file_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("stack", committed_stacks())
def test_schema_accepts_every_committed_stack(stack: str) -> None:
    errors = [error.message for error in _validator().iter_errors(_stack_documents()[stack])]
    assert errors == []


@pytest.mark.parametrize(
    "path",
    [
        ("config", f"{PROJECT}:modles"),  # a misspelt top-level key (with a non-secret value)
        ("config", f"{PROJECT}:models", 0, "storageURI"),
        ("config", f"{PROJECT}:kserve", "ingres"),
        ("configs",),
    ],
)
def test_schema_rejects_a_typo(path: tuple) -> None:
    document = yaml.safe_load((FIXTURES / "Pulumi.dev.yaml").read_text(encoding="utf-8"))
    node = document
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = [{"name": "x"}] if path[-1].endswith("modles") else "x"
    assert list(_validator().iter_errors(document)), f"a typo at {path} passes the schema"


def test_schema_accepts_secret_keys_only_in_their_secure_form() -> None:
    document = yaml.safe_load((PROJECT_DIR / "Pulumi.prod.yaml").read_text(encoding="utf-8"))
    document["config"][f"{PROJECT}:prodS3AccessKeyId"] = {"secure": "v1:abc"}
    assert not list(_validator().iter_errors(document))
    document["config"][f"{PROJECT}:prodS3AccessKeyId"] = "AKIA-in-plaintext"
    assert list(_validator().iter_errors(document))


def test_stack_file_modelines_name_the_committed_schema() -> None:
    """Stack files carry the modeline editors read (a user's new stack file may not: that is no error)."""
    assert (PROJECT_DIR / MODELINE.split("$schema=./", 1)[1]).is_file()
    files = [*PROJECT_DIR.glob("Pulumi.*.yaml"), *(PROJECT_DIR / "tests/fixtures/stacks").glob("Pulumi.*.yaml")]
    modelines = [line for path in files for line in path.read_text(encoding="utf-8").splitlines()[:1]]
    assert MODELINE in modelines
    for line in modelines:
        if "yaml-language-server" in line:
            assert line == MODELINE


def _fields(model: type, seen: set[type]) -> list[tuple[type, str, object]]:
    from pydantic import BaseModel

    if model in seen:
        return []
    seen.add(model)
    out = []
    for name, field in model.model_fields.items():
        out.append((model, field.alias or name, field))
        stack = [field.annotation]
        while stack:
            annotation = stack.pop()
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                out.extend(_fields(annotation, seen))
            stack.extend(getattr(annotation, "__args__", ()))
    return out


def test_every_user_facing_key_is_described() -> None:
    """Keys of the project's own blocks say what they do; blocks that mirror a Kubernetes object may defer to it."""
    mirrors = api_mirror_models()
    missing = [
        f"{model.__name__}.{key}"
        for model, key, field in _fields(StackConfig, set())
        if model.__name__ not in mirrors and not field.description
    ]
    assert missing == []


def test_reference_lists_every_key_and_its_defaults() -> None:
    reference = render_reference()
    schema = config_schema()
    for key in schema["properties"]:
        assert f"| `{key}` |" in reference
    for name, model in schema["$defs"].items():
        for key in model.get("properties", {}):
            assert f"| `{key}` |" in reference, f"{name}.{key} missing from the reference"
    for section in ("## kserve.ingress", "## kserve.certManager", "## kserve.knative", "## kserve.timeouts"):
        assert section in reference
    for key in ("builtinRuntimes", "deleteCrdsOnUninstall", "namespaces"):
        assert f"| `{key}` |" in reference
    ingress = reference.split("## kserve.ingress\n", 1)[1].split("\n## ", 1)[0]
    assert '| `domain` | string | `"example.com"` |' in ingress
