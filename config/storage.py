"""Model artifact locations (`storageUri`) and the schemes KServe's storage initializer can fetch."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

# Scheme -> what must follow it. KServe checks these at reconcile time, long after `pulumi up` returned,
# so the config rejects them up front.
STORAGE_SCHEMES: dict[str, str] = {
    "gs": "gs://<bucket>/<path>",
    "s3": "s3://<bucket>/<path>",
    "pvc": "pvc://<claim-name>/<path>",
    "file": "file:///<absolute path>",
    "http": "http://<host>/<path>",
    "https": "https://<host>/<path> (also Azure Blob: https://<account>.blob.core.windows.net/<container>/<path>)",
    "hdfs": "hdfs://<namenode>/<path>",
    "webhdfs": "webhdfs://<namenode>/<path>",
    "oci": "oci://<registry>/<repository>:<tag> (modelcar)",
    # KServe v0.20 mounts the model image as a Kubernetes image volume: Kubernetes 1.33+ (on 1.33 and 1.34 with the
    # ImageVolume feature gate on kube-apiserver and kubelet), as KServe's controller warns.
    "oci+native": "oci+native://<registry>/<repository>:<tag> (image volume; Kubernetes 1.33+)",
    "hf": "hf://<organisation>/<model>",
}
# The env var KServe reads on a custom container to run its storage initializer; the program sets it from storageUri.
STORAGE_URI_ENV = "STORAGE_URI"
_BUCKET = re.compile(r"[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]")
_CLAIM = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?")


def storage_uri_problem(uri: str, extra_prefixes: Iterable[str] = ()) -> str | None:
    """Why KServe could not fetch `uri`, or None when it can."""
    if any(uri.startswith(prefix) for prefix in extra_prefixes):
        return None
    if uri != uri.strip() or not uri:
        return "must not be empty or have surrounding spaces"
    parts = urlsplit(uri)
    scheme = parts.scheme
    if scheme not in STORAGE_SCHEMES:
        allowed = ", ".join(f"{name}://" for name in STORAGE_SCHEMES)
        return (
            f"{uri!r} has no scheme KServe's storage initializer supports; use one of {allowed}"
            " (or add the prefix a ClusterStorageContainer serves to kserve.extraStorageUriPrefixes)"
        )
    form = STORAGE_SCHEMES[scheme]
    if scheme == "file":
        # KServe strips `file://` and reads what is left as a path inside the storage initializer's container.
        path = uri[len("file://") :]
        if not path.startswith("/") or ".." in path.split("/"):
            return f"{uri!r} must be an absolute path without '..': {form}"
        return None
    if not parts.netloc:
        return f"{uri!r} names no {'bucket' if scheme in ('gs', 's3') else 'location'}: {form}"
    if scheme in ("gs", "s3") and not _BUCKET.fullmatch(parts.netloc):
        return f"{uri!r}: {parts.netloc!r} is not a valid bucket name: {form}"
    if scheme == "pvc" and (not _CLAIM.fullmatch(parts.netloc) or parts.path in ("", "/")):
        return f"{uri!r} must name a claim and a path inside it: {form}"
    if scheme == "hf" and len([p for p in parts.path.split("/") if p]) < 1:
        return f"{uri!r} must name an organisation and a model: {form}"
    if ".." in parts.path.split("/"):
        return f"{uri!r} must not contain '..'"
    if scheme in ("oci", "oci+native"):
        return _unpinned_model_image(uri, form)
    return None


def _unpinned_model_image(uri: str, form: str) -> str | None:
    """A model image is pinned like every other image: a tag other than `latest`, or a digest."""
    reference = uri.split("://", 1)[1]
    if "@" in reference:
        return None
    last = reference.rsplit("/", 1)[-1]
    tag = last.rsplit(":", 1)[1] if ":" in last else None
    if tag is None:
        return f"{uri!r} has no tag: pin the model image, e.g. {uri}:1.0 or {uri}@sha256:<digest> ({form})"
    if tag == "latest":
        return f"{uri!r} uses the moving tag 'latest': pin a version tag or a digest ({form})"
    return None
