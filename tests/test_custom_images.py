"""Custom MLServer images (issue 10, defect 6): a registry the team sets composes registry-less references, and
a model whose image is not pushed yet can stay in the stack file with `deploy: false`, so dev converges."""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path

import pytest
import yaml

from config.errors import ConfigError
from config.images import CustomImagesConfig, image_warnings, names_registry
from offline.manifests import kubernetes_object
from offline.program import ProgramRun, run_program
from offline.stackconfig import typed_config
from offline.stackfile import StackSettings
from tests.conftest import PROJECT_DIR, fixture_stack_file, settings_for, stack_settings

ISVC_TYPE = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
CUSTOM = {"name": "custom", "namespace": "models", "image": "my-custom-server:0.1.0"}


def _containers(run: ProgramRun) -> dict[str, list[str]]:
    """InferenceService name -> images of its predictor and canary containers."""
    out = {}
    for resource in run.by_type(ISVC_TYPE):
        spec = kubernetes_object(resource)["spec"]
        predictors = [spec["predictor"], *(canary["predictor"] for canary in spec.get("canary") or [])]
        out[resource.inputs["metadata"]["name"]] = [c["image"] for p in predictors for c in p.get("containers") or []]
    return out


def dev_with_pushed_image(registry: str) -> ProgramRun:
    """The dev stack (its fixed copy in tests/fixtures) after the README's steps: image pushed, registry set,
    `deploy: false` removed."""
    document = yaml.safe_load(fixture_stack_file("dev").read_text(encoding="utf-8"))["config"]
    document["kserve-platform:customImages"] = {"registry": registry}
    models = copy.deepcopy(document["kserve-platform:models"])
    (custom,) = [model for model in models if model["name"] == "custom-model"]
    assert custom.pop("deploy") is False
    document["kserve-platform:models"] = models
    config = {key: value if isinstance(value, str) else json.dumps(value) for key, value in document.items()}
    return run_program(StackSettings(config=config), "dev")


def test_committed_dev_pulls_no_image_that_no_registry_holds(run_stack) -> None:
    """`pulumi up --stack dev` waited the whole readiness timeout on `my-custom-server:0.1.0` (Docker Hub has no such
    image). Every image dev deploys must name a registry; the unpushed example stays, not deployed."""
    run = run_stack("dev")
    images = [image for found in _containers(run).values() for image in found]
    assert all(names_registry(image) for image in images), images
    stack = typed_config(stack_settings("dev"))
    (custom,) = [model for model in stack.models if model.name == "custom-model"]
    assert custom.image == "my-custom-server:0.1.0" and custom.deploy is False
    assert image_warnings(stack.models) == []


def test_registry_composes_model_and_canary_images_and_leaves_full_references(run_config) -> None:
    models = [
        # KServe runs a canary only beside a predictor with a model (validateCanarySpecs): the image loads it.
        {
            **CUSTOM,
            "storageUri": "gs://seldon-models/sklearn/iris",
            "canary": [{"trafficPercent": 10, "image": "my-custom-server:0.2.0"}],
        },
        {**CUSTOM, "name": "pinned", "image": "quay.io/acme/other@sha256:" + "a" * 64},
        {**CUSTOM, "name": "local", "image": "localhost:5001/my-custom-server:0.1.0"},
    ]
    run = run_config({"customImages": {"registry": "ghcr.io/acme/ml"}, "models": models})
    assert _containers(run) == {
        "custom": ["ghcr.io/acme/ml/my-custom-server:0.1.0", "ghcr.io/acme/ml/my-custom-server:0.2.0"],
        "pinned": ["quay.io/acme/other@sha256:" + "a" * 64],
        "local": ["localhost:5001/my-custom-server:0.1.0"],
    }


def test_dev_after_the_readme_steps_deploys_the_custom_model() -> None:
    run = dev_with_pushed_image("localhost:5001")
    assert _containers(run)["custom-model"] == ["localhost:5001/my-custom-server:0.1.0"]


@pytest.mark.parametrize(
    "registry",
    [
        "https://ghcr.io/acme",  # scheme
        "ghcr.io/acme/",  # trailing slash
        "ghcr.io/Acme",  # upper case path
        "acme",  # no registry host: would be Docker Hub's `acme/...`
        "ghcr.io/acme\n",  # trailing newline
        "ghcr.io/acme:1.0/x",  # a tag is not a registry
        "",
    ],
)
def test_bad_registry_names_its_key(run_config, registry: str) -> None:
    with pytest.raises(ConfigError) as caught:
        run_config({"customImages": {"registry": registry}, "models": [CUSTOM]})
    assert [issue.path for issue in caught.value.issues] == ["customImages.registry"]
    assert "e.g. ghcr.io/<your-org>" in caught.value.issues[0].message


@pytest.mark.parametrize(
    "registry", ["ghcr.io/acme", "registry.example.com:5000/ml/team-a", "localhost:5001", "registry:5000"]
)
def test_registry_prefixes_docker_accepts(registry: str) -> None:
    assert CustomImagesConfig.model_validate({"registry": registry}).reference("s:1") == f"{registry}/s:1"


def test_a_registry_less_deployed_image_warns_with_the_steps() -> None:
    settings = settings_for({"models": [CUSTOM, {**CUSTOM, "name": "later", "deploy": False}]})
    warnings = image_warnings(typed_config(settings).models)
    assert len(warnings) == 1
    (warning,) = warnings
    assert warning.startswith("models[0].image: 'my-custom-server:0.1.0' names no registry")
    assert "kserve-platform:customImages.registry" in warning and "deploy: false" in warning
    # The program's warnings reach the user (the render prints them on stderr, the CLI in the preview).
    run = run_program(settings, "test")
    assert any("models[0].image" in w and "'my-custom-server:0.1.0' names no registry" in w for w in run.warnings)
    composed = settings_for({"customImages": {"registry": "ghcr.io/acme"}, "models": [CUSTOM]})
    assert image_warnings(typed_config(composed).models) == []


def test_an_undeployed_model_is_validated_but_not_declared(run_config) -> None:
    later = {**CUSTOM, "name": "later", "namespace": "later-only", "deploy": False}
    run = run_config({"models": [{**CUSTOM, "image": "ghcr.io/acme/s:1"}, later]})
    assert set(_containers(run)) == {"custom"}
    namespaces = {r.inputs["metadata"]["name"] for r in run.by_type("kubernetes:core/v1:Namespace")}
    assert "later-only" not in namespaces, "no empty namespace for a model that is not deployed"
    with pytest.raises(ConfigError) as caught:
        run_config({"models": [{**later, "image": "my-custom-server:latest"}]})
    assert [issue.path for issue in caught.value.issues] == ["models[0].image"]


def test_recipe_build_steps_match_the_runtime_folder() -> None:
    readme = (PROJECT_DIR / "docs/recipes/custom-image.md").read_text(encoding="utf-8")
    settings = json.loads((PROJECT_DIR / "runtimes/custom-mlserver/model-settings.json").read_text(encoding="utf-8"))
    assert settings["name"] == "custom-model"
    assert "mlserver build runtimes/custom-mlserver -t" in readme
    assert "kserve-platform:customImages.registry" in readme
    assert Path(PROJECT_DIR / "runtimes/custom-mlserver/iris_centroids.py").is_file()


def test_a_render_only_stack_gets_no_registry_warning(caplog: pytest.LogCaptureFixture) -> None:
    """`local` writes manifests to a directory (renderYamlToDirectory): nothing pulls the image."""
    with caplog.at_level(logging.WARNING):
        run_program(stack_settings("local"), "local")
    assert not any("names no registry" in record.getMessage() for record in caplog.records)
    assert any(m.image == "my-custom-server:0.1.0" for m in typed_config(stack_settings("local")).deployed_models)
