"""Bucket credentials for KServe's storage initializer: a Secret and a ServiceAccount that lists it.

A predictor running as this ServiceAccount gets the credentials: KServe reads the secrets attached to the
predictor's `serviceAccountName` (S3 keys + `serving.kserve.io/s3-*` annotations, the GCS key file, Azure
service-principal fields). With IRSA there is no Secret: the role ARN annotation on the ServiceAccount is all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from config.credentials import IRSA_ROLE_ANNOTATION, S3Credential, StorageCredentialConfig

MANAGED_BY = {"app.kubernetes.io/managed-by": "pulumi"}


def service_account_manifest(entry: StorageCredentialConfig) -> dict[str, Any]:
    """The ServiceAccount a model runs as (plain data)."""
    metadata: dict[str, Any] = {"name": entry.name, "namespace": entry.namespace, "labels": dict(MANAGED_BY)}
    # Pods opt in to a token themselves (models[].automountServiceAccountToken); the account grants none by default.
    obj: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata,
        "automountServiceAccountToken": False,
    }
    store = entry.store
    if isinstance(store, S3Credential) and store.role_arn is not None:
        # IRSA: EKS injects the role's web identity into pods of this ServiceAccount; KServe reads the S3 settings
        # from the ServiceAccount's annotations in that case.
        metadata["annotations"] = {IRSA_ROLE_ANNOTATION: store.role_arn, **store.annotations()}
    if entry.needs_secret:
        obj["secrets"] = [{"name": entry.name}]
    return obj


def secret_manifest(entry: StorageCredentialConfig, value_of: Callable[[str], Any]) -> dict[str, Any] | None:
    """The Secret holding the credentials, values from `value_of(config key)`; None when nothing is stored."""
    data_keys = entry.store.secret_data_keys()
    if not data_keys:
        return None
    metadata: dict[str, Any] = {"name": entry.name, "namespace": entry.namespace, "labels": dict(MANAGED_BY)}
    if entry.store.annotations():
        metadata["annotations"] = entry.store.annotations()
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata,
        "type": "Opaque",
        "stringData": {data_key: value_of(config_key) for data_key, config_key in data_keys.items()},
    }


@dataclass
class StorageCredentialsArgs:
    entry: StorageCredentialConfig
    # Config key -> value; the program passes `config.source.secret_value`, so every value is a Pulumi secret.
    secret_value: Callable[[str], pulumi.Input[str]]
    depends_on: list[pulumi.Resource] = field(default_factory=list)


class StorageCredentials(pulumi.ComponentResource):
    """Secret + ServiceAccount for one `storageCredentials` entry; outputs the ServiceAccount name."""

    def __init__(self, name: str, args: StorageCredentialsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kserve-platform:storage:StorageCredentials", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, depends_on=args.depends_on)
        secret = secret_manifest(args.entry, args.secret_value)
        self.secret: k8s.core.v1.Secret | None = None
        account_depends: list[pulumi.Resource] = []
        if secret is not None:
            self.secret = k8s.core.v1.Secret(
                f"{name}-secret",
                metadata=secret["metadata"],
                type=secret["type"],
                string_data=secret["stringData"],
                opts=child,
            )
            account_depends.append(self.secret)
        account = service_account_manifest(args.entry)
        self.service_account = k8s.core.v1.ServiceAccount(
            f"{name}-sa",
            metadata=account["metadata"],
            secrets=account.get("secrets"),
            automount_service_account_token=account["automountServiceAccountToken"],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*args.depends_on, *account_depends]),
        )
        self.service_account_name = pulumi.Output.from_input(args.entry.name)
        self.register_outputs({"serviceAccountName": self.service_account_name})
