"""The policy pack: every stack as committed passes its own policy config, and each policy catches what it is for."""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import select
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml
from conftest import STACKS, stack_settings
from google.protobuf import empty_pb2
from policy_harness import (
    POLICY_DIR,
    as_the_engine_hands_them,
    chart_children,
    enforcement,
    engine_registrations,
    evaluate,
    policy_config,
    properties,
    require_rendering,
    resource_args,
    root_stack,
    run_policy,
    synthetic_resource,
)
from pulumi.runtime.proto import analyzer_pb2_grpc
from pulumi_policy import EnforcementLevel

from config.storage import STORAGE_SCHEMES
from offline.program import run_program
from offline.recorder import RegisteredResource
from policy import policies

ISVC_TYPE = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
PROD_SETTINGS = {name: properties(p, policy_config("prod")) for name, p in ((p.name, p) for p in policies.POLICIES)}


def resource(type_: str, inputs: dict[str, Any], name: str = "x", protect: bool = False, urn: str | None = None):
    urn = urn or f"urn:pulumi:test::kserve-platform::{type_}::{name}"
    return synthetic_resource(urn, type_, name, inputs, protect=protect)


def messages(policy, resources: list[RegisteredResource], **settings: Any) -> list[str]:
    merged = {**PROD_SETTINGS[policy.name], **settings}
    return [message for _, message in run_policy(policy, resources, merged)]


def assert_fires(policy, resources, *expected: str, **settings: Any) -> list[str]:
    found = messages(policy, resources, **settings)
    assert found, f"{policy.name} did not fire"
    for message in found:
        assert "Fix:" in message, f"{policy.name}: message does not say how to fix it: {message}"
    for text in expected:
        assert any(text in message for message in found), (text, found)
    return found


@pytest.fixture(scope="module")
def staging_isvcs() -> dict[str, RegisteredResource]:
    # Staging runs every kind of model prod does, plus the custom image (promoted to prod once pinned by digest).
    run = run_program(stack_settings("staging"), "staging")
    return {r.inputs["metadata"]["name"]: r for r in run.resources if r.type == ISVC_TYPE}


def mutate(original: RegisteredResource, change: Callable[[dict[str, Any]], None]) -> RegisteredResource:
    inputs = copy.deepcopy(original.inputs)
    change(inputs)
    return dataclasses.replace(original, raw_inputs=inputs)


def custom_container(inputs: dict[str, Any]) -> dict[str, Any]:
    return inputs["spec"]["predictor"]["containers"][0]


# --- every stack, as committed --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "stack",
    [
        "dev",
        "staging",
        "prod",
        "local",
    ],
)
def test_stack_has_no_mandatory_violation(stack, run_stack):
    # As the engine runs the pack: the root stack, the program's resources and every chart's real children.
    require_rendering()
    run = run_stack(stack)
    violations = evaluate(run, policy_config(stack), engine_registrations(run))
    assert [v for v in violations if v.level == EnforcementLevel.MANDATORY] == []


@pytest.mark.parametrize("stack", STACKS)
def test_every_chart_of_the_stack_is_seen_by_the_pack(stack, run_stack):
    # Each Chart v4 the stack installs hands the engine its objects (none is an empty render), typed as the
    # provider registers them and parented by the chart.
    require_rendering()
    run = run_stack(stack)
    children = chart_children(run)
    charts_ = {r.urn for r in run.by_type("kubernetes:helm.sh/v4:Chart")}
    assert charts_ and {child.parent for child in children} == charts_
    assert all(c.type.startswith("kubernetes:") and "$" + c.type + "::" in c.urn for c in children)


def test_prod_passes_every_policy_outright(run_stack):
    require_rendering()
    run = run_stack("prod")
    assert evaluate(run, policy_config("prod"), engine_registrations(run)) == []


def test_a_custom_image_promoted_to_prod_by_tag_is_blocked(run_config):
    model = {"name": "custom-model", "namespace": "models-prod", "image": "my-custom-server:0.1.0"}
    violations = evaluate(run_config({"models": [model], "protect": True}, stack="prod"), policy_config("prod"))
    pinned = [v for v in violations if v.policy == "images-pinned"]
    assert pinned and pinned[0].level == EnforcementLevel.MANDATORY
    assert "'my-custom-server:0.1.0' is not pinned by digest" in pinned[0].message


def test_staging_passes_every_policy_outright(run_stack):
    require_rendering()
    run = run_stack("staging")
    assert evaluate(run, policy_config("staging"), engine_registrations(run)) == []


@pytest.mark.parametrize("stack", ["dev", "local"])
def test_dev_stacks_only_warn(stack, run_stack):
    # Dev models run without sizing on purpose; the pack says so without blocking.
    violations = evaluate(run_stack(stack), policy_config(stack))
    assert violations and {v.level for v in violations} == {EnforcementLevel.ADVISORY}


def test_prod_resources_are_all_protected_and_dev_ones_would_be_caught(run_stack):
    assert messages(policies.PROTECTED, run_stack("prod").resources) == []
    dev = run_stack("dev").resources
    found = assert_fires(policies.PROTECTED, dev, "kserve-platform:protect: true")
    # Nothing is protected in dev, KServe's CRD chart included (its CRDs are retained, not protected).
    assert len(found) == len(dev) and not any(r.protect for r in dev)


def test_resources_protected_skips_the_root_stack_and_providers(run_stack):
    # The engine runs analyzers on the root `pulumi:pulumi:Stack` too; protect cannot apply to it.
    prod = run_stack("prod")
    root = root_stack(prod)
    assert root.type == "pulumi:pulumi:Stack" and not root.protect
    reported: list[str] = []
    policies.PROTECTED.validate(resource_args(root, PROD_SETTINGS[policies.PROTECTED.name]), reported.append)
    assert reported == []
    provider = resource("pulumi:providers:kubernetes", {}, "default_4_34_2")
    assert messages(policies.PROTECTED, [provider]) == []
    # A component is judged like anything else (protect passes from it to its children).
    component = dataclasses.replace(resource("kserve-platform:install:KServeInstall", {}), custom=False)
    assert_fires(policies.PROTECTED, [component], "kserve-platform:install:KServeInstall")


def test_prod_chart_children_are_protected(run_stack):
    # Production's `protect: true` reaches every object a chart renders: the engine would refuse to delete any.
    require_rendering()
    children = chart_children(run_stack("prod"))
    assert children and all(child.protect for child in children)
    assert messages(policies.PROTECTED, children) == []


# --- per-stack enforcement ----------------------------------------------------------------------------------------


def test_enforcement_is_advisory_in_dev_and_mandatory_in_prod():
    for stack in STACKS:
        config = policy_config(stack)
        for policy in policies.POLICIES:
            properties(policy, config)  # every setting a config file names is in the policy's schema
    levels = {stack: {p.name: enforcement(p, policy_config(stack)) for p in policies.POLICIES} for stack in STACKS}
    assert set(levels["prod"].values()) == {EnforcementLevel.MANDATORY}
    for stack in ("dev", "local"):
        assert set(levels[stack].values()) <= {EnforcementLevel.ADVISORY, EnforcementLevel.DISABLED}
        assert levels[stack]["min-replicas"] == levels[stack]["resources-protected"] == EnforcementLevel.DISABLED
    assert levels["staging"]["min-replicas"] == EnforcementLevel.MANDATORY
    assert properties(policies.IMAGES_PINNED, policy_config("prod"))["requireDigest"] is True
    assert properties(policies.IMAGES_PINNED, policy_config("dev"))["requireDigest"] is False


def test_a_config_file_exists_for_every_stack_file():
    stacks = {path.name.split(".")[1] for path in POLICY_DIR.parent.glob("Pulumi.*.yaml")}
    assert stacks == {path.stem for path in (POLICY_DIR / "config").glob("*.json")}


def test_storage_allow_list_matches_what_the_config_accepts():
    assert set(policies.DEFAULT_STORAGE_SCHEMES) == set(STORAGE_SCHEMES)


def test_policy_pack_starts_as_the_cli_would_run_it():
    # `pulumi preview --policy-pack policy` runs the pack's directory; the pack prints the port it serves on.
    assert yaml.safe_load((POLICY_DIR / "PulumiPolicy.yaml").read_text())["runtime"]["name"] == "python"
    process = subprocess.Popen(
        [sys.executable, "-c", f"import runpy; runpy.run_path({str(POLICY_DIR)!r}, run_name='__main__')"],
        cwd=POLICY_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        ready, _, _ = select.select([process.stdout], [], [], 60)
        assert ready, "the policy pack did not start within 60 s"
        line = process.stdout.readline().decode().strip()
        assert line.isdigit() and int(line) > 0, (line, process.stderr.read1(4096) if process.poll() else b"")
    finally:
        process.kill()
        process.wait(timeout=10)


ANALYZER_EXECUTABLE = POLICY_DIR / "pulumi-analyzer-kserve-platform"


def pack_copy(tmp_path: Path, policy_yaml: Callable[[dict[str, Any]], None] = lambda document: None) -> Path:
    """The pack's folder copied to `tmp_path/policy` (no virtualenv), its PulumiPolicy.yaml edited by `policy_yaml`."""
    pack = tmp_path / "policy"
    shutil.copytree(POLICY_DIR, pack, ignore=shutil.ignore_patterns("venv", "__pycache__"))
    document = yaml.safe_load((pack / "PulumiPolicy.yaml").read_text())
    policy_yaml(document)
    (pack / "PulumiPolicy.yaml").write_text(yaml.safe_dump(document))
    return pack


def this_python_as(path: Path) -> Path:
    """A launcher at `path` for the interpreter running the tests (with its own site-packages); returns the file it
    touches when it runs."""
    path.parent.mkdir(parents=True)
    used = path.with_name("used")
    path.write_text(f'#!/bin/sh\ntouch {used}\nexec {sys.executable} "$@"\n')
    path.chmod(0o755)
    return used


def start_analyzer(pack: Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    # As the engine launches a binary analyzer: its own address as the argument, the project as working directory.
    return subprocess.Popen(
        [str(pack / ANALYZER_EXECUTABLE.name), "127.0.0.1:1"],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def without_virtualenv(document: dict[str, Any]) -> None:
    document["runtime"] = {"name": "python"}


@pytest.mark.parametrize("python_from", ["virtualenv", "PULUMI_PYTHON_CMD"])
def test_the_analyzer_executable_serves_the_same_pack(tmp_path, python_from):
    # `pulumi preview --policy-pack policy/pulumi-analyzer-kserve-platform`: the engine runs the file directly. It
    # finds the pack's Python as the language host would (the virtualenv PulumiPolicy.yaml names; without one,
    # PULUMI_PYTHON_CMD) and serves this folder's pack: same name, same policies.
    assert os.access(ANALYZER_EXECUTABLE, os.X_OK), "the analyzer executable lost its executable bit"
    if python_from == "virtualenv":
        pack = pack_copy(tmp_path)
        venv = yaml.safe_load((POLICY_DIR / "PulumiPolicy.yaml").read_text())["runtime"]["options"]["virtualenv"]
        used = this_python_as(pack / venv / "bin" / "python")
        env = {"PULUMI_PYTHON_CMD": "/nonexistent/python"}
    else:
        pack = pack_copy(tmp_path, without_virtualenv)
        used = this_python_as(tmp_path / "elsewhere" / "python")
        env = {"PULUMI_PYTHON_CMD": str(tmp_path / "elsewhere" / "python")}
    project = tmp_path / "project"
    project.mkdir()
    # The engine's working directory is the project: nothing in it may stand in for the pack's imports.
    (project / "pulumi_policy.py").write_text("raise ImportError('the project folder shadowed pulumi_policy')\n")
    process = start_analyzer(pack, project, env)
    try:
        ready, _, _ = select.select([process.stdout], [], [], 60)
        assert ready, "the analyzer did not start within 60 s"
        line = process.stdout.readline().decode().strip()
        assert line.isdigit(), (line, process.stderr.read1(4096) if process.poll() is not None else b"")
        with grpc.insecure_channel(f"127.0.0.1:{line}") as channel:
            info = analyzer_pb2_grpc.AnalyzerStub(channel).GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
        assert info.name == "kserve-platform" and info.supportsConfig
        assert [policy.name for policy in info.policies] == [policy.name for policy in policies.POLICIES]
        assert used.exists(), f"the pack ran on another Python than {python_from} names"
    finally:
        process.kill()
        process.wait(timeout=10)


def test_the_analyzer_executable_says_how_to_make_a_missing_virtualenv(tmp_path):
    # The virtualenv is the one PulumiPolicy.yaml names (here renamed), never a second copy of the name.
    pack = pack_copy(tmp_path, lambda document: document["runtime"]["options"].update(virtualenv="pack-env"))
    process = start_analyzer(pack, tmp_path)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1 and out == b""
    message = err.decode()
    assert f"{pack}/pack-env" in message and "runtime.options.virtualenv" in message
    assert f"python3 -m venv {pack}/pack-env" in message and f"-r {pack}/requirements.lock" in message


def test_the_analyzer_executable_says_what_the_python_lacks(tmp_path):
    # A Python without the pack's dependencies: the error names the interpreter and the lock to install.
    pack = pack_copy(tmp_path, without_virtualenv)
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    process = start_analyzer(pack, tmp_path, {"PULUMI_PYTHON_CMD": str(bare / "bin" / "python")})
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1 and out == b""
    message = err.decode()
    assert "cannot import pulumi_policy" in message and f"-r {pack}/requirements.lock" in message, message


def test_policy_names_and_descriptions():
    names = [p.name for p in policies.POLICIES]
    assert len(set(names)) == len(names)
    assert all(p.description and p.remediation_steps for p in policies.POLICIES)


# --- crafted violations: each policy fires and says how to fix it ------------------------------------------------


def test_images_pinned(staging_isvcs):
    custom = staging_isvcs["custom-model"]
    untagged = mutate(custom, lambda i: custom_container(i).update(image="registry.local:5000/team/server"))
    latest = mutate(custom, lambda i: custom_container(i).update(image="my-custom-server:latest"))
    assert_fires(policies.IMAGES_PINNED, [untagged], "has no tag", requireDigest=False)
    assert_fires(policies.IMAGES_PINNED, [latest], "moving tag 'latest'", requireDigest=False)
    assert_fires(policies.IMAGES_PINNED, [custom], "not pinned by digest", "models[].image")
    digest = "my-custom-server@sha256:" + "a" * 64
    assert messages(policies.IMAGES_PINNED, [mutate(custom, lambda i: custom_container(i).update(image=digest))]) == []
    bad_digest = mutate(custom, lambda i: custom_container(i).update(image="my-custom-server@sha256:abc"))
    assert_fires(policies.IMAGES_PINNED, [bad_digest], "malformed digest")
    assert messages(policies.IMAGES_PINNED, [custom], requireDigest=False) == []

    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "kserve-controller-manager", "namespace": "kserve"},
        "spec": {
            "template": {"spec": {"containers": [{"name": "manager", "image": "kserve/kserve-controller:v0.20.0"}]}}
        },
    }
    chart_urn = "urn:pulumi:prod::kserve-platform::kubernetes:helm.sh/v4:Chart$kubernetes:apps/v1:Deployment::ctl"
    # Chart-installed images are pinned by the chart version; a tag is enough there, but never 'latest'.
    assert (
        messages(policies.IMAGES_PINNED, [resource("kubernetes:apps/v1:Deployment", deployment, urn=chart_urn)]) == []
    )
    assert_fires(
        policies.IMAGES_PINNED, [resource("kubernetes:apps/v1:Deployment", deployment)], "not pinned by digest"
    )
    latest_deployment = copy.deepcopy(deployment)
    latest_deployment["spec"]["template"]["spec"]["containers"][0]["image"] = "kserve/kserve-controller:latest"
    assert_fires(
        policies.IMAGES_PINNED, [resource("kubernetes:apps/v1:Deployment", latest_deployment, urn=chart_urn)], "latest"
    )
    runtime = {
        "apiVersion": "serving.kserve.io/v1alpha1",
        "kind": "ServingRuntime",
        "metadata": {"name": "custom-mlserver", "namespace": "models-prod"},
        "spec": {"containers": [{"name": "kserve-container", "image": "docker.io/seldonio/mlserver"}]},
    }
    assert_fires(
        policies.IMAGES_PINNED,
        [resource("kubernetes:serving.kserve.io/v1alpha1:ServingRuntime", runtime)],
        "ServingRuntime models-prod/custom-mlserver: spec.containers[kserve-container].image",
        requireDigest=False,
    )


def test_predictor_resources(staging_isvcs):
    assert messages(policies.PREDICTOR_RESOURCES, list(staging_isvcs.values())) == []
    builtin = mutate(staging_isvcs["my-model"], lambda i: i["spec"]["predictor"]["model"].pop("resources"))
    assert_fires(
        policies.PREDICTOR_RESOURCES, [builtin], "spec.predictor.model sets no resources", "models[].resources"
    )
    requests_only = mutate(staging_isvcs["custom-model"], lambda i: custom_container(i)["resources"].pop("limits"))
    assert_fires(
        policies.PREDICTOR_RESOURCES,
        [requests_only],
        "containers[kserve-container] is missing resources limits.cpu, limits.memory",
    )
    runtime = {
        "apiVersion": "serving.kserve.io/v1alpha1",
        "kind": "ClusterServingRuntime",
        "metadata": {"name": "custom-mlserver"},
        "spec": {
            "initContainers": [{"name": "fetch", "image": "busybox:1.36"}],
            "containers": [{"name": "kserve-container", "image": "seldonio/mlserver:1.7.1"}],
        },
    }
    found = assert_fires(
        policies.PREDICTOR_RESOURCES,
        [resource("kubernetes:serving.kserve.io/v1alpha1:ClusterServingRuntime", runtime)],
        "runtimes[].resources",
    )
    assert len(found) == 1  # init containers are not serving containers


def test_min_replicas(staging_isvcs):
    assert messages(policies.MIN_REPLICAS, list(staging_isvcs.values())) == []
    one = mutate(staging_isvcs["my-model"], lambda i: i["spec"]["predictor"].update(minReplicas=1))
    unset = mutate(staging_isvcs["my-model"], lambda i: i["spec"]["predictor"].pop("minReplicas"))
    assert_fires(policies.MIN_REPLICAS, [one], "spec.predictor.minReplicas is 1", "models[].minReplicas: 2")
    assert_fires(policies.MIN_REPLICAS, [unset], "not set (KServe runs 1)")
    assert_fires(policies.MIN_REPLICAS, [staging_isvcs["custom-model"]], "at least 3", minReplicas=3)


def test_storage_uri_scheme(staging_isvcs):
    assert messages(policies.STORAGE_URI, list(staging_isvcs.values())) == []
    ftp = mutate(staging_isvcs["my-model"], lambda i: i["spec"]["predictor"]["model"].update(storageUri="ftp://h/m"))
    assert_fires(policies.STORAGE_URI, [ftp], "spec.predictor.model.storageUri 'ftp://h/m' uses 'ftp://'")
    assert_fires(policies.STORAGE_URI, [staging_isvcs["my-model"]], "one of s3://", allowedSchemes=["s3"])
    prefixed = mutate(
        staging_isvcs["my-model"], lambda i: i["spec"]["predictor"]["model"].update(storageUri="minio-models://m")
    )
    assert messages(policies.STORAGE_URI, [prefixed], allowedPrefixes=["minio-models://"]) == []
    env_uri = mutate(
        staging_isvcs["custom-model"],
        lambda i: custom_container(i)["env"].append({"name": "STORAGE_URI", "value": "/mnt/local/model"}),
    )
    assert_fires(policies.STORAGE_URI, [env_uri], "env[STORAGE_URI] '/mnt/local/model' uses no scheme")


def test_storage_uris_in_lists_are_judged_as_the_analyzer_hands_them(staging_isvcs):
    # The analyzer hands policies pulumi_policy's proxies: a list arrives as a Sequence that is not a `list`. The
    # policy skipped every list, so a custom image's STORAGE_URI (in containers[].env) and storageUris entries went
    # unjudged under the real engine (tests/end_to_end/test_policy_pack.py::test_a_custom_images_storage_location_is_judged).
    custom = mutate(
        staging_isvcs["custom-model"],
        lambda i: custom_container(i)["env"].append({"name": "STORAGE_URI", "value": "gs://bucket/model"}),
    )
    handed = as_the_engine_hands_them(custom.inputs)
    assert not isinstance(handed["spec"]["predictor"]["containers"], list | dict)
    assert_fires(
        policies.STORAGE_URI,
        [custom],
        "spec.predictor.containers[0].env[STORAGE_URI] 'gs://bucket/model' uses 'gs://'",
        allowedSchemes=["s3"],
    )
    several = mutate(
        staging_isvcs["my-model"],
        lambda i: i["spec"]["predictor"]["model"].update(
            storageUris=[{"uri": "s3://models/a", "mountPath": "/mnt/a"}, {"uri": "ftp://h/b", "mountPath": "/mnt/b"}]
        ),
    )
    found = assert_fires(
        policies.STORAGE_URI, [several], "storageUris[1] 'ftp://h/b' uses 'ftp://'", allowedSchemes=["s3", "gs"]
    )
    assert not any("s3://models/a" in message for message in found)


def test_no_plain_secrets_in_env(staging_isvcs):
    custom = staging_isvcs["custom-model"]
    assert messages(policies.NO_PLAIN_SECRETS, list(staging_isvcs.values())) == []

    def with_env(*env: dict[str, Any]) -> RegisteredResource:
        return mutate(custom, lambda i: custom_container(i)["env"].extend(env))

    assert_fires(
        policies.NO_PLAIN_SECRETS,
        [with_env({"name": "AWS_SECRET_ACCESS_KEY", "value": "wJalrXUtnFEMI"})],
        "env[AWS_SECRET_ACCESS_KEY] looks like a credential",
        "valueFrom.secretKeyRef",
    )
    assert_fires(policies.NO_PLAIN_SECRETS, [with_env({"name": "db-password", "value": "hunter2"})], "db-password")
    assert_fires(
        policies.NO_PLAIN_SECRETS,
        [with_env({"name": "S3_CONFIG", "value": "id=AKIAIOSFODNN7EXAMPLE"})],
        "an AWS access key id",
    )
    safe = with_env(
        {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}},
        {"name": "HF_TOKEN", "value": "$(HF_TOKEN_FROM_SECRET)"},
        {"name": "MONKEY_BUSINESS", "value": "bananas"},
        {"name": "EMPTY_SECRET", "value": ""},
    )
    assert messages(policies.NO_PLAIN_SECRETS, [safe]) == []
    allowed = with_env({"name": "MLSERVER_MODEL_KEY", "value": "iris"})
    assert messages(policies.NO_PLAIN_SECRETS, [allowed], allowedNames=["MLSERVER_MODEL_KEY"]) == []
    job = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "sync", "namespace": "models-prod"},
        "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [
            {"name": "sync", "image": "sync:1.0.0", "env": [{"name": "GITHUB_TOKEN", "value": "ghp_x"}]}
        ]}}}}},
    }  # fmt: skip
    assert_fires(policies.NO_PLAIN_SECRETS, [resource("kubernetes:batch/v1:CronJob", job)], "CronJob models-prod/sync")


def test_isvc_host_length(staging_isvcs):
    assert messages(policies.ISVC_HOST_LENGTH, list(staging_isvcs.values())) == []
    long_name = "a" * 37
    long = mutate(staging_isvcs["my-model"], lambda i: i["metadata"].update(name=long_name))
    # 37 + len("-predictor-") 11 + len("models-staging") 14 = 62: fits; a transformer's host does not (64).
    assert messages(policies.ISVC_HOST_LENGTH, [long]) == []
    with_transformer = mutate(long, lambda i: i["spec"].update(transformer={"containers": []}))
    assert_fires(policies.ISVC_HOST_LENGTH, [with_transformer], "transformer host label", "by 1 characters")
    longer = mutate(long, lambda i: i["metadata"].update(namespace="models-production"))
    assert_fires(
        policies.ISVC_HOST_LENGTH, [longer], "has 65 characters", "shorten models[].name or models[].namespace"
    )


def test_kserve_crds_retained():
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "inferenceservices.serving.kserve.io"},
        "spec": {"group": "serving.kserve.io", "names": {"kind": "InferenceService"}},
    }
    crd_type = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"
    assert_fires(
        policies.CRDS_RETAINED, [resource(crd_type, crd, "isvc-crd")], "inferenceservices.serving.kserve.io", "keep"
    )
    assert messages(policies.CRDS_RETAINED, [resource(crd_type, crd, "isvc-crd", protect=True)]) == []
    kept = copy.deepcopy(crd)
    kept["metadata"]["annotations"] = {"helm.sh/resource-policy": "keep"}
    assert messages(policies.CRDS_RETAINED, [resource(crd_type, kept)]) == []
    other = copy.deepcopy(crd)
    other["spec"]["group"] = "gateway.networking.k8s.io"
    assert messages(policies.CRDS_RETAINED, [resource(crd_type, other)]) == []
    # The chart itself is not judged: its CRDs are (an unprotected chart is what makes destroy possible).
    chart = {"chart": "oci://ghcr.io/kserve/charts/kserve-crd", "version": "v0.20.0", "namespace": "kserve"}
    assert messages(policies.CRDS_RETAINED, [resource("kubernetes:helm.sh/v4:Chart", chart, "kserve-crd")]) == []


@pytest.mark.parametrize("stack", STACKS)
def test_kserve_crds_of_every_stack_are_retained_not_protected_in_dev(stack, run_stack):
    require_rendering()
    run = run_stack(stack)
    crds = [c for c in chart_children(run) if policies.is_kserve_crd(c.inputs)]
    assert len(crds) == 6
    assert all(c.retain_on_delete for c in crds)
    assert messages(policies.CRDS_RETAINED, crds) == []
    assert all(c.protect is (stack == "prod") for c in crds)


def test_kserve_crds_deleted_on_uninstall_are_reported(run_config):
    # The user's opt-in is visible to the pack: prod's mandatory level refuses it.
    require_rendering()
    run = run_config({"kserve": {"deleteCrdsOnUninstall": True}})
    crds = [c for c in chart_children(run) if policies.is_kserve_crd(c.inputs)]
    assert crds and not any(c.retain_on_delete for c in crds)
    assert len(assert_fires(policies.CRDS_RETAINED, crds, "deleteCrdsOnUninstall")) == len(crds)


# --- chart children: what each policy judges -------------------------------------------------------------------------


def _child(run, kind: str, name: str) -> RegisteredResource:
    found = [c for c in chart_children(run) if c.inputs["kind"] == kind and c.inputs["metadata"]["name"] == name]
    assert len(found) == 1, (kind, name, len(found))
    return found[0]


def test_secret_names_in_chart_env_are_not_credentials_but_credentials_are(run_stack):
    require_rendering()
    controller = _child(run_stack("staging"), "Deployment", "kserve-controller-manager")
    env = controller.inputs["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "SECRET_NAME", "value": "kserve-webhook-server-cert"} in env
    assert messages(policies.NO_PLAIN_SECRETS, [controller]) == []

    def with_env(*added: dict[str, Any]) -> RegisteredResource:
        return mutate(controller, lambda i: i["spec"]["template"]["spec"]["containers"][0]["env"].extend(added))

    assert_fires(policies.NO_PLAIN_SECRETS, [with_env({"name": "WEBHOOK_TOKEN", "value": "s3cr3t"})], "WEBHOOK_TOKEN")
    assert_fires(
        policies.NO_PLAIN_SECRETS, [with_env({"name": "CERT_NAME", "value": "AKIAIOSFODNN7EXAMPLE"})], "AWS access"
    )
    references = with_env(
        {"name": "TOKEN_PATH", "value": "/var/run/secrets/token"},
        {"name": "TLS_KEY_FILE", "value": "/etc/tls/tls.key"},
        {"name": "PASSWORD_SECRET_REF", "value": "db-credentials"},
    )
    assert messages(policies.NO_PLAIN_SECRETS, [references]) == []


def test_disabled_runtimes_and_istio_injected_proxies_are_not_unpinned_images(run_stack, run_config):
    require_rendering()
    vllm = _child(run_stack("staging"), "ClusterServingRuntime", "kserve-vllmserver")
    # The chart ships vLLM at 'latest'; the program disables every runtime it was not asked for.
    assert vllm.inputs["spec"]["containers"][0]["image"].endswith(":latest") and vllm.inputs["spec"]["disabled"]
    assert messages(policies.IMAGES_PINNED, [vllm]) == []
    enabled = mutate(vllm, lambda i: i["spec"].update(disabled=False))
    assert_fires(policies.IMAGES_PINNED, [enabled], "kserve-vllmserver", "moving tag 'latest'")
    knative = run_config({"kserve": {"deploymentMode": "Knative"}})
    gateway = [
        c
        for c in chart_children(knative, without=frozenset({"knative-operator-v1.21.1.tgz"}))
        if c.inputs["kind"] == "Deployment" and c.inputs["metadata"]["name"] == "istio-ingressgateway"
    ]
    assert len(gateway) == 1 and gateway[0].inputs["spec"]["template"]["spec"]["containers"][0]["image"] == "auto"
    assert messages(policies.IMAGES_PINNED, gateway) == []
    plain = mutate(gateway[0], lambda i: i["spec"]["template"]["metadata"].update(labels={}, annotations={}))
    assert_fires(policies.IMAGES_PINNED, [plain], "'auto' has no tag")


def test_config_files_are_valid_json_objects():
    for path in (POLICY_DIR / "config").glob("*.json"):
        assert isinstance(json.loads(path.read_text()), dict), path
