"""Secrets: with every kind of storage credential in one stack, scan everything the program registers and
everything the render writes for the secret values; none may appear unmarked or in plaintext."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from cli import render
from offline import manifests
from offline.program import run_program
from offline.recorder import is_secret
from tests.conftest import settings_for

SECRETS = {
    "s3AccessKeyId": "AKIASCANTEST00000001",
    "s3SecretAccessKey": "scan-test-s3-secret-0f9e8d7c6b5a",
    "gcsJson": '{"type": "service_account", "private_key": "scan-test-gcs-private-key"}',
    "azureClientId": "scan-test-azure-client-id",
    "azureClientSecret": "scan-test-azure-client-secret",
    "azureTenantId": "scan-test-azure-tenant",
}
VALUES: dict[str, Any] = {
    **SECRETS,
    "storageCredentials": [
        {
            "name": "s3",
            "namespace": "ml",
            "s3": {"accessKeyIdSecret": "s3AccessKeyId", "secretAccessKeySecret": "s3SecretAccessKey"},
        },
        {"name": "gcs", "namespace": "ml", "gcs": {"serviceAccountJsonSecret": "gcsJson"}},
        {
            "name": "azure",
            "namespace": "ml",
            "azure": {
                "clientIdSecret": "azureClientId",
                "clientSecretSecret": "azureClientSecret",
                "tenantIdSecret": "azureTenantId",
            },
        },
    ],
    "models": [
        {"name": "a", "namespace": "ml", "format": "sklearn", "storageUri": "s3://bkt-a/m", "storageCredentials": "s3"},
        {
            "name": "b",
            "namespace": "ml",
            "format": "sklearn",
            "storageUri": "gs://bkt-b/m",
            "storageCredentials": "gcs",
        },
        {
            "name": "c",
            "namespace": "ml",
            "format": "sklearn",
            "storageUri": "https://acct.blob.core.windows.net/c/m",
            "storageCredentials": "azure",
        },
    ],
}


def unmarked_occurrences(value: Any, path: str = "") -> list[str]:
    """Paths where a secret value appears outside a Pulumi secret marker."""
    if is_secret(value):
        return []
    if isinstance(value, dict):
        return [hit for key, item in value.items() for hit in unmarked_occurrences(item, f"{path}.{key}")]
    if isinstance(value, list):
        return [hit for index, item in enumerate(value) for hit in unmarked_occurrences(item, f"{path}[{index}]")]
    text = str(value)
    return [f"{path}: {name}" for name, secret in SECRETS.items() if secret in text]


def test_secret_values_are_marked_wherever_the_program_registers_them(run_config) -> None:
    run = run_config(VALUES, secret_keys=tuple(SECRETS))
    secrets = [r for r in run.resources if r.type == "kubernetes:core/v1:Secret"]
    assert len(secrets) == 3, "one Secret per credential"
    found = [f"{r.urn}{hit}" for r in run.resources for hit in unmarked_occurrences(r.raw_inputs)]
    assert found == []
    assert unmarked_occurrences(run.outputs) == []


def test_secret_values_never_reach_the_render_output(tmp_path: Path, capsys) -> None:
    stack_file = tmp_path / "Pulumi.scan.yaml"
    # The stack file holds ciphertext only, as `pulumi config set --secret` leaves it.
    config = {f"kserve-platform:{key}": {"secure": f"v1:{key}-ciphertext"} for key in SECRETS}
    config.update({f"kserve-platform:{key}": value for key, value in VALUES.items() if key not in SECRETS})
    stack_file.write_text(yaml.safe_dump({"config": config}))
    out = tmp_path / "out"
    assert render.main(["--stack", "scan", "--config-file", str(stack_file), "--out", str(out)]) == 0, (
        capsys.readouterr().err
    )
    written = "".join(path.read_text() for path in out.rglob("*") if path.is_file())
    assert "ciphertext" not in written
    # And from plaintext values marked secret (what the program holds after the CLI decrypts them):
    run = run_program(settings_for(VALUES, secret_keys=tuple(SECRETS)), "scan")
    manifests.write(manifests.render(run), tmp_path / "plain")
    written = "".join(path.read_text() for path in (tmp_path / "plain").rglob("*") if path.is_file())
    assert written.count("[secret]") >= 6
    assert [name for name, secret in SECRETS.items() if secret in written] == []
