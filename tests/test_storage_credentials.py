"""Storage credentials: the Secret and ServiceAccount KServe's storage initializer reads, secret values kept Pulumi
secrets in what the program registers and absent from everything the offline render writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pulumi
import pytest
import yaml
from conftest import PROJECT_DIR, settings_for
from model_helpers import config_errors, model, objects, only
from schemas import schema_errors

from offline import manifests
from offline.program import run_program
from offline.recorder import is_secret

ACCESS_KEY = "AKIAEXAMPLEKEYID0001"
SECRET_KEY = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
GCS_JSON = '{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----abc"}'
S3_ENTRY = {
    "name": "models-s3",
    "namespace": "models",
    "s3": {
        "accessKeyIdSecret": "s3AccessKeyId",
        "secretAccessKeySecret": "s3SecretAccessKey",
        "endpoint": "minio.storage:9000",
        "region": "eu-west-1",
        "useHttps": False,
        "verifySsl": False,
    },
}
S3_MODEL = model(storageUri="s3://acme-ml/iris/v1", storageCredentials="models-s3")
S3_VALUES = {
    "models": [S3_MODEL],
    "storageCredentials": [S3_ENTRY],
    "s3AccessKeyId": ACCESS_KEY,
    "s3SecretAccessKey": SECRET_KEY,
}
S3_SECRETS = ("s3AccessKeyId", "s3SecretAccessKey")


def test_s3_keys_become_secret_and_service_account(run_config) -> None:
    run = run_config(S3_VALUES, secret_keys=S3_SECRETS)
    secret = only(run, "Secret")
    assert secret["metadata"] == {
        "name": "models-s3",
        "namespace": "models",
        "labels": {"app.kubernetes.io/managed-by": "pulumi"},
        "annotations": {
            "serving.kserve.io/s3-endpoint": "minio.storage:9000",
            "serving.kserve.io/s3-region": "eu-west-1",
            "serving.kserve.io/s3-usehttps": "0",
            "serving.kserve.io/s3-verifyssl": "0",
        },
    }
    assert secret["stringData"] == {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
    account = only(run, "ServiceAccount")
    assert account["metadata"]["name"] == "models-s3"
    assert account["secrets"] == [{"name": "models-s3"}]
    isvc = only(run, "InferenceService")
    assert schema_errors(isvc) == []
    assert isvc["spec"]["predictor"]["serviceAccountName"] == "models-s3"
    # The model is applied after its ServiceAccount and Secret exist.
    deps = run.by_type("kubernetes:serving.kserve.io/v1beta1:InferenceService")[0].dependencies
    assert any(dep.endswith("::models/models-s3-sa") for dep in deps)
    assert any(dep.endswith("::models/models-s3-secret") for dep in deps)


def test_secret_values_stay_pulumi_secrets_in_registered_inputs(run_config) -> None:
    run = run_config(S3_VALUES, secret_keys=S3_SECRETS)
    (resource,) = run.by_type("kubernetes:core/v1:Secret")
    string_data = resource.raw_inputs["stringData"]
    # Either the whole map or each value carries the secret marker; never a plain string.
    if not is_secret(string_data):
        assert all(is_secret(value) for value in string_data.values())
    for other in run.resources:
        if other.type != "kubernetes:core/v1:Secret":
            assert ACCESS_KEY not in str(other.raw_inputs) and SECRET_KEY not in str(other.raw_inputs)
    assert SECRET_KEY not in str(run.outputs)


def test_secret_values_never_reach_the_render(run_config, tmp_path: Path) -> None:
    run = run_config(S3_VALUES, secret_keys=S3_SECRETS)
    manifests.write(manifests.render(run), tmp_path)
    written = "".join(path.read_text(encoding="utf-8") for path in tmp_path.rglob("*") if path.is_file())
    assert "AWS_SECRET_ACCESS_KEY" in written  # the Secret is rendered, with its values redacted
    assert SECRET_KEY not in written and ACCESS_KEY not in written


def test_render_cli_with_secure_stack_values(tmp_path: Path) -> None:
    stack_file = tmp_path / "Pulumi.review.yaml"
    stack_file.write_text(
        yaml.safe_dump(
            {
                "config": {
                    "kserve-platform:models": [S3_MODEL],
                    "kserve-platform:storageCredentials": [S3_ENTRY],
                    "kserve-platform:s3AccessKeyId": {"secure": "v1:abcdEFGH1234:cGxhaW50ZXh0LWFjY2Vzcy1rZXk="},
                    "kserve-platform:s3SecretAccessKey": {"secure": "v1:ijklMNOP5678:c2VjcmV0LWtleS1jaXBoZXI="},
                }
            }
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "cli", "render", "--stack=review", f"--config-file={stack_file}", f"--out={out}"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    written = {path.name: path.read_text(encoding="utf-8") for path in out.rglob("*.yaml")}
    secret = yaml.safe_load(written["v1-secret-models-models-s3.yaml"])
    assert set(secret["stringData"]) == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    text = "".join(written.values())
    for leaked in ("v1:abcdEFGH1234", "v1:ijklMNOP5678", "[secret: encrypted"):
        assert leaked not in text
    assert "ServiceAccount: 1" in result.stdout and "Secret: 1" in result.stdout


def test_committed_stacks_keep_secret_values_out_of_the_render(tmp_path: Path) -> None:
    for stack in ("staging", "prod"):
        out = tmp_path / stack
        result = subprocess.run(
            [sys.executable, "-m", "cli", "render", "--stack", stack, "--out", str(out)],
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        # The committed files hold no ciphertext (tests/test_render.py): the render's stand-ins stay secret too.
        written = "".join(path.read_text(encoding="utf-8") for path in out.rglob("*.yaml"))
        assert "kind: Secret" in written
        assert "stand-in" not in written


def test_irsa_puts_role_and_s3_settings_on_the_service_account(run_config) -> None:
    entry = {
        "name": "models-s3",
        "namespace": "models",
        "s3": {"roleArn": "arn:aws:iam::123456789012:role/kserve-models", "region": "eu-west-1"},
    }
    run = run_config({"models": [S3_MODEL], "storageCredentials": [entry]})
    assert objects(run, "Secret") == []
    account = only(run, "ServiceAccount")
    assert account["metadata"]["annotations"] == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/kserve-models",
        "serving.kserve.io/s3-region": "eu-west-1",
    }
    assert "secrets" not in account


def test_gcs_service_account_json(run_config) -> None:
    values = {
        "models": [model(storageUri="gs://acme-private/iris", storageCredentials="models-gcs")],
        "storageCredentials": [
            {"name": "models-gcs", "namespace": "models", "gcs": {"serviceAccountJsonSecret": "gcsKey"}}
        ],
        "gcsKey": GCS_JSON,
    }
    run = run_config(values, secret_keys=("gcsKey",))
    assert only(run, "Secret")["stringData"] == {"gcloud-application-credentials.json": GCS_JSON}
    assert only(run, "InferenceService")["spec"]["predictor"]["serviceAccountName"] == "models-gcs"


def test_azure_service_principal(run_config) -> None:
    keys = {"azClientId": "cid", "azClientSecret": "csecret", "azTenantId": "tid", "azSubscriptionId": "sid"}
    values = {
        "models": [
            model(storageUri="https://acme.blob.core.windows.net/models/iris", storageCredentials="models-azure")
        ],
        "storageCredentials": [
            {
                "name": "models-azure",
                "namespace": "models",
                "azure": {
                    "clientIdSecret": "azClientId",
                    "clientSecretSecret": "azClientSecret",
                    "tenantIdSecret": "azTenantId",
                    "subscriptionIdSecret": "azSubscriptionId",
                },
            }
        ],
        **keys,
    }
    run = run_config(values, secret_keys=tuple(keys))
    assert only(run, "Secret")["stringData"] == {
        "AZURE_CLIENT_ID": "cid",
        "AZURE_CLIENT_SECRET": "csecret",
        "AZURE_TENANT_ID": "tid",
        "AZURE_SUBSCRIPTION_ID": "sid",
    }


def test_missing_secret_key_names_the_fix(run_config) -> None:
    values = {"models": [S3_MODEL], "storageCredentials": [S3_ENTRY], "s3AccessKeyId": ACCESS_KEY}
    errors = config_errors(run_config, values, secret_keys=("s3AccessKeyId",))
    assert errors == {
        "storageCredentials[0].s3.secretAccessKeySecret": (
            "secret config key 's3SecretAccessKey' is not set; set it with "
            "`pulumi config set --secret kserve-platform:s3SecretAccessKey <value>`"
        )
    }


def test_plaintext_secret_key_is_refused(run_config) -> None:
    errors = config_errors(run_config, S3_VALUES, secret_keys=("s3AccessKeyId",))
    message = errors["storageCredentials[0].s3.secretAccessKeySecret"]
    assert "stored in plaintext" in message and "pulumi config set --secret" in message
    assert SECRET_KEY not in message
    assert len(errors) == 1  # not also reported as an unknown key


def test_unreferenced_secret_key_is_reported(run_config) -> None:
    values = {**S3_VALUES, "s3SecretAccesKey": "typo"}
    errors = config_errors(run_config, values, secret_keys=(*S3_SECRETS, "s3SecretAccesKey"))
    assert "not used by any storageCredentials entry" in errors["s3SecretAccesKey"]


@pytest.mark.parametrize(
    ("entry", "path", "fragment"),
    [
        ({"name": "c", "namespace": "models"}, "storageCredentials[0]", "exactly one of s3, gcs, azure"),
        (
            {"name": "c", "namespace": "models", "s3": {"accessKeyIdSecret": "a"}},
            "storageCredentials[0].s3",
            "set both accessKeyIdSecret and secretAccessKeySecret",
        ),
        (
            {"name": "c", "namespace": "models", "s3": {"roleArn": "arn:aws:iam::1:role/x"}},
            "storageCredentials[0].s3.roleArn",
            "not an IAM role ARN",
        ),
        (
            {
                "name": "c",
                "namespace": "models",
                "s3": {"roleArn": "arn:aws:iam::123456789012:role/x", "endpoint": "https://s3"},
            },
            "storageCredentials[0].s3.endpoint",
            "useHttps",
        ),
        (
            {"name": "c", "namespace": "models", "gcs": {"serviceAccountJsonSecret": "kserve-platform:key"}},
            "storageCredentials[0].gcs.serviceAccountJsonSecret",
            "without the project prefix",
        ),
        (
            {"name": "c", "namespace": "elsewhere", "s3": {"roleArn": "arn:aws:iam::123456789012:role/x"}},
            "storageCredentials[0].namespace",
            "neither a model namespace",
        ),
        (
            {"name": "c", "namespace": "models", "gcs": {"serviceAccountJson": "k"}},
            "storageCredentials[0].gcs.serviceAccountJson",
            "did you mean 'serviceAccountJsonSecret'",
        ),
    ],
)
def test_credential_entry_errors(run_config, entry: dict, path: str, fragment: str) -> None:
    errors = config_errors(run_config, {"models": [model()], "storageCredentials": [entry]})
    assert fragment in errors[path], errors


def test_model_credential_references(run_config) -> None:
    irsa = {"name": "models-s3", "namespace": "models", "s3": {"roleArn": "arn:aws:iam::123456789012:role/x"}}
    errors = config_errors(
        run_config,
        {
            "models": [
                model(storageCredentials="nope"),
                model(name="b", storageUri="gs://acme/x", storageCredentials="models-s3"),
                model(name="c", storageUri="s3://acme/x", storageCredentials="models-s3", serviceAccountName="sa"),
            ],
            "storageCredentials": [irsa],
        },
    )
    assert "no storageCredentials entry 'nope'" in errors["models[0].storageCredentials"]
    assert "needs gcs credentials" in errors["models[1].storageUri"]
    assert "not both" in errors["models[2].serviceAccountName"]


def test_private_bucket_without_credentials_warns_with_the_fix(run_config, monkeypatch) -> None:
    warnings: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *args, **kwargs: warnings.append(message))
    run_config(
        {
            "models": [model(storageUri="s3://acme-ml/iris"), model(name="public")],
            "publicStorageUriPrefixes": ["gs://seldon-models/"],
        }
    )
    assert len(warnings) == 1
    # The model is named beside its index, as in errors.
    assert warnings[0].startswith("models[0].storageUri (models/iris): 's3://acme-ml/iris' is read without credentials")
    assert "models[0].storageCredentials" in warnings[0]


def test_harness_settings_mark_secret_keys() -> None:
    # Guard for the tests above: the harness passes secret keys the way the CLI does.
    settings = settings_for(S3_VALUES, secret_keys=S3_SECRETS)
    assert settings.secret_keys == ["kserve-platform:s3AccessKeyId", "kserve-platform:s3SecretAccessKey"]
    run = run_program(settings, "t")
    assert only(run, "Secret")["stringData"]["AWS_ACCESS_KEY_ID"] == ACCESS_KEY
