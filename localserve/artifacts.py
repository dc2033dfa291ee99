"""Fetch a model artifact named by `storageUri` to local disk, as KServe's storage initializer would."""

from __future__ import annotations

import importlib.util
import shutil
import tarfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".zip")
DOWNLOAD_TIMEOUT_S = 60


class ArtifactError(Exception):
    """The artifact cannot be made available locally; the message says what to do instead."""


def _hint(uri: str) -> str:
    return f"pass --model-dir PATH with a local copy of {uri}"


def fetch(uri: str, dest: Path) -> Path:
    """A local path holding the artifact of `uri` (a file or a folder); downloads go under `dest`."""
    parts = urlsplit(uri)
    scheme = parts.scheme
    if scheme == "file":
        path = Path(unquote(parts.path))
        if not path.exists():
            raise ArtifactError(f"{uri}: {path} does not exist; {_hint(uri)}")
        return path
    if scheme in ("http", "https"):
        return _download_http(uri, dest)
    if scheme == "gs":
        return _download_gcs(parts.netloc, parts.path.lstrip("/"), uri, dest)
    if scheme == "s3":
        return _download_s3(parts.netloc, parts.path.lstrip("/"), uri, dest)
    raise ArtifactError(f"{uri}: '{scheme}://' artifacts cannot be fetched outside the cluster; {_hint(uri)}")


def _download_http(uri: str, dest: Path) -> Path:
    # KServe's storage initializer downloads one file over http(s) and unpacks archives.
    name = Path(unquote(urlsplit(uri).path)).name or "model"
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / name
    try:
        with (
            urllib.request.urlopen(uri, timeout=DOWNLOAD_TIMEOUT_S) as response,
            target.open("wb") as out,
        ):  # the scheme is checked by the caller
            shutil.copyfileobj(response, out)
    except (urllib.error.URLError, OSError) as error:
        raise ArtifactError(f"{uri}: download failed ({error}); {_hint(uri)}") from error
    if name.endswith(ARCHIVE_SUFFIXES):
        unpacked = dest / "unpacked"
        _unpack(target, unpacked)
        return unpacked
    return target


def _unpack(archive: Path, into: Path) -> None:
    into.mkdir(parents=True, exist_ok=True)
    try:
        if archive.name.endswith(".zip"):
            with zipfile.ZipFile(archive) as bundle:
                bundle.extractall(into)  # the user's own artifact, unpacked into a private temp dir
        else:
            with tarfile.open(archive) as bundle:
                bundle.extractall(into, filter="data")
    except (tarfile.TarError, zipfile.BadZipFile, OSError) as error:
        raise ArtifactError(f"{archive.name}: cannot unpack the archive ({error})") from error


def _need(module: str, package: str, uri: str) -> None:
    if importlib.util.find_spec(module.split(".", maxsplit=1)[0]) is None or importlib.util.find_spec(module) is None:
        raise ArtifactError(
            f"{uri}: fetching this needs the '{package}' package, which is not installed; "
            f"pip install {package}, or {_hint(uri)}"
        )


def _relative(key: str, prefix: str) -> Path | None:
    """Where an object under `prefix` goes relative to the download folder (None: not under it)."""
    if key.endswith("/"):
        return None
    if key == prefix:
        return Path(Path(key).name)
    folder = prefix.rstrip("/") + "/" if prefix else ""
    return Path(key[len(folder) :]) if key.startswith(folder) else None


def _download_gcs(bucket: str, prefix: str, uri: str, dest: Path) -> Path:
    _need("google.cloud.storage", "google-cloud-storage", uri)
    from google.cloud import storage  # optional dependency, only for gs:// artifacts

    try:
        client = storage.Client()
    except Exception:
        client = storage.Client.create_anonymous_client()
    count = 0
    try:
        for blob in client.list_blobs(bucket, prefix=prefix):
            relative = _relative(blob.name, prefix)
            if relative is None:
                continue
            target = dest / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            blob.download_to_filename(str(target))
            count += 1
    except Exception as error:  # credentials, network, permissions: each client's own types; one message
        raise ArtifactError(f"{uri}: download failed ({error}); {_hint(uri)}") from error
    if count == 0:
        raise ArtifactError(f"{uri}: no objects under this prefix; {_hint(uri)}")
    return dest


def _download_s3(bucket: str, prefix: str, uri: str, dest: Path) -> Path:
    _need("boto3", "boto3", uri)
    import boto3  # optional dependency, only for s3:// artifacts

    count = 0
    try:
        client = boto3.client("s3")
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                relative = _relative(item["Key"], prefix)
                if relative is None:
                    continue
                target = dest / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                client.download_file(bucket, item["Key"], str(target))
                count += 1
    except Exception as error:  # credentials, network, permissions: each client's own types; one message
        raise ArtifactError(f"{uri}: download failed ({error}); {_hint(uri)}") from error
    if count == 0:
        raise ArtifactError(f"{uri}: no objects under this prefix; {_hint(uri)}")
    return dest
