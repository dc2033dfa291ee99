"""Model files (`kserve-platform:modelFiles`): models kept in files of the repository, read by the one loader
(`config.stack.parse_stack_config`) every reader of a stack goes through; and the limit that makes them necessary,
the one environment string (`PULUMI_CONFIG`) the language host hands the whole config to the program in.

The bad-input corpus (tests/bad_inputs/mf-*.yaml with tests/bad_inputs/model_files/) covers each refused input
through `python -m cli render`; these tests cover what is accepted, how entries combine, and every error at once.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from policy_harness import run_policy

from cli import check_secrets, mirror, render
from config import ConfigError, parse_stack_config
from config.config_size import MAX_ENV_STRING_BYTES, config_env_bytes, config_size_warning, go_json
from config.schema import model_file_modeline, model_file_schema
from config.stack import PROJECT
from offline import manifests
from offline.program import PROJECT_DIR, run_program
from offline.stackconfig import load_stack_config, unset_secret_commands
from offline.stackfile import read_stack_settings
from policy import policies
from tests.conftest import fixture_stack_file

ISVC = "kubernetes:serving.kserve.io/v1beta1:InferenceService"


def model(name: str, namespace: str = "team-a", **fields: Any) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": namespace,
        "format": "sklearn",
        "storageUri": "gs://seldon-models/sklearn/iris",
        **fields,
    }


def write(project: Path, relative: str, content: Any) -> Path:
    path = project / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else yaml.safe_dump(content), encoding="utf-8")
    return path


def errors(values: dict[str, Any], project: Path) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_stack_config(values, project_dir=project)
    return [str(issue) for issue in raised.value.issues]


# --- the loader: what is accepted ---------------------------------------------------------------------------------


def test_inline_models_come_first_then_the_files_in_sorted_path_order(tmp_path: Path) -> None:
    write(tmp_path, "models/team-b.yaml", [model("b1", "team-b")])
    write(tmp_path, "models/team-a.yaml", [model("a1"), model("a2")])
    write(tmp_path, "models/nested/deep/team-c.yaml", [model("c1", "team-c")])
    write(tmp_path, "models/empty.yaml", "[]\n")
    stack = parse_stack_config(
        # A file named by two patterns is read once; the order of the patterns does not matter.
        {"models": [model("inline")], "modelFiles": ["models/team-b.yaml", "models/**/*.yaml"]},
        project_dir=tmp_path,
    )
    # Sorted by path as text: models/nested/... before models/team-a.yaml.
    assert [m.name for m in stack.models] == ["inline", "c1", "a1", "a2", "b1"]
    assert stack.model_files == ["models/team-b.yaml", "models/**/*.yaml"]


def test_a_model_file_entry_is_exactly_a_models_entry(tmp_path: Path) -> None:
    entry = model("m", env={"PROTOCOL": "v2"}, minReplicas=2, maxReplicas=3, annotations={"team": "a"})
    write(tmp_path, "m.yaml", [entry])
    from_file = parse_stack_config({"modelFiles": ["m.yaml"]}, project_dir=tmp_path)
    inline = parse_stack_config({"models": [entry]})
    assert from_file.models == inline.models


def test_without_model_files_nothing_changes(tmp_path: Path) -> None:
    values = {"models": [model("a")], "modelFiles": []}
    assert (
        parse_stack_config(values, project_dir=tmp_path).models == parse_stack_config({"models": [model("a")]}).models
    )


# --- the loader: every problem, at once, where it is written -------------------------------------------------------


def test_every_problem_is_reported_at_once_naming_the_file_and_the_entry(tmp_path: Path) -> None:
    write(tmp_path, "models/prod/fraud.yaml", [model("ok"), model("scorer"), model("x", minReplicas="two")])
    write(tmp_path, "models/prod/search.yaml", [model("scorer"), {**model("img"), "image": "server:latest"}])
    write(tmp_path, "models/prod/README.md", "not a model file\n")
    found = errors(
        {
            "models": [model("inline", storageUri="ftp://bucket/m")],
            "modelFiles": ["models/prod/*.yaml", "models/dev/*.yaml", "models/prod/missing.yaml", "/abs/x.yaml"],
        },
        tmp_path,
    )
    expected = [
        "models[0].storageUri (team-a/inline): ",
        "modelFiles models/prod/fraud.yaml[2].minReplicas (team-a/x): ",
        "modelFiles models/prod/search.yaml[0].name (team-a/scorer): 'scorer' is already used by modelFiles "
        "models/prod/fraud.yaml[1] in namespace 'team-a'",
        "modelFiles models/prod/search.yaml[1]",
        "modelFiles[1]: pattern 'models/dev/*.yaml' matches no file under the project root",
        "modelFiles[2]: no file 'models/prod/missing.yaml' under the project root",
        "modelFiles[3]: '/abs/x.yaml' is absolute",
    ]
    for text in expected:
        assert any(error.startswith(text) or text in error for error in found), (text, found)
    # The README matched no pattern ending in .yaml: it is not read.
    assert not any("README" in error for error in found)


def test_model_files_errors_name_the_fix(tmp_path: Path) -> None:
    write(tmp_path, "empty.yaml", "# nothing yet\n")
    write(tmp_path, "stack-like.yaml", {"kserve-platform:models": [model("a")]})
    found = errors({"modelFiles": ["empty.yaml", "stack-like.yaml", "../outside.yaml"]}, tmp_path)
    assert sorted(found) == [
        "modelFiles empty.yaml: is empty: a model file holds a YAML list of model entries (write [] for none)",
        "modelFiles stack-like.yaml: must be a YAML list of model entries (each as under models:), got a mapping; "
        "remove the top-level key and keep its list",
        "modelFiles[2]: '../outside.yaml' leaves the project root ('..'): keep model files inside the repository",
    ]


def test_a_secure_value_in_a_model_file_is_refused_and_reported_once(tmp_path: Path) -> None:
    entry = {**model("m"), "env": [{"name": "API_TOKEN", "value": {"secure": "v1:abc"}}]}
    write(tmp_path, "m.yaml", [entry])
    found = errors({"modelFiles": ["m.yaml"]}, tmp_path)
    assert len(found) == 1, found
    assert found[0].startswith("modelFiles m.yaml[0].env[0].value (team-a/m): a secure: value is refused")
    assert "valueFrom.secretKeyRef" in found[0] and "storageCredentials" in found[0]


def test_file_entries_are_checked_even_when_inline_models_is_malformed(tmp_path: Path) -> None:
    write(tmp_path, "m.yaml", [model("m", minReplicas=-1)])
    found = errors({"models": {"name": "not-a-list"}, "modelFiles": ["m.yaml"]}, tmp_path)
    assert any(error.startswith("models: must be a list") for error in found), found
    assert any(error.startswith("modelFiles m.yaml[0].minReplicas (team-a/m)") for error in found), found


def test_rules_between_entries_name_the_files(tmp_path: Path) -> None:
    """Rules spanning several entries (here monitoring's per-model entries and runtime placement) see one list."""
    write(tmp_path, "m.yaml", [model("m", format="onnx")])
    found = errors(
        {"modelFiles": ["m.yaml"], "monitoring": {"models": [{"model": "team-a/nope", "errorRatio": 0.1}]}}, tmp_path
    )
    assert any(error.startswith("modelFiles m.yaml[0].format (team-a/m): no enabled runtime") for error in found)
    assert any(error.startswith("monitoring.models[0].model") for error in found), found


# --- through the program: the same objects, warnings where the entry is written, nothing on bad input -------------


def _dev_with_model_files(tmp_path: Path) -> tuple[Path, Path]:
    """The dev fixture stack with its models moved into two model files (the first model stays inline)."""
    document = yaml.safe_load(fixture_stack_file("dev").read_text(encoding="utf-8"))
    models = document["config"][f"{PROJECT}:models"]
    project = tmp_path / "project"
    write(project, "models/dev/a.yaml", models[1:2])
    write(project, "models/dev/more/b.yaml", models[2:])
    document["config"][f"{PROJECT}:models"] = models[:1]
    document["config"][f"{PROJECT}:modelFiles"] = ["models/dev/**/*.yaml"]
    return write(tmp_path, "Pulumi.dev.yaml", document), project


def test_a_stack_with_model_files_renders_the_same_objects_as_inline(tmp_path: Path) -> None:
    stack_file, project = _dev_with_model_files(tmp_path)
    inline = run_program(read_stack_settings(PROJECT_DIR / "Pulumi.yaml", fixture_stack_file("dev")), "dev")
    from_files = run_program(read_stack_settings(PROJECT_DIR / "Pulumi.yaml", stack_file), "dev", project_dir=project)
    assert len(inline.by_type(ISVC)) >= 2
    expected, got = manifests.render(inline), manifests.render(from_files)
    assert got.objects == expected.objects
    assert got.resources == expected.resources
    assert got.helm_releases == expected.helm_releases
    assert got.outputs == expected.outputs


def test_the_offline_loader_reads_model_files_from_the_project(tmp_path: Path) -> None:
    """`serve`, `mirror`, `check-secrets` and the tests load stacks through `offline.stackconfig.load_stack_config`."""
    stack_file, project = _dev_with_model_files(tmp_path)
    write(project, "Pulumi.yaml", (PROJECT_DIR / "Pulumi.yaml").read_text(encoding="utf-8"))
    _, from_files = load_stack_config("dev", stack_file, project)
    _, inline = load_stack_config("dev", fixture_stack_file("dev"))
    assert from_files.models == inline.models
    assert unset_secret_commands("dev", stack_file, project) == []


def test_warnings_name_the_model_file(tmp_path: Path) -> None:
    project = tmp_path / "project"
    write(
        project,
        "models/a.yaml",
        [
            model("private", storageUri="s3://private-bucket/m"),
            {"name": "custom", "namespace": "team-a", "image": "my-server:0.1.0"},
        ],
    )
    settings = read_stack_settings(
        PROJECT_DIR / "Pulumi.yaml",
        write(
            tmp_path,
            "Pulumi.test.yaml",
            {
                "config": {
                    f"{PROJECT}:kserve": {"install": False},
                    f"{PROJECT}:namespaces": {"networkPolicy": {"allowFromNamespaces": ["kserve"]}},
                    f"{PROJECT}:modelFiles": ["models/*.yaml"],
                }
            },
        ),
    )
    run = run_program(settings, "test", project_dir=project)
    assert any(w.startswith("modelFiles models/a.yaml[0].storageUri (team-a/private): ") for w in run.warnings), run
    assert any(
        w.startswith("modelFiles models/a.yaml[1].image: 'my-server:0.1.0' names no registry") for w in run.warnings
    )


def test_bad_model_files_register_nothing(tmp_path: Path) -> None:
    stack_file, project = _dev_with_model_files(tmp_path)
    write(project, "models/dev/more/b.yaml", [model("my-model", "models-dev")])  # the inline model's name again
    with pytest.raises(ConfigError) as raised:
        run_program(read_stack_settings(PROJECT_DIR / "Pulumi.yaml", stack_file), "dev", project_dir=project)
    assert "modelFiles models/dev/more/b.yaml[0].name (models-dev/my-model)" in str(raised.value)
    assert raised.value.registered_before_failure == []  # type: ignore[attr-defined]


def test_a_credential_in_a_model_file_env_is_caught_by_the_policy_pack(tmp_path: Path) -> None:
    """Literal credentials in env are judged on what the program registers, wherever the entry was written."""
    project = tmp_path / "project"
    custom = {"name": "scorer", "namespace": "team-a", "image": "registry.example.com/ml/scorer:0.1.0"}
    write(project, "models/a.yaml", [{**custom, "env": {"API_TOKEN": "tok-1234"}}])
    values = {"kserve": {"install": False}, "namespaces": {"networkPolicy": {"allowFromNamespaces": ["kserve"]}}}
    settings = read_stack_settings(
        PROJECT_DIR / "Pulumi.yaml",
        write(tmp_path, "Pulumi.test.yaml", {"config": {f"{PROJECT}:{k}": v for k, v in values.items()}}),
    )
    settings.config[f"{PROJECT}:modelFiles"] = json.dumps(["models/a.yaml"])
    run = run_program(settings, "test", project_dir=project)
    reported = [message for _, message in run_policy(policies.NO_PLAIN_SECRETS, run.resources)]
    assert any("env[API_TOKEN] looks like a credential" in message for message in reported), reported


def test_mirror_lists_the_images_of_file_models(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`mirror` reads the raw entries too (images as written): file entries included, named where they are written."""
    config = {
        f"{PROJECT}:kserve": {"install": False},
        f"{PROJECT}:namespaces": {"networkPolicy": {"allowFromNamespaces": ["kserve"]}},
        f"{PROJECT}:modelFiles": ["tests/fixtures/model_files/custom-images.yaml"],
        f"{PROJECT}:mirror": {"registry": "mirror.example.com/m", "customImages": True},
    }
    stack_file = write(tmp_path, "Pulumi.m.yaml", {"config": config})
    assert mirror.main(["--stack", "m", "--config-file", str(stack_file), "--format", "json"]) == 0
    images = json.loads(capsys.readouterr().out)["images"]
    custom = [image for image in images if image["component"] == "custom"]
    assert custom == [
        {
            "component": "custom",
            "name": "modelFiles tests/fixtures/model_files/custom-images.yaml[0].image",
            "source": "registry.example.com/ml/scorer:0.1.0",
            "target": "mirror.example.com/m/ml/scorer:0.1.0",
            "pulled": True,
        }
    ]


# --- the schema and the modeline -----------------------------------------------------------------------------------


def test_the_model_file_schema_accepts_model_files_and_refuses_typos() -> None:
    import jsonschema

    schema = model_file_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    assert list(validator.iter_errors([model("a"), {"name": "b", "namespace": "n", "image": "r/i:1"}])) == []
    assert list(validator.iter_errors([{**model("a"), "storageURI": "gs://x/y"}]))
    assert list(validator.iter_errors({"kserve-platform:models": [model("a")]}))
    committed = (PROJECT_DIR / "schema" / "model-file.schema.json").read_text(encoding="utf-8")
    assert json.loads(committed) == schema


def test_model_file_modeline_points_at_the_schema_from_the_file() -> None:
    assert model_file_modeline("models/prod/fraud.yaml") == (
        "# yaml-language-server: $schema=../../schema/model-file.schema.json"
    )
    assert model_file_modeline("fraud.yaml") == "# yaml-language-server: $schema=./schema/model-file.schema.json"
    for path in (PROJECT_DIR / "tests" / "bad_inputs" / "model_files").glob("team-*.yaml"):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == model_file_modeline(path.relative_to(PROJECT_DIR).as_posix())


# --- the limit: one environment string ---------------------------------------------------------------------------


def test_config_size_is_counted_as_the_language_host_builds_pulumi_config() -> None:
    """Go's json.Marshal of {key: text}: compact, sorted keys, <>& escaped, an object value as Go's JSON of it."""
    config = {"p:b": json.dumps([{"z": "<a & b>", "a": 1.0, "é": "ü"}]), "p:a": "plain text"}
    # The inner text's escapes are escaped again by the outer marshal (\u003c -> \\u003c).
    expected = r'PULUMI_CONFIG={"p:a":"plain text","p:b":"[{\"a\":1,\"z\":\"\\u003ca \\u0026 b\\u003e\",\"é\":\"ü\"}]"}'
    assert go_json(json.loads(config["p:b"])) == '[{"a":1,"z":"\\u003ca \\u0026 b\\u003e","é":"ü"}]'
    assert config_env_bytes(config) == len(expected.encode()) + 1


def generated_models(count: int) -> list[dict[str, Any]]:
    """Entries the size of benchmarks/bench_scaling.py's (whose stacks the real CLI fails to preview past ~440)."""
    resources = {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"cpu": "1", "memory": "2Gi"}}
    return [
        model(
            f"model-{index}",
            f"team-{index % 10}",
            protocolVersion="v2",
            storageUri=f"gs://example-models/team-{index % 10}/model-{index}",
            minReplicas=1,
            maxReplicas=3,
            resources=resources,
        )
        for index in range(count)
    ]


def big_stack(models: list[dict[str, Any]] | None, model_files: list[str] | None = None) -> dict[str, Any]:
    config: dict[str, Any] = {
        f"{PROJECT}:kserve": {"install": False},
        f"{PROJECT}:namespaces": {"networkPolicy": {"allowFromNamespaces": ["kserve"]}},
        f"{PROJECT}:publicStorageUriPrefixes": ["gs://example-models/"],
    }
    if models is not None:
        config[f"{PROJECT}:models"] = models
    if model_files is not None:
        config[f"{PROJECT}:modelFiles"] = model_files
    return {"config": config}


def test_inline_models_past_the_host_limit_are_refused_naming_model_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """450 inline models: the engine could not start the program ("argument list too long", measured with the real
    CLI by benchmarks/bench_engine.py); the render and check-secrets say so and point at modelFiles."""
    stack_file = write(tmp_path, "Pulumi.big.yaml", big_stack(generated_models(450)))
    settings = read_stack_settings(PROJECT_DIR / "Pulumi.yaml", stack_file)
    assert config_env_bytes(settings.config) > MAX_ENV_STRING_BYTES
    out = tmp_path / "out"
    assert render.main(["--stack", "big", "--config-file", str(stack_file), "--out", str(out)]) == 2
    stderr = capsys.readouterr().err
    assert f"- models: the stack config is {config_env_bytes(settings.config)} bytes" in stderr
    assert f"over {MAX_ENV_STRING_BYTES} bytes" in stderr and "kserve-platform:modelFiles" in stderr
    assert not out.exists()
    assert check_secrets.main(["--stack", "big", "--config-file", str(stack_file)]) == 2
    assert "kserve-platform:modelFiles" in capsys.readouterr().err


def test_the_same_models_in_model_files_render(tmp_path: Path) -> None:
    project = tmp_path / "project"
    models = generated_models(450)
    write(project, "models/first.yaml", models[:225])
    write(project, "models/second.yaml", models[225:])
    stack_file = write(tmp_path, "Pulumi.big.yaml", big_stack(None, ["models/*.yaml"]))
    settings = read_stack_settings(PROJECT_DIR / "Pulumi.yaml", stack_file)
    assert config_env_bytes(settings.config) < 1024
    run = run_program(settings, "big", project_dir=project)
    assert len(run.by_type(ISVC)) == 450
    assert not any("PULUMI_CONFIG" in warning for warning in run.warnings)


def test_a_config_near_the_limit_warns(run_config) -> None:
    """Every namespace counts (the host passes them all in the one string)."""
    padding = {"other:padding": "x" * int(MAX_ENV_STRING_BYTES * 0.8)}
    assert config_size_warning(padding)
    run = run_config({"kserve": {"install": False}, "models": []}, extra=padding)
    assert any("PULUMI_CONFIG environment string" in w and "kserve-platform:modelFiles" in w for w in run.warnings)
    assert config_size_warning({"other:padding": "x"}) is None
