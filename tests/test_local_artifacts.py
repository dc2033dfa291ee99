"""Fetching `storageUri` artifacts for the local server: file://, http(s):// (from a loopback server),
and clear messages where the artifact cannot be fetched here."""

from __future__ import annotations

import functools
import http.server
import tarfile
import threading

import pytest

from localserve import artifacts


@pytest.fixture
def http_root(tmp_path):
    """A loopback HTTP server over a folder; yields (folder, base URL)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_file_uri_is_used_in_place(tmp_path):
    (tmp_path / "model.joblib").write_bytes(b"x")
    assert artifacts.fetch(f"file://{tmp_path}", tmp_path / "dl") == tmp_path


def test_missing_file_uri_says_to_pass_model_dir(tmp_path):
    with pytest.raises(artifacts.ArtifactError, match="does not exist; pass --model-dir"):
        artifacts.fetch(f"file://{tmp_path}/absent", tmp_path / "dl")


def test_http_file_is_downloaded(http_root, tmp_path):
    root, base = http_root
    (root / "model.joblib").write_bytes(b"weights")
    path = artifacts.fetch(f"{base}/model.joblib", tmp_path / "dl")
    assert path.name == "model.joblib" and path.read_bytes() == b"weights"


def test_http_archive_is_unpacked(http_root, tmp_path):
    root, base = http_root
    (tmp_path / "model.bst").write_bytes(b"booster")
    with tarfile.open(root / "iris.tar.gz", "w:gz") as bundle:
        bundle.add(tmp_path / "model.bst", arcname="model.bst")
    path = artifacts.fetch(f"{base}/iris.tar.gz", tmp_path / "dl")
    assert (path / "model.bst").read_bytes() == b"booster"


def test_http_error_is_one_clear_message(http_root, tmp_path):
    _, base = http_root
    with pytest.raises(artifacts.ArtifactError, match=r"download failed .*404.*pass --model-dir"):
        artifacts.fetch(f"{base}/absent.joblib", tmp_path / "dl")


@pytest.mark.parametrize(
    ("uri", "package"), [("gs://bucket/iris", "google-cloud-storage"), ("s3://bucket/iris", "boto3")]
)
def test_cloud_uri_without_its_client_library_says_what_to_do(monkeypatch, tmp_path, uri, package):
    monkeypatch.setattr(artifacts.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(artifacts.ArtifactError) as error:
        artifacts.fetch(uri, tmp_path / "dl")
    assert f"pip install {package}" in str(error.value) and "--model-dir" in str(error.value)


@pytest.mark.parametrize("uri", ["pvc://claim/iris", "hf://org/model", "oci://registry/model:1"])
def test_cluster_only_schemes_say_to_pass_model_dir(tmp_path, uri):
    with pytest.raises(artifacts.ArtifactError, match="cannot be fetched outside the cluster; pass --model-dir"):
        artifacts.fetch(uri, tmp_path / "dl")


@pytest.mark.parametrize(
    ("key", "prefix", "expected"),
    [
        ("sklearn/iris/model.joblib", "sklearn/iris", "model.joblib"),
        ("sklearn/iris/sub/a.txt", "sklearn/iris/", "sub/a.txt"),
        ("sklearn/iris2/model.joblib", "sklearn/iris", None),
        ("sklearn/iris/model.joblib", "sklearn/iris/model.joblib", "model.joblib"),
        ("sklearn/iris/", "sklearn/iris", None),
    ],
)
def test_bucket_keys_map_below_the_prefix_only(key, prefix, expected):
    relative = artifacts._relative(key, prefix)
    assert (str(relative) if relative is not None else None) == expected
