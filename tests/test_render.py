"""`python -m cli render`, the offline render: layout, names, summary, exit codes, and nothing written on bad config."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from offline.stackfile import UNDECRYPTED_SECRET, read_stack_settings
from tests.conftest import PROJECT_DIR, committed_config, committed_models, fixture_stack_file, render


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
    # custom-model has `deploy: false` until its image is pushed (tests/test_custom_images.py).
    assert "1-manifest/serving.kserve.io_v1beta1-inferenceservice-models-dev-xgboost-iris.yaml" in files
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
    assert "InferenceService: 2" in result.stdout and "NetworkPolicy: 1" in result.stdout  # custom-model not deployed


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


# --- Secrets: the committed stacks hold no ciphertext; the render feeds marked stand-ins; `up` names the fix ---

SECRET_KEYS_BY_STACK = {
    "staging": ["kserve-platform:stagingGcsServiceAccountJson"],
    "prod": ["kserve-platform:prodS3AccessKeyId", "kserve-platform:prodS3SecretAccessKey"],
}
# What a secrets provider adds to a stack file: a provider-specific key that only the user's own stack may carry.
PROVIDER_KEYS = ("encryptionsalt", "secretsprovider", "encryptedkey")


def _secure_values(value: object, path: str = "") -> list[str]:
    if isinstance(value, dict):
        found = [path] if "secure" in value else []
        return found + [p for key, item in value.items() for p in _secure_values(item, f"{path}.{key}")]
    if isinstance(value, list):
        return [p for index, item in enumerate(value) for p in _secure_values(item, f"{path}[{index}]")]
    return []


def test_committed_stack_files_hold_no_ciphertext() -> None:
    """A `secure:` value decrypts only with the secrets provider that wrote it: a committed one makes the CLI abort
    before the program runs for everyone who clones the project and creates the stack with their own provider."""
    stack_files = sorted(PROJECT_DIR.glob("Pulumi.*.yaml"))
    assert {path.name for path in stack_files} >= {f"Pulumi.{stack}.yaml" for stack in SECRET_KEYS_BY_STACK}
    for path in stack_files:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert _secure_values(document) == [], f"{path.name} commits ciphertext nobody else can decrypt"
        assert not set(PROVIDER_KEYS) & set(document), f"{path.name} commits a secrets provider's settings"


@pytest.mark.parametrize("stack", sorted(SECRET_KEYS_BY_STACK))
def test_render_feeds_marked_stand_ins_through_the_secret_path(stack: str) -> None:
    from offline.program import run_program
    from offline.recorder import is_secret
    from offline.stackfile import STAND_IN_SECRET

    settings = read_stack_settings(PROJECT_DIR / "Pulumi.yaml", PROJECT_DIR / f"Pulumi.{stack}.yaml")
    assert settings.stand_in_keys == SECRET_KEYS_BY_STACK[stack]
    run = run_program(settings, stack)
    secrets = run.by_type("kubernetes:core/v1:Secret")
    assert len(secrets) == 1
    # The value reached the Secret as a Pulumi secret (what `require_secret` gives under the CLI)...
    assert is_secret(secrets[0].raw_inputs["stringData"])
    stand_ins = {STAND_IN_SECRET.format(key=key.partition(":")[2]) for key in SECRET_KEYS_BY_STACK[stack]}
    assert set(secrets[0].inputs["stringData"].values()) == stand_ins
    assert all("stand-in" in value and "pulumi config set --secret" in value for value in stand_ins)


@pytest.mark.parametrize("stack", sorted(SECRET_KEYS_BY_STACK))
def test_render_cli_redacts_stand_ins_and_names_the_commands(stack: str, tmp_path: Path) -> None:
    out = tmp_path / stack
    result = render("--stack", stack, "--out", out)
    assert result.returncode == 0, result.stderr
    written = "".join(path.read_text(encoding="utf-8") for path in out.rglob("*.yaml"))
    assert "kind: Secret" in written and "'[secret]'" in written
    assert "stand-in" not in written
    for key in SECRET_KEYS_BY_STACK[stack]:
        assert f"pulumi config set --secret --stack {stack} {key} <value>" in result.stderr


@pytest.mark.parametrize("stack", sorted(SECRET_KEYS_BY_STACK))
def test_preview_without_the_secret_keys_fails_naming_the_command(stack: str) -> None:
    """What `pulumi preview` sees on a stack whose secret keys were never set: no stand-ins, the real program."""
    from config.errors import ConfigError
    from offline.program import run_program

    settings = read_stack_settings(
        PROJECT_DIR / "Pulumi.yaml", PROJECT_DIR / f"Pulumi.{stack}.yaml", stand_in_secrets=False
    )
    assert settings.stand_in_keys == []
    with pytest.raises(ConfigError) as raised:
        run_program(settings, stack)
    message = str(raised.value)
    for key in SECRET_KEYS_BY_STACK[stack]:
        bare = key.partition(":")[2]
        assert f"secret config key '{bare}' is not set; set it with `pulumi config set --secret {key} <value>`" in (
            message
        )
    assert raised.value.registered_before_failure == []  # type: ignore[attr-defined]


def test_set_secret_keys_replace_the_stand_ins(tmp_path: Path) -> None:
    """After `pulumi config set --secret`, the stack file carries the user's own ciphertext: no stand-in, and the
    render still never decrypts it."""
    from cli.check_secrets import main as check_secrets

    document = yaml.safe_load((PROJECT_DIR / "Pulumi.prod.yaml").read_text(encoding="utf-8"))
    for key in SECRET_KEYS_BY_STACK["prod"]:
        document["config"][key] = {"secure": "v1:c2FsdA==:dXNlci1vd24tY2lwaGVydGV4dA=="}
    stack_file = tmp_path / "Pulumi.prod.yaml"
    stack_file.write_text(yaml.safe_dump(document), encoding="utf-8")
    settings = read_stack_settings(PROJECT_DIR / "Pulumi.yaml", stack_file)
    assert settings.stand_in_keys == []
    assert {settings.config[key] for key in SECRET_KEYS_BY_STACK["prod"]} == {UNDECRYPTED_SECRET}
    assert check_secrets(["--stack", "prod", "--config-file", str(stack_file)]) == 0


def test_check_secrets_cli_fails_on_unset_keys_with_the_commands() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cli", "check-secrets", "--stack", "prod"],
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    for key in SECRET_KEYS_BY_STACK["prod"]:
        assert f"pulumi config set --secret --stack prod {key} <value>" in result.stderr
    from cli.check_secrets import main as check_secrets

    assert check_secrets(["--stack", "dev"]) == 0


def test_deployment_checks_the_secret_keys_before_pulumi_up() -> None:
    """The project action (every preview and up runs through it) checks the secret keys before the CLI runs."""
    action = PROJECT_DIR / ".github/actions/pulumi-project/action.yml"
    steps = yaml.safe_load(action.read_text(encoding="utf-8"))["runs"]["steps"]
    runs = [step.get("run", "") for step in steps]
    check = next(i for i, run in enumerate(runs) if "-m cli check-secrets" in run)
    pulumi = next(i for i, step in enumerate(steps) if str(step.get("uses", "")).startswith("pulumi/actions@"))
    assert check < pulumi


def test_strict_secrets_render_fails_like_pulumi_up(tmp_path: Path) -> None:
    out = tmp_path / "prod"
    result = render("--stack", "prod", "--out", out, "--strict-secrets")
    assert result.returncode == 2
    for key in SECRET_KEYS_BY_STACK["prod"]:
        assert f"pulumi config set --secret {key} <value>" in result.stderr
    assert not out.exists()
