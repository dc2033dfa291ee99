"""The kserve-platform Pulumi package (package/): its schema comes from the config models and stays fresh, and its
provider builds the program's own components from a consumer's inputs, with the stack file's validation.

The provider runs here in-process under Pulumi's mocks (its `construct`, as the engine calls it); the real CLI and
a Pulumi YAML consumer run it in tests/end_to_end/test_pulumi_package.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.inference_service import inference_service_manifest
from components.serving_runtime import serving_runtime_manifest
from config.errors import ConfigError
from config.kserve import KServeConfig
from config.models import CanaryConfig, ModelConfig
from config.runtimes import RuntimeConfig
from config.stack import StackConfig, parse_stack_config
from offline.program import ProgramRun, run_program
from offline.stackfile import StackSettings
from package.provider import InvalidInputs, KServePlatformProvider, PackageInputs, validate
from package.resources import COMPONENTS, INFERENCE_SERVICE, KSERVE_INSTALL, PACKAGE, SERVING_RUNTIME
from package.schema import SCHEMA_PATH, canonical, package_schema
from package.server import _Resolution

ISVC_TYPE = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
IRIS = {
    "name": "iris",
    "namespace": "models",
    "format": "sklearn",
    "storageUri": "gs://seldon-models/sklearn/iris",
    "minReplicas": 1,
    "env": {"MLSERVER_DEBUG": "true"},
}
RUNTIME = {
    "name": "custom-mlserver",
    "namespace": "models",
    "image": "registry.example.com/custom-mlserver:0.1.0",
    "supportedModelFormats": [{"name": "custom", "version": "1", "autoSelect": True, "priority": 1}],
}


def construct(tmp_path: Path, token: str, name: str, inputs: dict[str, Any], protect: bool = False) -> ProgramRun:
    """Call the provider's `construct` as the engine would, in a mocked program; its state becomes output `state`."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    program = tmp_path / "construct.py"
    program.write_text(
        "import json\n"
        "import pulumi\n"
        "from package.provider import KServePlatformProvider\n"
        f"result = KServePlatformProvider().construct({name!r}, {token!r}, json.loads({json.dumps(inputs)!r}),"
        f" pulumi.ResourceOptions(protect={protect!r}))\n"
        "pulumi.export('state', result.state)\n"
    )
    return run_program(StackSettings(config={}, secret_keys=[]), "package", program=program)


# --- the schema ---------------------------------------------------------------------------------------------------


def test_committed_schema_is_the_one_the_config_models_generate() -> None:
    assert SCHEMA_PATH.read_text() == canonical(package_schema()), (
        "package/schema.json is stale: run `python3 -m package.schema --write` and commit it"
    )


STACK_ONLY = {
    INFERENCE_SERVICE.token: {"storageCredentials", "renamedFrom", "deploy"},
    SERVING_RUNTIME.token: set(),
    KSERVE_INSTALL.token: {"install", "existingNamespaces", "extraStorageUriPrefixes"},
}
# Inputs from other config models: the stack's settings a component needs beside its entry.
FROM_ELSEWHERE = {
    INFERENCE_SERVICE.token: {"deploymentMode": KServeConfig, "extraStorageUriPrefixes": KServeConfig},
    SERVING_RUNTIME.token: {},
    KSERVE_INSTALL.token: {"mirror": StackConfig},
}
ENTRY_MODEL = {
    INFERENCE_SERVICE.token: ModelConfig,
    SERVING_RUNTIME.token: RuntimeConfig,
    KSERVE_INSTALL.token: KServeConfig,
}


def field_by_key(model: type, key: str):
    return next(info for info in model.model_fields.values() if info.alias == key)


@pytest.mark.parametrize("token", list(ENTRY_MODEL))
def test_inputs_are_the_config_models_keys_with_their_descriptions(token: str) -> None:
    resource = package_schema()["resources"][token]
    inputs = resource["inputProperties"]
    entry = ENTRY_MODEL[token]
    sources = {info.alias: entry for info in entry.model_fields.values() if info.alias not in STACK_ONLY[token]}
    sources.update(FROM_ELSEWHERE[token])
    assert set(inputs) == set(sources)
    for key, model in sources.items():
        info = field_by_key(model, key)
        # One source of the text: the field's description (or, where pydantic leaves it out, the model's docstring).
        nested = info.annotation if isinstance(info.annotation, type) else None
        assert inputs[key]["description"] in {info.description, getattr(nested, "__doc__", None)}, key
    required = {key for key, model in sources.items() if field_by_key(model, key).is_required()}
    assert set(resource.get("requiredInputs", [])) == required


def test_nested_config_models_become_object_types_with_the_same_keys() -> None:
    schema = package_schema()
    spec = schema["types"][f"{PACKAGE}:index:CanaryConfig"]
    assert set(spec["properties"]) == {info.alias for info in CanaryConfig.model_fields.values()}
    assert spec["required"] == ["trafficPercent"]
    assert spec["properties"]["storageUri"]["description"] == CanaryConfig.model_fields["storage_uri"].description
    canary = schema["resources"][INFERENCE_SERVICE.token]["inputProperties"]["canary"]
    assert canary["items"] == {"$ref": f"#/types/{PACKAGE}:index:CanaryConfig"}


def test_literals_become_enums_and_env_takes_both_stack_file_forms() -> None:
    schema = package_schema()
    inputs = schema["resources"][INFERENCE_SERVICE.token]["inputProperties"]
    enum = schema["types"][inputs["protocolVersion"]["$ref"].removeprefix("#/types/")]
    assert [value["value"] for value in enum["enum"]] == ["v1", "v2", "grpc-v1", "grpc-v2"]
    forms = inputs["env"]["oneOf"]
    assert {"type": "array", "items": {"$ref": f"#/types/{PACKAGE}:index:EnvVar"}} in forms
    assert any(form.get("type") == "object" and "additionalProperties" in form for form in forms)


def test_no_defaults_in_the_schema_so_sdks_send_only_what_the_user_set() -> None:
    # A key's presence matters to the validation (protocolVersion on a custom image is an error), so an SDK filling in
    # a schema default would make valid inputs invalid.
    assert '"default"' not in canonical(package_schema())


def test_outputs_are_typed_and_required() -> None:
    resources = package_schema()["resources"]
    for component in COMPONENTS:
        resource = resources[component.token]
        assert resource["isComponent"] is True
        assert resource["required"] == [output.key for output in component.outputs]
        assert all("type" in spec for spec in resource["properties"].values())


# --- construct: the program's components from a consumer's inputs --------------------------------------------------


def test_inference_service_is_the_programs_object_with_its_outputs(tmp_path: Path) -> None:
    run = construct(tmp_path, INFERENCE_SERVICE.token, "iris", {**IRIS, "deploymentMode": "Standard"})
    (component,) = run.by_type(INFERENCE_SERVICE.token)
    (isvc,) = run.by_type(ISVC_TYPE)
    assert isvc.parent == component.urn
    expected = inference_service_manifest(ModelConfig.model_validate(IRIS), "Standard")
    assert {key: isvc.raw_inputs[key] for key in ("apiVersion", "kind", "metadata", "spec")} == expected
    # Bounded by readinessTimeout (the stack default here), as in the program.
    assert isvc.custom_timeouts == {"create": "15m", "update": "15m"}
    assert run.outputs["state"] == {
        "name": "iris",
        "namespace": "models",
        "inferencePath": "/v2/models/iris/infer",
        "url": "http://iris-predictor.models.svc.cluster.local",
        "inferenceUrl": "http://iris-predictor.models.svc.cluster.local/v2/models/iris/infer",
    }


def test_serving_runtime_is_the_programs_object(tmp_path: Path) -> None:
    run = construct(tmp_path, SERVING_RUNTIME.token, "custom", RUNTIME)
    (runtime,) = run.by_type("kubernetes:serving.kserve.io/v1alpha1:ServingRuntime")
    expected = serving_runtime_manifest(RuntimeConfig.model_validate(RUNTIME))
    assert {key: runtime.raw_inputs[key] for key in ("apiVersion", "kind", "metadata", "spec")} == expected
    assert run.outputs["state"] == {"kind": "ServingRuntime", "name": "custom-mlserver"}


def test_install_is_the_programs_install_and_protect_reaches_it(tmp_path: Path) -> None:
    run = construct(tmp_path, KSERVE_INSTALL.token, "kserve", {"deploymentMode": "Standard"}, protect=True)
    (install,) = run.by_type(KSERVE_INSTALL.token)
    assert install.protect
    children = [r for r in run.resources if r.parent == install.urn]
    assert {r.type for r in children} >= {"kubernetes:core/v1:Namespace", "kserve-platform:install:KServe"}
    state = run.outputs["state"]
    assert state["installed"] is True and state["deploymentMode"] == "Standard"
    assert state["versions"]["kserve"] == KServeConfig().version


def test_kubernetes_objects_leave_the_provider_version_to_the_consumers_default_provider(tmp_path: Path) -> None:
    # Chart v4's own objects name no provider version; the package's must not either, or a consumer without a
    # Kubernetes version (Pulumi YAML) gets two providers and the install's preview fails on cert-manager's CRDs
    # (tests/end_to_end/test_pulumi_package.py::test_yaml_program_previews_the_install_from_local_charts).
    runs = [
        construct(tmp_path / "isvc", INFERENCE_SERVICE.token, "iris", IRIS),
        construct(tmp_path / "install", KSERVE_INSTALL.token, "kserve", {"deploymentMode": "Standard"}),
    ]
    registered = [r for run in runs for r in run.resources if r.type.startswith("kubernetes:")]
    assert {r.type for r in registered} >= {ISVC_TYPE, "kubernetes:helm.sh/v4:Chart", "kubernetes:core/v1:Namespace"}
    assert {r.version for r in registered} == {""}


# --- invalid inputs: the stack file's messages, every one, nothing registered --------------------------------------


def stack_messages(values: dict[str, Any]) -> set[str]:
    with pytest.raises(ConfigError) as error:
        parse_stack_config(values)
    return {issue.message for issue in error.value.issues}


def test_invalid_inputs_get_the_stack_files_messages_all_at_once_and_nothing_is_registered(tmp_path: Path) -> None:
    bad = {**IRIS, "image": "my-server:0.1.0", "minReplicas": 3, "maxReplicas": 2}
    with pytest.raises(InvalidInputs) as error:
        construct(tmp_path, INFERENCE_SERVICE.token, "iris", bad)
    assert not [r for r in error.value.registered_before_failure if r.type != "pulumi:pulumi:Stack"]  # type: ignore[attr-defined]
    issues = {(issue.path, issue.message) for issue in error.value.issues}
    expected = stack_messages({"kserve": {"install": False, "existingNamespaces": ["models"]}, "models": [bad]})
    assert {message for _, message in issues} == expected
    assert {path for path, _ in issues} == {"image", "minReplicas"}
    assert {issue.model for issue in error.value.issues} == {"models/iris"}
    # The engine prints each as `property <path> with value <value> has a problem: <reason>`.
    assert {(e["property_path"], e["reason"]) for e in error.value.errors} == issues
    assert "invalid inputs of kserve-platform:models:InferenceService 'iris' (models/iris): 2 errors" in str(
        error.value
    )


def test_malformed_values_name_the_input_key() -> None:
    with pytest.raises(InvalidInputs) as error:
        validate(
            INFERENCE_SERVICE,
            "iris",
            {**IRIS, "name": "Iris", "storageUri": "foo://bucket/iris", "deploymentMode": "Bogus"},
        )
    paths = {issue.path for issue in error.value.issues}
    assert paths == {"name", "storageUri", "deploymentMode"}


@pytest.mark.parametrize(
    ("component", "key", "hint"),
    [
        (INFERENCE_SERVICE, "storageCredentials", "set serviceAccountName"),
        (INFERENCE_SERVICE, "renamedFrom", "`aliases` option"),
        (INFERENCE_SERVICE, "deploy", "remove the resource instead"),
        (KSERVE_INSTALL, "install", "omit the resource"),
    ],
)
def test_stack_file_only_keys_are_refused_with_what_to_do_instead(component, key, hint: str) -> None:
    inputs = {**(IRIS if component is INFERENCE_SERVICE else {}), key: "x"}
    with pytest.raises(InvalidInputs) as error:
        validate(component, "r", inputs)
    (issue,) = [issue for issue in error.value.issues if issue.path == key]
    assert issue.message.startswith(f"is not an input of {component.token}: it ")
    assert hint in issue.message


def test_an_unknown_input_names_the_close_key() -> None:
    with pytest.raises(InvalidInputs) as error:
        validate(INFERENCE_SERVICE, "iris", {**IRIS, "storageURI": "gs://x/y"})
    (issue,) = error.value.issues
    assert issue.path == "storageURI" and "did you mean 'storageUri'?" in issue.message


def test_a_null_input_is_an_unset_one() -> None:
    # protocolVersion on a custom image is an error when set; an SDK's null for an unset input must not be.
    custom = {"name": "custom", "namespace": "models", "image": "registry.example.com/m:0.1.0"}
    stack = validate(INFERENCE_SERVICE, "custom", {**custom, "protocolVersion": None})
    assert stack.models[0].protocol_version is None


def test_runtime_placement_is_left_to_kserve_because_the_package_cannot_see_the_runtimes() -> None:
    # A model on a runtime another resource (or another stack) declares: the stack file refuses it unless the runtime
    # is in the same file; the package accepts it (KServe reports NoSupportingRuntime if it does not exist).
    model = {**IRIS, "format": "custom", "runtime": "custom-mlserver"}
    assert validate(INFERENCE_SERVICE, "iris", model).models[0].runtime == "custom-mlserver"
    assert any(
        "no runtime 'custom-mlserver'" in message
        for message in stack_messages(
            {"kserve": {"install": False, "existingNamespaces": ["models"]}, "models": [model]}
        )
    )


def test_install_validation_is_the_kserve_keys(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputs) as error:
        validate(KSERVE_INSTALL, "kserve", {"deploymentMode": "Standard", "knative": {}})
    (issue,) = error.value.issues
    assert issue.path == "knative" and "applies to deploymentMode: Knative only" in issue.message


# --- inputs that are outputs of other resources -------------------------------------------------------------------


def test_outputs_are_resolved_to_values_and_their_resources_kept() -> None:
    async def resolve() -> tuple[Any, _Resolution]:
        owner = pulumi.resource.DependencyResource("urn:pulumi:s::p::kubernetes:core/v1:Namespace::ns")
        known = pulumi.Output(resources={owner}, future=_done("models"), is_known=_done(True), is_secret=_done(False))
        unknown = pulumi.Output(resources=set(), future=_done(None), is_known=_done(False), is_secret=_done(False))
        secret = pulumi.Output(resources=set(), future=_done("s3cr3t"), is_known=_done(True), is_secret=_done(True))
        resolution = _Resolution()
        value = await resolution.value(
            {"namespace": known, "env": [{"name": "A", "value": secret}], "storageUri": unknown}, ()
        )
        return value, resolution

    # A loop of its own, left unset: asyncio.run would unset the thread's loop, which later mocked runs use.
    loop = asyncio.new_event_loop()
    try:
        value, resolution = loop.run_until_complete(resolve())
    finally:
        loop.close()
    assert value["namespace"] == "models"
    assert len(resolution.dependencies) == 1
    assert isinstance(resolution.dependencies[0], pulumi.resource.DependencyResource)
    assert resolution.unknown == ["storageUri"]
    assert resolution.secret == ["env[0].value"]
    inputs = PackageInputs(value, resolution.dependencies, unknown=resolution.unknown, secret=resolution.secret)
    with pytest.raises(InvalidInputs) as error:
        validate(INFERENCE_SERVICE, "iris", inputs)
    messages = {issue.path: issue.message for issue in error.value.issues}
    assert "is not known yet" in messages["storageUri"] and "is a secret" in messages["env[0].value"]


def _done(value: Any) -> asyncio.Future:
    future: asyncio.Future = asyncio.get_running_loop().create_future()
    future.set_result(value)
    return future


def test_the_provider_serves_the_generated_schema() -> None:
    provider = KServePlatformProvider()
    assert json.loads(provider.schema or "{}") == package_schema()
    assert provider.version == package_schema()["version"]


# --- the provider executable: which Python it runs ------------------------------------------------------------------

LAUNCHER = Path(__file__).resolve().parent.parent / "package" / "pulumi-resource-kserve-platform"


def fake_python(path: Path) -> Path:
    """An executable that prints how it was called instead of running Python."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('#!/bin/sh\necho "$0|$PYTHONPATH|$*"\n')
    path.chmod(0o755)
    return path


def launch(executable: Path, env: dict[str, str]) -> list[str]:
    result = subprocess.run(
        [str(executable), "127.0.0.1:1234"], env=env, capture_output=True, text=True, timeout=30, check=True
    )
    return result.stdout.strip().split("|")


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A checkout holding only the launcher, at package/pulumi-resource-kserve-platform."""
    root = tmp_path / "checkout"
    (root / "package").mkdir(parents=True)
    shutil.copy2(LAUNCHER, root / "package" / LAUNCHER.name)
    return root


def test_launcher_runs_the_python_the_environment_names(checkout: Path, tmp_path: Path) -> None:
    python = fake_python(tmp_path / "elsewhere" / "python")
    fake_python(checkout / "venv" / "bin" / "python")
    called, pythonpath, args = launch(
        checkout / "package" / LAUNCHER.name, {"PATH": os.environ["PATH"], "KSERVE_PLATFORM_PYTHON": str(python)}
    )
    assert (called, pythonpath, args) == (str(python), str(checkout), "-m package 127.0.0.1:1234")


def test_launcher_runs_the_checkouts_virtualenv_then_python3(checkout: Path, tmp_path: Path) -> None:
    on_path = fake_python(tmp_path / "bin" / "python3")
    env = {"PATH": f"{on_path.parent}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": "/extra"}
    # Through a symlink elsewhere (as a plugin folder may hold it): the checkout is found from the link's target.
    link = tmp_path / "plugins" / LAUNCHER.name
    link.parent.mkdir()
    link.symlink_to(checkout / "package" / LAUNCHER.name)
    called, pythonpath, _ = launch(link, env)
    assert (called, pythonpath) == (str(on_path), f"{checkout}:/extra")
    venv = fake_python(checkout / "venv" / "bin" / "python")
    called, _, _ = launch(link, env)
    assert called == str(venv)
