"""The committed stacks as the end-to-end tests run them: their config, test values for their secrets, and the
models-only form (`kserve.install: false`) of a stack that installs KServe."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml

from config.kserve import _INSTALL_ONLY
from e2e.pulumi_cli import PROJECT_DIR, PulumiProject
from offline.stackconfig import load_stack_config
from tests.conftest import render

PROJECT = "kserve-platform"
KSERVE_KEY = f"{PROJECT}:kserve"
RENDER_DIR_KEY = "kubernetes:renderYamlToDirectory"
# The unpacked upstream charts (issue 11 item 4): the local chart sources of the installing form.
SHARED = PROJECT_DIR.parent / "shared"
KSERVE_CHARTS = SHARED / "kserve" / "v0.20.0" / "charts"
CERT_MANAGER_CHARTS = SHARED / "deps" / "cert-manager" / "v1.17.0" / "charts"
ENVOY_GATEWAY_CHARTS = SHARED / "deps" / "envoy-gateway" / "v1.8.1" / "charts"
GATEWAY_API_CRDS = SHARED / "deps" / "gateway-api" / "v1.5.1" / "crds"


def committed_stacks() -> list[str]:
    return sorted(path.name.split(".")[1] for path in PROJECT_DIR.glob("Pulumi.*.yaml"))


def committed_config(stack: str) -> tuple[dict[str, Any], list[str]]:
    """A committed stack's plain config and its secret keys: those it holds as `secure:` values (a team's own
    ciphertext, which no test can decrypt) and those its storage credentials read but the file leaves for each team
    to set with `pulumi config set --secret` (the committed files hold none, issue 10 defect 5)."""
    document = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text()) or {}
    plain: dict[str, Any] = {}
    secure: list[str] = []
    for key, value in (document.get("config") or {}).items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            secure.append(key)
        else:
            plain[key] = value
    read = [f"{PROJECT}:{key}" for key in load_stack_config(stack)[1].secret_config_keys()]
    return plain, list(dict.fromkeys([*secure, *read]))


def secret_test_value(key: str) -> str:
    """A recognisable value for a secret key, never found in any committed file (the state-file check looks for it)."""
    marker = f"e2e-plaintext-{key.rpartition(':')[2]}"
    if key.endswith("Json"):
        return json.dumps({"type": "service_account", "project_id": "e2e", "private_key": marker})
    return marker


def models_only(config: dict[str, Any]) -> dict[str, Any]:
    """The stack with `kserve.install: false`: KServe is the cluster's, the program declares namespaces, runtimes,
    credentials and models only. Install-only keys are dropped (config rejects them with install: false)."""
    result = copy.deepcopy(config)
    kserve = {key: value for key, value in (result.get(KSERVE_KEY) or {}).items() if key not in _INSTALL_ONLY}
    kserve["install"] = False
    result[KSERVE_KEY] = kserve
    # With install: false the program cannot know who calls the models: say it (KServe's controller, as the
    # loopback cluster runs it), unless the stack already does.
    namespaces = result.setdefault(f"{PROJECT}:namespaces", {})
    policy = namespaces.setdefault("networkPolicy", {})
    policy.setdefault("allowFromNamespaces", [kserve.get("namespace", "kserve")])
    return result


def with_local_chart_sources(config: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The installing stack with every chart read from the unpacked charts in ../shared (the air-gapped setting users
    need as well) and the Gateway API release manifest from a file of ../shared's Gateway API CRDs, written to
    `folder`. Only the sources of what the stack installs are set (the config refuses the others)."""
    result = copy.deepcopy(config)
    kserve = result.setdefault(KSERVE_KEY, {})
    assert kserve.get("install", True), "the stack does not install KServe"
    kserve["chartRepository"] = str(KSERVE_CHARTS)
    if kserve.get("certManager", {}).get("install", True):
        kserve.setdefault("certManager", {})["chartRepository"] = str(CERT_MANAGER_CHARTS)
    if kserve.get("ingress", {}).get("mode", "gatewayApi") == "gatewayApi":
        gateway_api = kserve.setdefault("ingress", {}).setdefault("gatewayApi", {})
        envoy = gateway_api.setdefault("envoyGateway", {})
        if envoy.get("install", True):
            envoy["chart"] = str(ENVOY_GATEWAY_CHARTS / "gateway-helm")
            envoy["crdsChart"] = str(ENVOY_GATEWAY_CHARTS / "gateway-crds-helm")
        # The release manifest (standard-install.yaml) is the release's CRDs in one file: made from ../shared's.
        manifest = folder / "gateway-api-standard-install.yaml"
        manifest.write_text("".join(f"---\n{path.read_text()}\n" for path in sorted(GATEWAY_API_CRDS.glob("*.yaml"))))
        gateway_api["crdsManifest"] = str(manifest)
    return result


def write_stack_file(path: Path, config: dict[str, Any], secure_keys: list[str]) -> Path:
    """A stack file for the offline render: plain config, and each secret as a ciphertext it cannot decrypt (as in
    the committed files)."""
    document = {"config": {**config, **{key: {"secure": "v1:AAAA:undecryptable"} for key in secure_keys}}}
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def offline_render(stack: str, stack_file: Path, out: Path) -> None:
    result = render("--stack", stack, "--config-file", stack_file, "--out", out, timeout=300)
    assert result.returncode == 0, f"offline render of {stack} failed:\n{result.stdout}\n{result.stderr}"


def read_render(directory: Path) -> dict[str, dict[str, Any]]:
    """Every object of a render directory (`0-crd/`, `1-manifest/`) by its path relative to the directory."""
    objects: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("[01]-*/*.yaml")):
        documents = [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
        assert len(documents) == 1, f"{path} holds {len(documents)} objects, expected one"
        objects[str(path.relative_to(directory))] = documents[0]
    return objects


def stack_on_cluster(stack: str) -> tuple[dict[str, Any], dict[str, str]]:
    """A committed stack's models-only form against a cluster (a stack that renders to a directory, `local`,
    applies to the cluster instead) and test values for its secrets."""
    plain, secret_keys = committed_config(stack)
    config = models_only(plain)
    config.pop(RENDER_DIR_KEY, None)
    return config, {key: secret_test_value(key) for key in secret_keys}


def rendered_models_only(stack: str, config: dict[str, Any], secret_keys: list[str], work: Path) -> list[dict]:
    """The objects the offline render writes for this config (`1-manifest/`), in file order."""
    work.mkdir(parents=True, exist_ok=True)
    stack_file = write_stack_file(work / f"Pulumi.{stack}.yaml", config, secret_keys)
    offline_render(stack, stack_file, work / "render")
    return [
        document
        for path in sorted((work / "render" / "1-manifest").glob("*.yaml"))
        for document in yaml.safe_load_all(path.read_text())
        if document
    ]


def is_custom_resource_group(group: str) -> bool:
    """A CRD's group has a dot and is not one of Kubernetes' own (`*.k8s.io` is reserved for them)."""
    return "." in group and not group.endswith(".k8s.io")


def crd_from_shared(group: str, kind: str, shared: Path) -> dict[str, Any]:
    """The CustomResourceDefinition of `kind` in `group` from the dependency CRDs under ../shared/deps."""
    for path in sorted(shared.glob("deps/*/*/crds/*.yaml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if (
                document
                and document.get("kind") == "CustomResourceDefinition"
                and document["spec"]["group"] == group
                and document["spec"]["names"]["kind"] == kind
            ):
                return document
    raise AssertionError(f"no CRD for {kind}.{group} under {shared / 'deps'}")


def destroy_leftovers(project: PulumiProject, stack: str) -> None:
    """After a failed test on the shared cluster: remove what the stack still holds (protected or not), so the next
    test finds no namespace of this one. Best effort; the test's own failure is the one reported."""
    project.run("state", "unprotect", "--all", "--yes", stack=stack, check=False)
    project.run("destroy", "--yes", "--skip-preview", stack=stack, check=False)
