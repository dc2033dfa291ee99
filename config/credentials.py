"""`storageCredentials`: how KServe's storage initializer authenticates to the model bucket.

Each entry becomes a Kubernetes Secret and a ServiceAccount listing it; a model that names the entry runs its
predictor under that ServiceAccount, which is where the storage initializer looks for credentials. Secret values
never appear in the stack file in plaintext: an entry names *config keys* (fields ending in `Secret`) that the
user sets with `pulumi config set --secret kserve-platform:<key> <value>`; the program reads them with
`require_secret`, so they stay Pulumi secrets end to end.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from config.base import StrictModel
from config.kubernetes import DnsLabel

# The secret data keys and annotations KServe's storage initializer reads (pkg/credentials of KServe).
S3_ACCESS_KEY_ID = "AWS_ACCESS_KEY_ID"
S3_SECRET_ACCESS_KEY = "AWS_SECRET_ACCESS_KEY"
S3_ENDPOINT_ANNOTATION = "serving.kserve.io/s3-endpoint"
S3_REGION_ANNOTATION = "serving.kserve.io/s3-region"
S3_USE_HTTPS_ANNOTATION = "serving.kserve.io/s3-usehttps"
S3_VERIFY_SSL_ANNOTATION = "serving.kserve.io/s3-verifyssl"
IRSA_ROLE_ANNOTATION = "eks.amazonaws.com/role-arn"
GCS_CREDENTIALS_KEY = "gcloud-application-credentials.json"
AZURE_KEYS = ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_SUBSCRIPTION_ID")

# A config key name as `pulumi config set` accepts it (without the `kserve-platform:` prefix).
_CONFIG_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")
_IAM_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9_+=,.@/-]+")
_ENDPOINT = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?")


def _check_config_key(value: str) -> str:
    if not _CONFIG_KEY.fullmatch(value) or ":" in value:
        raise ValueError(
            f"{value!r} is not a config key name: give the key without the project prefix, e.g. prodS3SecretAccessKey "
            "(set with `pulumi config set --secret kserve-platform:prodS3SecretAccessKey <value>`)"
        )
    return value


def _check_role_arn(value: str) -> str:
    if not _IAM_ROLE_ARN.fullmatch(value):
        raise ValueError(f"{value!r} is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)")
    return value


def _check_endpoint(value: str) -> str:
    if "://" in value:
        raise ValueError(
            f"{value!r}: give the host[:port] only (e.g. minio.storage:9000) and set useHttps instead of a scheme"
        )
    if not _ENDPOINT.fullmatch(value):
        raise ValueError(f"{value!r} is not a host[:port]")
    return value


SecretConfigKey = Annotated[str, AfterValidator(_check_config_key)]


class _Store(StrictModel):
    def secret_refs(self) -> dict[str, str]:
        """Field alias -> secret config key, for every secret value the block names."""
        out = {}
        for field_name, field in type(self).model_fields.items():
            alias = field.alias or field_name
            value = getattr(self, field_name)
            if alias.endswith("Secret") and isinstance(value, str):
                out[alias] = value
        return out

    def annotations(self) -> dict[str, str]:
        return {}


class S3Credential(_Store):
    """S3 or an S3-compatible store (MinIO, Ceph): access keys from secret config, or an IRSA role on EKS."""

    access_key_id_secret: SecretConfigKey | None = Field(
        None,
        description=(
            "Name of the secret config key holding the access key id (with secretAccessKeySecret; or use roleArn)."
        ),
    )
    secret_access_key_secret: SecretConfigKey | None = Field(
        None, description="Name of the secret config key holding the secret access key."
    )
    role_arn: Annotated[str, AfterValidator(_check_role_arn)] | None = Field(
        None, description="EKS IAM Roles for Service Accounts: the pod gets the role, no keys are stored anywhere."
    )
    endpoint: Annotated[str, AfterValidator(_check_endpoint)] | None = Field(
        None, description="S3 endpoint as host[:port], e.g. s3.eu-west-1.amazonaws.com or a MinIO service."
    )
    region: str | None = Field(
        default=None, pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]+$", description="S3 region, e.g. eu-west-1."
    )
    use_https: bool | None = Field(None, description="Use HTTPS to the endpoint (KServe's default: true).")
    verify_ssl: bool | None = Field(None, description="Verify the endpoint's certificate (KServe's default: true).")

    @model_validator(mode="after")
    def _keys_or_role(self) -> S3Credential:
        keys = (self.access_key_id_secret, self.secret_access_key_secret)
        if self.role_arn is not None and any(keys):
            raise ValueError("set either roleArn (IRSA) or accessKeyIdSecret + secretAccessKeySecret, not both")
        if self.role_arn is None and not all(keys):
            raise ValueError(
                "set both accessKeyIdSecret and secretAccessKeySecret (names of secret config keys), or roleArn "
                "for IRSA on EKS"
            )
        return self

    def annotations(self) -> dict[str, str]:
        """The `serving.kserve.io/s3-*` annotations the storage initializer reads (on the Secret, or on the
        ServiceAccount with IRSA)."""
        out: dict[str, str] = {}
        if self.endpoint is not None:
            out[S3_ENDPOINT_ANNOTATION] = self.endpoint
        if self.region is not None:
            out[S3_REGION_ANNOTATION] = self.region
        if self.use_https is not None:
            out[S3_USE_HTTPS_ANNOTATION] = "1" if self.use_https else "0"
        if self.verify_ssl is not None:
            out[S3_VERIFY_SSL_ANNOTATION] = "1" if self.verify_ssl else "0"
        return out

    def secret_data_keys(self) -> dict[str, str]:
        """Secret data key -> secret config key."""
        if self.role_arn is not None:
            return {}
        return {
            S3_ACCESS_KEY_ID: str(self.access_key_id_secret),
            S3_SECRET_ACCESS_KEY: str(self.secret_access_key_secret),
        }


class GcsCredential(_Store):
    """Google Cloud Storage: a service-account JSON key, stored whole in one secret config key."""

    service_account_json_secret: SecretConfigKey = Field(
        description="Name of the secret config key holding the service account's JSON key."
    )

    def secret_data_keys(self) -> dict[str, str]:
        return {GCS_CREDENTIALS_KEY: self.service_account_json_secret}


class AzureCredential(_Store):
    """Azure Blob Storage: a service principal."""

    client_id_secret: SecretConfigKey = Field(description="Name of the secret config key holding the client id.")
    client_secret_secret: SecretConfigKey = Field(
        description="Name of the secret config key holding the client secret."
    )
    tenant_id_secret: SecretConfigKey = Field(description="Name of the secret config key holding the tenant id.")
    subscription_id_secret: SecretConfigKey | None = Field(
        None, description="Name of the secret config key holding the subscription id (optional)."
    )

    def secret_data_keys(self) -> dict[str, str]:
        refs = (self.client_id_secret, self.client_secret_secret, self.tenant_id_secret, self.subscription_id_secret)
        return {key: ref for key, ref in zip(AZURE_KEYS, refs, strict=True) if ref is not None}


STORE_KEYS = ("s3", "gcs", "azure")


class StorageCredentialConfig(StrictModel):
    """One `storageCredentials` entry: a Secret + ServiceAccount, both called `name`, in `namespace`, with exactly
    one of the `s3`, `gcs`, `azure` blocks."""

    name: DnsLabel = Field(description="Name of the Secret and ServiceAccount; models name it in storageCredentials.")
    namespace: DnsLabel = Field(
        description=(
            "A model namespace (or one of kserve.existingNamespaces): credentials serve only models "
            "of their own namespace."
        )
    )
    s3: S3Credential | None = Field(
        None, description="S3 (or S3-compatible) credentials; exactly one of s3, gcs, azure."
    )
    gcs: GcsCredential | None = Field(None, description="Google Cloud Storage credentials.")
    azure: AzureCredential | None = Field(None, description="Azure Blob Storage credentials.")

    @model_validator(mode="after")
    def _one_store(self) -> StorageCredentialConfig:
        given = [key for key in STORE_KEYS if getattr(self, key) is not None]
        if len(given) != 1:
            raise ValueError(
                f"set exactly one of {', '.join(STORE_KEYS)} (got {', '.join(given) or 'none'}); e.g. "
                "s3: {accessKeyIdSecret: prodS3AccessKeyId, secretAccessKeySecret: prodS3SecretAccessKey}"
            )
        return self

    @property
    def type(self) -> str:
        return next(key for key in STORE_KEYS if getattr(self, key) is not None)

    @property
    def store(self) -> S3Credential | GcsCredential | AzureCredential:
        return getattr(self, self.type)

    @property
    def needs_secret(self) -> bool:
        """False for IRSA: the ServiceAccount carries the role, there is nothing to store."""
        return bool(self.store.secret_data_keys())

    def secret_refs(self) -> dict[str, str]:
        """Key path inside the entry (`s3.secretAccessKeySecret`) -> secret config key."""
        return {f"{self.type}.{alias}": key for alias, key in self.store.secret_refs().items()}


def credential_type_for_uri(uri: str | None) -> str | None:
    """The credential type a storageUri needs when its bucket is private (None: no credentials apply)."""
    if uri is None:
        return None
    if uri.startswith("s3://"):
        return "s3"
    if uri.startswith("gs://"):
        return "gcs"
    if uri.startswith("https://") and ".blob.core.windows.net/" in uri:
        return "azure"
    return None
