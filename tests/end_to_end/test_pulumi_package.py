"""Issue 16: the kserve-platform Pulumi package (package/) through the real CLI.

- `pulumi package get-schema` of the provider executable returns the committed schema (package/schema.json).
- A Pulumi YAML program (tests/end_to_end/consumers/yaml, run by the YAML language host) names the package in its
  `packages:` and deploys a namespace, a custom runtime and a model against the loopback cluster: `pulumi preview`
  plans the program's own objects, `pulumi up` creates them, KServe's webhooks admit them, and `pulumi destroy`
  removes them. Bad inputs fail the preview with the stack file's messages.
- `pulumi package gen-sdk --language nodejs` writes the TypeScript SDK, and `tsc` type-checks the TypeScript program
  (tests/end_to_end/consumers/typescript) against it; a program with a wrong input type does not type-check.

`pulumi up` succeeds only once the InferenceService is Ready (the package's InferenceService waits for Ready, as the
program's does): the harness's kwok nodes run the predictor's Pod, so KServe's controller reports it Ready.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.inference_service import inference_service_manifest
from components.serving_runtime import serving_runtime_manifest
from config.models import ModelConfig
from config.runtimes import RuntimeConfig
from e2e.cluster import Cluster, ToolchainMissing, start
from e2e.pulumi_cli import PROJECT_DIR, PulumiProject, PulumiToolchain
from e2e.toolchain import BUILD_COMMAND, cache_root
from package.schema import SCHEMA_PATH, canonical
from tests.end_to_end.fixtures_pulumi import require_toolchain
from tests.end_to_end.stacks import KSERVE_KEY
from tests.end_to_end.test_install_path import assert_install_children, installing_config

PACKAGE_DIR = PROJECT_DIR / "package"
PROVIDER = PACKAGE_DIR / "pulumi-resource-kserve-platform"
CONSUMERS = Path(__file__).resolve().parent / "consumers"
ISVC_TYPE = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
RUNTIME_TYPE = "kubernetes:serving.kserve.io/v1alpha1:ServingRuntime"


def require(path: Path | None, what: str) -> Path:
    if path is None or not path.exists():
        require_toolchain(f"{what} is not built ({path}): run `{BUILD_COMMAND}`")
    assert path is not None
    return path


def cli_in(folder: Path, toolchain: PulumiToolchain, state: Path, **env: str) -> PulumiProject:
    """The real CLI run in `folder` with a file backend in `state` (a project there or not)."""
    folder.mkdir(parents=True, exist_ok=True)
    state.mkdir(parents=True, exist_ok=True)
    return PulumiProject(workdir=folder, toolchain=toolchain, state_dir=state, extra_env=dict(env))


def test_cli_get_schema_returns_the_committed_schema(pulumi_toolchain: PulumiToolchain, tmp_path: Path) -> None:
    cli = cli_in(tmp_path / "cwd", pulumi_toolchain, tmp_path / "state")
    result = cli.run("package", "get-schema", str(PROVIDER))
    assert canonical(json.loads(result.stdout)) == SCHEMA_PATH.read_text(), (
        "the provider serves another schema than package/schema.json: run `python3 -m package.schema --write`"
    )
    # The package folder itself is no schema source for this CLI (v3.274.1 looks for `pulumi-resource-` with an
    # empty name): hence the recipe's get-schema/gen-sdk commands name the executable. Packages: entries take the
    # folder (the YAML consumer below).
    folder = cli.run("package", "get-schema", str(PACKAGE_DIR), check=False)
    assert folder.returncode != 0 and 'executable named "pulumi-resource-"' in folder.stderr, folder.stderr


# --- Pulumi YAML ----------------------------------------------------------------------------------------------------


def yaml_consumer(toolchain: PulumiToolchain, cluster: Cluster, tmp_path: Path) -> tuple[PulumiProject, dict]:
    """A copy of the YAML consumer whose `packages:` entry names this checkout's package folder (the committed
    relative path resolves there from the committed file; the copy lives elsewhere)."""
    require(toolchain.language_yaml_dir and toolchain.language_yaml_dir / "pulumi-language-yaml", "the YAML host")
    source = CONSUMERS / "yaml" / "Pulumi.yaml"
    program = yaml.safe_load(source.read_text())
    assert (source.parent / program["packages"]["kserve-platform"]).resolve() == PACKAGE_DIR
    program["packages"]["kserve-platform"] = str(PACKAGE_DIR)
    workdir = tmp_path / "consumer"
    workdir.mkdir()
    (workdir / "Pulumi.yaml").write_text(yaml.safe_dump(program, sort_keys=False))
    project = PulumiProject(
        workdir=workdir,
        toolchain=toolchain,
        state_dir=tmp_path / "state",
        extra_env={"KUBECONFIG": str(cluster.kubeconfig)},
    )
    project.state_dir.mkdir()
    project.new_stack("test", config={})
    return project, program


def resolved(properties: dict[str, Any], namespace: str) -> dict[str, Any]:
    """The program's properties with `${models.metadata.name}` as the namespace it names."""
    return {key: namespace if value == "${models.metadata.name}" else value for key, value in properties.items()}


def contains(actual: Any, expected: Any) -> bool:
    """`expected` is part of `actual` (the API server and KServe's defaulting may only add fields)."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(contains(actual.get(k), v) for k, v in expected.items())
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and all(map(contains, actual, expected))
    return actual == expected


def test_yaml_program_deploys_a_model_with_the_package(
    pulumi_toolchain: PulumiToolchain, kserve_cluster: Cluster, tmp_path: Path
) -> None:
    project, program = yaml_consumer(pulumi_toolchain, kserve_cluster, tmp_path)
    namespace = program["resources"]["models"]["properties"]["metadata"]["name"]
    model = ModelConfig.model_validate(resolved(program["resources"]["iris"]["properties"], namespace))
    runtime = RuntimeConfig.model_validate(resolved(program["resources"]["custom-runtime"]["properties"], namespace))
    expected_isvc = inference_service_manifest(model, "Standard")
    expected_runtime = serving_runtime_manifest(runtime)

    # Preview: the package's components, and inside them the objects the program itself builds from the same keys.
    steps = json.loads(project.run("preview", "--json", stack="test").stdout)["steps"]
    planned = {(step["newState"]["type"], step["urn"].rpartition("::")[2]): step for step in steps}
    assert {("kserve-platform:models:InferenceService", "iris"), ("kserve-platform:runtimes:ServingRuntime",
            "custom-runtime")} <= set(planned)  # fmt: skip
    isvc_inputs = planned[(ISVC_TYPE, "iris")]["newState"]["inputs"]
    assert {key: isvc_inputs[key] for key in expected_isvc} == expected_isvc
    runtime_inputs = planned[(RUNTIME_TYPE, "custom-runtime")]["newState"]["inputs"]
    assert {key: runtime_inputs[key] for key in expected_runtime} == expected_runtime

    up = project.run("up", "--yes", "--skip-preview", stack="test", check=False)
    assert up.returncode == 0, up.stdout + up.stderr
    assert project.stack_outputs("test")["inferenceUrl"] == (
        f"http://iris-predictor.{namespace}.svc.cluster.local/v2/models/iris/infer"
    )

    # In the cluster: what the package produced, admitted by KServe's webhooks (registered fail-closed, so an object
    # that exists passed them) and picked up by KServe's controller.
    isvc = json.loads(kserve_cluster.kubectl("get", "inferenceservice", "iris", "-n", namespace, "-o", "json").stdout)
    assert contains(isvc, expected_isvc), json.dumps(isvc, indent=1)
    assert isvc["status"]["clusterServingRuntimeName"] == "kserve-mlserver"
    ready = {condition["type"]: condition["status"] for condition in isvc["status"]["conditions"]}
    assert ready.get("Ready") == "True", isvc["status"]
    served = json.loads(
        kserve_cluster.kubectl("get", "servingruntime", runtime.name, "-n", namespace, "-o", "json").stdout
    )
    assert contains(served, expected_runtime), json.dumps(served, indent=1)
    hooks = json.loads(kserve_cluster.kubectl("get", "validatingwebhookconfigurations", "-o", "json").stdout)
    guards = {
        rule_resource: hook["failurePolicy"]
        for configuration in hooks["items"]
        for hook in configuration["webhooks"]
        for rule in hook.get("rules", [])
        for rule_resource in rule["resources"]
    }
    assert guards.get("inferenceservices") == "Fail" and guards.get("servingruntimes") == "Fail", guards

    # Everything was created, nothing holds an error.
    state = json.loads(project.run("stack", "export", stack="test").stdout)["deployment"]["resources"]
    assert {(resource["type"], resource["urn"].rpartition("::")[2]) for resource in state} >= {
        ("kubernetes:core/v1:Namespace", "models"),
        ("kserve-platform:runtimes:ServingRuntime", "custom-runtime"),
        (RUNTIME_TYPE, "custom-runtime"),
        ("kserve-platform:models:InferenceService", "iris"),
        (ISVC_TYPE, "iris"),
    }
    errors = {resource["type"]: resource["initErrors"] for resource in state if resource.get("initErrors")}
    assert errors == {}
    # The components' typed outputs, as the state holds them.
    outputs = {resource["type"]: resource.get("outputs", {}) for resource in state}
    assert outputs["kserve-platform:models:InferenceService"] == {
        "name": "iris",
        "namespace": namespace,
        "inferencePath": "/v2/models/iris/infer",
        "url": f"http://iris-predictor.{namespace}.svc.cluster.local",
        "inferenceUrl": f"http://iris-predictor.{namespace}.svc.cluster.local/v2/models/iris/infer",
    }
    assert outputs["kserve-platform:runtimes:ServingRuntime"] == {"kind": "ServingRuntime", "name": runtime.name}

    project.run("destroy", "--yes", "--skip-preview", stack="test")
    left = kserve_cluster.kubectl(
        "get", "inferenceservices,servingruntimes", "-n", namespace, "-o", "name", check=False
    )
    assert left.stdout.strip() == "", left.stdout


def test_bad_inputs_fail_the_preview_with_the_stack_files_messages(
    pulumi_toolchain: PulumiToolchain, kserve_cluster: Cluster, tmp_path: Path
) -> None:
    project, program = yaml_consumer(pulumi_toolchain, kserve_cluster, tmp_path)
    properties = program["resources"]["iris"]["properties"]
    properties.update(image="registry.example.com/my-server:0.1.0", minReplicas=3, maxReplicas=2)
    (project.workdir / "Pulumi.yaml").write_text(yaml.safe_dump(program, sort_keys=False))
    preview = project.run("preview", stack="test", check=False)
    assert preview.returncode != 0
    namespace = program["resources"]["models"]["properties"]["metadata"]["name"]
    assert (
        f"invalid inputs of kserve-platform:models:InferenceService 'iris' ({namespace}/iris): 2 errors; nothing was "
        "registered" in preview.stdout
    ), preview.stdout
    assert (
        "property image with value \"registry.example.com/my-server:0.1.0\" has a problem: set either 'format' "
        "(built-in runtime) or 'image' (custom MLServer image), not both" in preview.stdout
    ), preview.stdout
    assert "property minReplicas with value 3 has a problem: minReplicas (3) must not exceed maxReplicas (2)" in (
        preview.stdout
    )


def test_package_add_cannot_link_the_package_into_a_yaml_project(
    pulumi_toolchain: PulumiToolchain, tmp_path: Path
) -> None:
    """Why the recipe has users write the `packages:` entry by hand: with this CLI and YAML host, `pulumi package
    add` gets the schema and writes an SDK, then stops at linking and leaves Pulumi.yaml as it was."""
    require(
        pulumi_toolchain.language_yaml_dir and pulumi_toolchain.language_yaml_dir / "pulumi-language-yaml",
        "the YAML host",
    )
    project = cli_in(tmp_path / "consumer", pulumi_toolchain, tmp_path / "state")
    program = "name: add-consumer\nruntime: yaml\n"
    (project.workdir / "Pulumi.yaml").write_text(program)
    added = project.run("package", "add", str(PROVIDER), check=False)
    assert added.returncode != 0 and "linking package: method Link not implemented" in added.stderr, added.stderr
    assert (project.workdir / "Pulumi.yaml").read_text() == program


def test_yaml_program_previews_the_install_from_local_charts(pulumi_toolchain: PulumiToolchain, tmp_path: Path) -> None:
    """The install resource: the committed dev stack's `kserve` key (chart sources pointed at ../shared, as
    test_install_path.py does for the program) as the inputs of a KServeInstall in a Pulumi YAML program; the
    preview plans the same chart children with the same transforms (a cluster of its own, without KServe's
    webhooks, as there)."""
    require(
        pulumi_toolchain.language_yaml_dir and pulumi_toolchain.language_yaml_dir / "pulumi-language-yaml",
        "the YAML host",
    )
    inputs = installing_config(tmp_path)[KSERVE_KEY]
    program = {
        "name": "kserve-platform-install-consumer",
        "runtime": "yaml",
        "packages": {"kserve-platform": str(PACKAGE_DIR)},
        "resources": {"kserve": {"type": "kserve-platform:install:KServeInstall", "properties": inputs}},
        "outputs": {"versions": "${kserve.versions}"},
    }
    try:
        cluster = start(tmp_path / "cluster")
    except ToolchainMissing as missing:
        require_toolchain(str(missing))
    try:
        cluster.kubectl("delete", "mutatingwebhookconfigurations,validatingwebhookconfigurations", "--all")
        project = cli_in(
            tmp_path / "consumer", pulumi_toolchain, tmp_path / "state", KUBECONFIG=str(cluster.kubeconfig)
        )
        (project.workdir / "Pulumi.yaml").write_text(yaml.safe_dump(program, sort_keys=False))
        project.new_stack("test", config={})
        preview = json.loads(project.run("preview", "--json", stack="test").stdout)
    finally:
        cluster.stop()
    assert_install_children(preview)
    (install,) = [
        step for step in preview["steps"] if step["newState"]["type"] == "kserve-platform:install:KServeInstall"
    ]
    assert install["urn"].endswith("::kserve")


# --- TypeScript -----------------------------------------------------------------------------------------------------


def test_typescript_program_type_checks_against_the_generated_sdk(
    pulumi_toolchain: PulumiToolchain, tmp_path: Path
) -> None:
    codegen = require(pulumi_toolchain.codegen_nodejs_dir, "the Node.js code generation host")
    npm = shutil.which("npm")
    if npm is None:
        require_toolchain("npm is not installed (Debian: apt-get install npm)")
    consumer = tmp_path / "typescript"
    shutil.copytree(CONSUMERS / "typescript", consumer)
    project = yaml.safe_load((consumer / "Pulumi.yaml").read_text())
    assert (CONSUMERS / "typescript" / project["packages"]["kserve-platform"]).resolve() == PACKAGE_DIR
    project["packages"]["kserve-platform"] = str(PACKAGE_DIR)
    (consumer / "Pulumi.yaml").write_text(yaml.safe_dump(project, sort_keys=False))
    # `pulumi package gen-sdk --language nodejs` through the code generation host (the CLI finds language hosts on
    # PATH), to where `pulumi package add` puts an SDK: sdks/<package>, which tsconfig.json maps the import to.
    cli = cli_in(consumer, pulumi_toolchain, tmp_path / "state")
    cli.extra_env["PATH"] = f"{codegen}{os.pathsep}{cli.env()['PATH']}"
    cli.run("package", "gen-sdk", str(PROVIDER), "--language", "nodejs", "--out", str(tmp_path / "generated"))
    shutil.copytree(tmp_path / "generated" / "nodejs", consumer / "sdks" / "kserve-platform")

    # The pinned TypeScript, @pulumi/pulumi and @types/node (package.json, package-lock.json), npm's cache outside the
    # checkout.
    install = subprocess.run(
        [
            npm,
            "ci",
            "--no-audit",
            "--no-fund",
            "--ignore-scripts",
            "--prefer-offline",
            "--cache",
            str(cache_root() / "npm"),
        ],
        cwd=consumer,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert install.returncode == 0, install.stderr
    tsc = consumer / "node_modules" / ".bin" / "tsc"
    checked = subprocess.run([tsc, "--noEmit", "-p", "."], cwd=consumer, capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    # The inputs are typed: a wrong enum value and a string for a number do not compile.
    program = (consumer / "index.ts").read_text()
    wrong = program.replace('protocolVersion: "v2"', 'protocolVersion: "v3"').replace(
        "minReplicas: 1", 'minReplicas: "1"'
    )
    assert wrong != program
    (consumer / "index.ts").write_text(wrong)
    refused = subprocess.run([tsc, "--noEmit", "-p", "."], cwd=consumer, capture_output=True, text=True, check=False)
    assert refused.returncode != 0
    assert (
        "Type '\"v3\"' is not assignable to type 'Input<InferenceServiceProtocolVersion | undefined>'" in refused.stdout
    )
    assert "Type 'string' is not assignable to type 'Input<number | undefined>'" in refused.stdout


@pytest.fixture(autouse=True)
def _no_consumer_leftovers() -> Iterator[None]:
    # The consumers run from copies: nothing may be written into the checkout's consumer folders.
    before = sorted(path.relative_to(CONSUMERS) for path in CONSUMERS.rglob("*"))
    yield
    assert sorted(path.relative_to(CONSUMERS) for path in CONSUMERS.rglob("*")) == before
