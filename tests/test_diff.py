"""The manifest diff a pull request shows reviewers: crafted render directories and real renders of stack files."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from cli import diff as diff_command
from cli import render
from offline.diff import (
    ABSENT,
    COMMENT_MARKER,
    MAX_MARKDOWN_CHARS,
    NO_CHANGE_MARKER,
    FieldChange,
    ObjectKey,
    RenderDirError,
    diff_directories,
    field_changes,
    format_value,
    summary_line,
    to_markdown,
    to_text,
)
from offline.manifests import HELM_RELEASES_FILE, render_path
from offline.recorder import SECRET
from tests.conftest import fixture_stack_file

PROJECT_DIR = Path(__file__).resolve().parent.parent

ISVC: dict[str, Any] = {
    "apiVersion": "serving.kserve.io/v1beta1",
    "kind": "InferenceService",
    "metadata": {
        "name": "my-model",
        "namespace": "models-dev",
        "annotations": {"serving.kserve.io/deploymentMode": "Standard"},
    },
    "spec": {
        "predictor": {
            "minReplicas": 1,
            "containers": [
                {
                    "name": "kserve-container",
                    "image": "my-custom-server:0.1.0",
                    "env": [{"name": "PROTOCOL", "value": "v2"}, {"name": "MLSERVER_DEBUG", "value": "false"}],
                }
            ],
        }
    },
}
NAMESPACE = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "models-dev"}}
RELEASE = {
    "name": "kserve-crd",
    "resource": "kserve-crd",
    "type": "kubernetes:helm.sh/v4:Chart",
    "chart": "oci://ghcr.io/kserve/charts/kserve-crd",
    "repository": None,
    "version": "v0.20.0",
    "namespace": "kserve",
    "values": {"a": 1},
}


def write_render(directory: Path, objects: list[dict[str, Any]], releases: list[dict[str, Any]] = ()) -> Path:
    """A render directory laid out as `python -m cli render` writes it."""
    for folder in ("0-crd", "1-manifest"):
        (directory / folder).mkdir(parents=True, exist_ok=True)
    for obj in objects:
        (directory / render_path(obj)).write_text(yaml.safe_dump(obj, sort_keys=False), encoding="utf-8")
    (directory / HELM_RELEASES_FILE).write_text(yaml.safe_dump({"releases": list(releases)}), encoding="utf-8")
    return directory


def changes_of(result, key: ObjectKey) -> dict[str, tuple[Any, Any]]:
    [change] = [c for c in result.changed if c.key == key]
    return {f.path: (f.old, f.new) for f in change.fields}


ISVC_KEY = ObjectKey("serving.kserve.io/v1beta1", "InferenceService", "models-dev", "my-model")
NAMESPACE_KEY = ObjectKey("v1", "Namespace", "", "models-dev")


# --- crafted render directories ---------------------------------------------------------------------------


def test_identical_renders_have_no_changes(tmp_path):
    base = write_render(tmp_path / "base", [ISVC, NAMESPACE], [RELEASE])
    head = write_render(tmp_path / "head", [ISVC, NAMESPACE], [RELEASE])
    result = diff_directories(base, head)
    assert result.empty
    assert result.unchanged == 2
    assert "no changes" in to_text(result)
    assert to_markdown(result, "dev").split("\n")[:2] == [COMMENT_MARKER.format(stack="dev"), NO_CHANGE_MARKER]


def test_changed_fields_are_dotted_paths_matched_by_name(tmp_path):
    new = copy.deepcopy(ISVC)
    predictor = new["spec"]["predictor"]
    predictor["minReplicas"] = 2
    container = predictor["containers"][0]
    container["image"] = "my-custom-server:0.2.0"
    # A new env var inserted first: matched by name, so the others do not show as changed.
    container["env"].insert(0, {"name": "MLSERVER_PARALLEL_WORKERS", "value": "2"})
    container["env"][2]["value"] = "true"
    new["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] = "Knative"
    result = diff_directories(write_render(tmp_path / "b", [ISVC]), write_render(tmp_path / "h", [new]))

    assert not result.added and not result.removed
    assert changes_of(result, ISVC_KEY) == {
        'metadata.annotations["serving.kserve.io/deploymentMode"]': ("Standard", "Knative"),
        "spec.predictor.containers[kserve-container].env[MLSERVER_DEBUG].value": ("false", "true"),
        "spec.predictor.containers[kserve-container].env[MLSERVER_PARALLEL_WORKERS]": (
            ABSENT,
            {"name": "MLSERVER_PARALLEL_WORKERS", "value": "2"},
        ),
        "spec.predictor.containers[kserve-container].image": ("my-custom-server:0.1.0", "my-custom-server:0.2.0"),
        "spec.predictor.minReplicas": (1, 2),
    }


def test_objects_are_keyed_by_identity_not_file_name(tmp_path):
    base = write_render(tmp_path / "b", [ISVC, NAMESPACE])
    head = write_render(tmp_path / "h", [ISVC])
    # Rename a file: same object, so no change.
    moved = head / "1-manifest" / "renamed.yaml"
    (head / render_path(ISVC)).rename(moved)
    other = copy.deepcopy(ISVC)
    other["metadata"]["name"] = "other-model"
    write_render(head, [other])
    result = diff_directories(base, head)
    assert result.removed == [NAMESPACE_KEY]
    assert result.added == [ObjectKey("serving.kserve.io/v1beta1", "InferenceService", "models-dev", "other-model")]
    assert result.changed == [] and result.unchanged == 1


def test_helm_releases_compared_by_version_and_values(tmp_path):
    newer = {**RELEASE, "version": "v0.21.0", "values": {"a": 2, "b": True}}
    added = {
        **RELEASE,
        "name": "cert-manager",
        "resource": "cert-manager",
        "chart": "cert-manager",
        "version": "v1.17.0",
    }
    result = diff_directories(
        write_render(tmp_path / "b", [NAMESPACE], [RELEASE]), write_render(tmp_path / "h", [NAMESPACE], [newer, added])
    )
    assert result.releases_added == ["cert-manager"]
    [changed] = result.releases_changed
    assert {f.path: (f.old, f.new) for f in changed.fields} == {
        "values.a": (1, 2),
        "values.b": (ABSENT, True),
        "version": ("v0.20.0", "v0.21.0"),
    }
    text = to_text(result, "dev")
    assert "~ Helm chart kserve-crd: oci://ghcr.io/kserve/charts/kserve-crd v0.21.0 in kserve" in text
    assert "version: v0.20.0 -> v0.21.0" in text
    assert "+ Helm chart cert-manager: cert-manager v1.17.0 in kserve" in text
    removed = diff_directories(write_render(tmp_path / "b2", [], [RELEASE]), write_render(tmp_path / "h2", [], []))
    assert removed.releases_removed == ["kserve-crd"]


def test_secret_values_never_shown_even_if_a_render_carried_them(tmp_path):
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s3-creds", "namespace": "models-dev"},
        "stringData": {"AWS_SECRET_ACCESS_KEY": "plaintext-before"},
    }
    changed = copy.deepcopy(secret)
    changed["stringData"] = {"AWS_SECRET_ACCESS_KEY": "plaintext-after", "AWS_ACCESS_KEY_ID": "AKIAEXAMPLEEXAMPLE12"}
    result = diff_directories(write_render(tmp_path / "b", [secret]), write_render(tmp_path / "h", [changed]))
    key = ObjectKey("v1", "Secret", "models-dev", "s3-creds")
    # A new key shows, as redacted; a changed value cannot be seen at all, by design.
    assert changes_of(result, key) == {"stringData.AWS_ACCESS_KEY_ID": (ABSENT, SECRET)}
    added = diff_directories(write_render(tmp_path / "b2", []), write_render(tmp_path / "h2", [changed]))
    for report in (to_text(result), to_markdown(result, "dev"), to_markdown(added, "dev")):
        assert "plaintext" not in report and "AKIA" not in report


def test_markdown_has_the_stack_marker_and_tables(tmp_path):
    new = copy.deepcopy(ISVC)
    new["spec"]["predictor"]["minReplicas"] = 3
    result = diff_directories(
        write_render(tmp_path / "b", [ISVC]), write_render(tmp_path / "h", [new, NAMESPACE], [RELEASE])
    )
    markdown = to_markdown(result, "prod", "abc1234", "def5678")
    assert markdown.startswith(COMMENT_MARKER.format(stack="prod") + "\n###")
    assert "<!-- kserve-platform-diff:prod -->" in markdown
    assert "objects: 1 added, 1 changed, 0 removed, 0 unchanged; Helm charts: 1 added, 0 changed, 0 removed" in markdown
    assert "| `spec.predictor.minReplicas` | `1` | `3` |" in markdown
    assert "- Namespace models-dev (v1)" in markdown
    assert "kind: Namespace" in markdown  # the added object's YAML, folded
    assert "`abc1234` -> `def5678`" in markdown


def test_missing_base_lists_everything_as_added(tmp_path):
    result = diff_directories(tmp_path / "nope", write_render(tmp_path / "h", [ISVC, NAMESPACE]))
    assert result.base_missing and result.added == [ISVC_KEY, NAMESPACE_KEY]
    assert "every object is listed as added" in to_markdown(result, "dev")


def test_values_are_truncated_and_long_comments_cut_below_githubs_limit(tmp_path):
    assert format_value("x" * 500).endswith("…") and len(format_value("x" * 500)) == 80
    assert format_value({"b": 1, "a": [1, 2]}) == '{"a": [1, 2], "b": 1}'
    assert format_value("") == '""' and format_value(ABSENT) == "(absent)"
    many = []
    for index in range(300):
        obj = copy.deepcopy(ISVC)
        obj["metadata"]["name"] = f"model-{index:03d}"
        obj["metadata"]["annotations"]["note"] = "y" * 300
        many.append(obj)
    result = diff_directories(write_render(tmp_path / "b", []), write_render(tmp_path / "h", many))
    markdown = to_markdown(result, "dev")
    assert len(markdown) <= MAX_MARKDOWN_CHARS
    assert markdown.startswith(COMMENT_MARKER.format(stack="dev"))
    assert markdown.count("```") % 2 == 0 and markdown.count("<details>") == markdown.count("</details>")


def test_many_changed_fields_are_summarised():
    old = {f"k{i:03d}": i for i in range(100)}
    new = {f"k{i:03d}": i + 1 for i in range(100)}
    changes = field_changes({"data": old}, {"data": new})
    assert len(changes) == 100 and changes[0] == FieldChange("data.k000", 0, 1)
    assert field_changes([1, 2], [1, 2, 3], "args") == [FieldChange("args", [1, 2], [1, 2, 3])]


def test_not_a_render_is_rejected(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    with pytest.raises(RenderDirError, match="holds no render"):
        diff_directories(tmp_path / "empty", tmp_path / "empty")
    bad = write_render(tmp_path / "bad", [])
    (bad / "1-manifest" / "x.yaml").write_text("just: text\n")
    assert diff_command.main([str(bad), str(bad)]) == diff_command.EXIT_BAD_INPUT
    assert "is not a Kubernetes object" in capsys.readouterr().err
    assert diff_command.main([str(bad), str(tmp_path / "missing-head")]) == diff_command.EXIT_BAD_INPUT


# --- real renders of stack files ---------------------------------------------------------------------------


def _render(stack: str, out: Path, config_file: Path | None = None) -> Path:
    argv = ["--stack", stack, "--out", str(out)]
    if config_file is not None:
        argv += ["--config-file", str(config_file)]
    assert render.main(argv) == 0
    return out


@pytest.fixture(scope="module")
def dev_change(tmp_path_factory) -> tuple[Path, Path]:
    """The seed's dev stack (base) and a modified copy (head): one model changed, one removed, one in a new
    namespace."""
    tmp = tmp_path_factory.mktemp("real")
    document = yaml.safe_load(fixture_stack_file("dev").read_text(encoding="utf-8"))
    models = document["config"]["kserve-platform:models"]
    by_name = {model["name"]: model for model in models}
    by_name["my-model"]["minReplicas"] = 2
    by_name["my-model"]["storageUri"] = "gs://seldon-models/sklearn/iris-v2"
    models.remove(by_name["xgboost-iris"])
    models.append(
        {
            "name": "fraud",
            "namespace": "models-fraud",
            "format": "lightgbm",
            "protocolVersion": "v2",
            "storageUri": "s3://models/fraud",
        }
    )
    modified = tmp / "Pulumi.dev.yaml"
    modified.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return _render("dev", tmp / "base", fixture_stack_file("dev")), _render("dev", tmp / "head", modified)


def test_real_render_diff_reports_exactly_the_config_change(dev_change):
    base, head = dev_change
    result = diff_directories(base, head)
    isvc = "serving.kserve.io/v1beta1"
    assert sorted(result.added) == sorted(
        [
            ObjectKey(isvc, "InferenceService", "models-fraud", "fraud"),
            ObjectKey("v1", "Namespace", "", "models-fraud"),
            ObjectKey("networking.k8s.io/v1", "NetworkPolicy", "models-fraud", "kserve-predictors-ingress"),
        ]
    )
    assert result.removed == [ObjectKey(isvc, "InferenceService", "models-dev", "xgboost-iris")]
    assert [change.key for change in result.changed] == [ObjectKey(isvc, "InferenceService", "models-dev", "my-model")]
    assert changes_of(result, ObjectKey(isvc, "InferenceService", "models-dev", "my-model")) == {
        "spec.predictor.minReplicas": (ABSENT, 2),
        "spec.predictor.model.storageUri": ("gs://seldon-models/sklearn/iris", "gs://seldon-models/sklearn/iris-v2"),
    }
    # Everything else (custom-model, the namespaces, the gateway...) did not change.
    assert result.unchanged == len(list((base / "1-manifest").glob("*.yaml"))) - 2


def test_real_render_diff_cli_writes_the_pr_comment(dev_change, tmp_path):
    base, head = dev_change
    out = tmp_path / "comment.md"
    argv = [str(base), str(head), "--stack", "dev", "--format", "markdown", "--out", str(out), "--exit-code"]
    assert diff_command.main(argv) == diff_command.EXIT_CHANGES
    comment = out.read_text(encoding="utf-8")
    assert comment.startswith("<!-- kserve-platform-diff:dev -->")
    assert "| `spec.predictor.minReplicas` | *(absent)* | `2` |" in comment
    assert "- InferenceService models-dev/xgboost-iris (serving.kserve.io/v1beta1)" in comment
    assert diff_command.main([str(base), str(base), "--exit-code"]) == 0


@pytest.mark.parametrize("stack", ["dev", "staging", "prod", "local"])
def test_every_stack_diffs_cleanly_against_itself(stack, tmp_path):
    # What the PR workflow does for a PR that does not touch a stack: two renders of one revision are identical.
    first, second = _render(stack, tmp_path / "a"), _render(stack, tmp_path / "b")
    result = diff_directories(first, second)
    assert result.empty and result.unchanged == len(list((first / "1-manifest").glob("*.yaml"))) > 0


# --- what the diff must not hide (issue 10, defect 9): remote manifests, resource options, replacements ------------

GATEWAY_API = "https://github.com/kubernetes-sigs/gateway-api/releases/download/{version}/standard-install.yaml"


def write_listing(directory: Path, manifests: list[dict[str, Any]], resources: dict[str, Any] | None = None) -> Path:
    """Add `manifests:` (and optionally resources.yaml) to a crafted render directory."""
    from offline.manifests import RESOURCES_FILE

    listing = yaml.safe_load((directory / HELM_RELEASES_FILE).read_text(encoding="utf-8"))
    listing["manifests"] = manifests
    (directory / HELM_RELEASES_FILE).write_text(yaml.safe_dump(listing), encoding="utf-8")
    if resources is not None:
        (directory / RESOURCES_FILE).write_text(yaml.safe_dump({"resources": resources}), encoding="utf-8")
    return directory


def test_a_gateway_api_crd_version_change_is_reported(tmp_path):
    def manifest(version: str) -> dict[str, Any]:
        return {
            "resource": "gateway-api-crds",
            "type": "kubernetes:yaml/v2:ConfigFile",
            "file": GATEWAY_API.format(version=version),
        }

    base = write_listing(write_render(tmp_path / "b", [NAMESPACE], [RELEASE]), [manifest("v1.5.1")])
    head = write_listing(write_render(tmp_path / "h", [NAMESPACE], [RELEASE]), [manifest("v1.6.0")])
    result = diff_directories(base, head)
    assert not result.empty
    [changed] = result.manifests_changed
    assert {f.path: (f.old, f.new) for f in changed.fields} == {
        "file": (GATEWAY_API.format(version="v1.5.1"), GATEWAY_API.format(version="v1.6.0"))
    }
    assert "remote manifests: 0 added, 1 changed, 0 removed" in summary_line(result)
    assert "~ remote manifest gateway-api-crds:" in to_text(result) and "no changes" not in to_text(result)
    markdown = to_markdown(result, "dev")
    assert "#### Remote manifests" in markdown and "v1.6.0/standard-install.yaml" in markdown
    assert NO_CHANGE_MARKER not in markdown
    dropped = diff_directories(base, write_listing(write_render(tmp_path / "h2", [NAMESPACE], [RELEASE]), []))
    assert dropped.manifests_removed == ["gateway-api-crds"]


def _resource(obj: dict[str, Any] | None, **options: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": "kubernetes:core/v1:Namespace", "name": "models-dev", "options": options}
    if obj is not None:
        entry["object"] = {
            "apiVersion": obj["apiVersion"],
            "kind": obj["kind"],
            "namespace": obj["metadata"].get("namespace", ""),
            "name": obj["metadata"]["name"],
        }
    return entry


NS_RESOURCE = "kserve-platform:models:ModelNamespace$kubernetes:core/v1:Namespace::models-dev"


def test_resource_option_changes_are_reported(tmp_path):
    base = write_listing(
        write_render(tmp_path / "b", [NAMESPACE]), [], {NS_RESOURCE: _resource(NAMESPACE, protect=True)}
    )
    head = write_listing(write_render(tmp_path / "h", [NAMESPACE]), [], {NS_RESOURCE: _resource(NAMESPACE)})
    result = diff_directories(base, head)
    assert not result.empty and result.changed == []
    [options] = result.options_changed
    assert {f.path: (f.old, f.new) for f in options.fields} == {"protect": (True, False)}
    text = to_text(result)
    assert "~ resource options of Namespace models-dev (v1) [pulumi: models-dev]" in text
    assert "protect: true -> false" in text
    markdown = to_markdown(result, "prod")
    assert "#### Resource options" in markdown and "| `protect` | `true` | `false` |" in markdown


def test_a_base_without_resources_file_is_said_not_compared(tmp_path):
    base = write_render(tmp_path / "b", [NAMESPACE])
    head = write_listing(
        write_render(tmp_path / "h", [NAMESPACE]), [], {NS_RESOURCE: _resource(NAMESPACE, protect=True)}
    )
    result = diff_directories(base, head)
    assert result.empty and not result.options_compared
    assert "resource options not compared" in to_text(result)


def test_immutable_field_changes_are_flagged_loudly_at_the_top(tmp_path):
    new = copy.deepcopy(ISVC)
    new["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] = "Knative"
    new["spec"]["predictor"]["minReplicas"] = 2
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": "models-dev"},
        "type": "Opaque",
    }
    retyped = {**secret, "type": "kubernetes.io/basic-auth"}
    result = diff_directories(
        write_render(tmp_path / "b", [ISVC, secret]), write_render(tmp_path / "h", [new, retyped])
    )
    flagged = {(item.label, item.path) for item in result.replacements}
    assert flagged == {
        (ISVC_KEY.label(), 'metadata.annotations["serving.kserve.io/deploymentMode"]'),
        ("Secret models-dev/s (v1)", "type"),
    }
    markdown = to_markdown(result, "dev")
    caution = markdown.index("> [!CAUTION]")
    assert caution < markdown.index("Offline render of") < markdown.index("#### Changed")
    assert markdown.index("### Manifest diff") < caution
    assert "**2 changes cannot be applied in place" in markdown
    assert "validateDeploymentMode" in markdown
    text = to_text(result)
    assert text.splitlines()[0].startswith("2 REPLACEMENTS; objects:")
    assert "!!! REPLACEMENT InferenceService models-dev/my-model" in text
    # minReplicas is an ordinary in-place change: listed, not flagged.
    assert not any(item.path == "spec.predictor.minReplicas" for item in result.replacements)


def test_predictor_name_change_is_flagged_only_without_a_model_change():
    from offline.immutable import immutable_field

    old = {"spec": {"predictor": {"name": "a", "model": {"storageUri": "gs://b/v1"}}}}
    same_model = {"spec": {"predictor": {"name": "b", "model": {"storageUri": "gs://b/v1"}}}}
    new_model = {"spec": {"predictor": {"name": "b", "model": {"storageUri": "gs://b/v2"}}}}
    assert immutable_field("InferenceService", "spec.predictor.name", old, same_model) is not None
    assert immutable_field("InferenceService", "spec.predictor.name", old, new_model) is None
    assert immutable_field("Namespace", "spec.predictor.name", old, same_model) is None


def test_one_resource_applying_another_object_is_a_replacement(tmp_path):
    renamed = copy.deepcopy(NAMESPACE)
    renamed["metadata"]["name"] = "models-dev-2"
    base = write_listing(write_render(tmp_path / "b", [NAMESPACE]), [], {NS_RESOURCE: _resource(NAMESPACE)})
    head = write_listing(write_render(tmp_path / "h", [renamed]), [], {NS_RESOURCE: _resource(renamed)})
    result = diff_directories(base, head)
    [item] = result.replacements
    assert item.path == "(object identity)"
    assert (item.old, item.new) == ("Namespace models-dev (v1)", "Namespace models-dev-2 (v1)")
    assert "> [!CAUTION]" in to_markdown(result, "dev")


def _modified_dev(tmp: Path, change) -> Path:
    document = yaml.safe_load((PROJECT_DIR / "Pulumi.dev.yaml").read_text(encoding="utf-8"))
    change(document["config"])
    path = tmp / "Pulumi.dev.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def dev_base(tmp_path_factory) -> Path:
    return _render("dev", tmp_path_factory.mktemp("dev-base") / "render")


def test_real_render_reports_a_gateway_api_version_change(dev_base, tmp_path):
    def change(config: dict) -> None:
        config["kserve-platform:kserve"].setdefault("ingress", {})["gatewayApi"] = {"crdsVersion": "v1.4.0"}

    head = _render("dev", tmp_path / "head", _modified_dev(tmp_path, change))
    result = diff_directories(dev_base, head)
    assert result.changed == [] and result.added == [] and result.removed == []
    [changed] = result.manifests_changed
    assert [(f.path, f.old, f.new) for f in changed.fields] == [
        ("file", GATEWAY_API.format(version="v1.5.1"), GATEWAY_API.format(version="v1.4.0"))
    ]


def test_real_render_reports_protect_as_an_option_change(dev_base, tmp_path):
    head = _render(
        "dev", tmp_path / "head", _modified_dev(tmp_path, lambda c: c.update({"kserve-platform:protect": True}))
    )
    result = diff_directories(dev_base, head)
    assert result.changed == [] and result.options_changed
    labels = {options.label for options in result.options_changed}
    assert "InferenceService models-dev/my-model (serving.kserve.io/v1beta1) [pulumi: models-dev/my-model]" in labels
    for options in result.options_changed:
        assert ("protect", False, True) in [(f.path, f.old, f.new) for f in options.fields]


def test_real_render_flags_the_deployment_mode_change(dev_base, tmp_path):
    def change(config: dict) -> None:
        config["kserve-platform:kserve"] = {"deploymentMode": "Knative"}

    head = _render("dev", tmp_path / "head", _modified_dev(tmp_path, change))
    result = diff_directories(dev_base, head)
    flagged = {item.label for item in result.replacements if "deploymentMode" in item.path}
    assert flagged == {
        "InferenceService models-dev/my-model (serving.kserve.io/v1beta1)",
        "InferenceService models-dev/xgboost-iris (serving.kserve.io/v1beta1)",
    }
    out = tmp_path / "comment.md"
    assert diff_command.main([str(dev_base), str(head), "--format", "markdown", "--out", str(out)]) == 0
    comment = out.read_text(encoding="utf-8")
    assert comment.index("> [!CAUTION]") < comment.index("Offline render of")


def test_real_render_flags_a_gateway_rename_as_a_replacement(dev_base, tmp_path):
    def change(config: dict) -> None:
        config["kserve-platform:kserve"].setdefault("ingress", {})["gatewayApi"] = {"gatewayName": "models-gateway"}

    head = _render("dev", tmp_path / "head", _modified_dev(tmp_path, change))
    result = diff_directories(dev_base, head)
    identity = [item for item in result.replacements if item.path == "(object identity)"]
    assert [(item.old, item.new) for item in identity] == [
        (
            "Gateway kserve/kserve-ingress-gateway (gateway.networking.k8s.io/v1)",
            "Gateway kserve/models-gateway (gateway.networking.k8s.io/v1)",
        )
    ]


def test_real_render_flags_a_rename_with_renamed_from_as_a_replacement(dev_base, tmp_path):
    def change(config: dict) -> None:
        (model,) = [m for m in config["kserve-platform:models"] if m["name"] == "my-model"]
        model["name"] = "my-model-v2"
        model["renamedFrom"] = {"name": "my-model", "namespace": "models-dev"}

    head = _render("dev", tmp_path / "head", _modified_dev(tmp_path, change))
    result = diff_directories(dev_base, head)
    [item] = [item for item in result.replacements if item.path.startswith("(object identity")]
    assert (item.old, item.new) == (
        "InferenceService models-dev/my-model (serving.kserve.io/v1beta1)",
        "InferenceService models-dev/my-model-v2 (serving.kserve.io/v1beta1)",
    )
    assert "renamed with an alias" in item.why
    # The alias is how the rename is declared: not reported again as an option change.
    assert not any(f.path.startswith("aliases") for c in result.options_changed for f in c.fields)
