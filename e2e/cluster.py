"""A real Kubernetes control plane with KServe's admission webhooks and fake nodes, on loopback, for the end-to-end
tests.

Runs etcd, kube-apiserver (RBAC; default admission plugins incl. PodSecurity and the webhook plugins),
kube-controller-manager, kube-scheduler, kwok and KServe's manager (controller + webhooks, out of cluster) as local
processes on free ports chosen at start, all bound to 127.0.0.1 except KServe's webhook server (cmd/manager has no
flag for its host, so it listens on every interface at its port). The harness makes a CA, the apiserver's serving and
admin client certs, the service-account key pair and KServe's webhook serving cert, and registers KServe's own webhook
configurations (from its chart) by URL.

No kubelet runs. kwok plays the kubelet of a few fake Nodes (FAKE_NODES): it keeps them Ready and moves every Pod the
scheduler binds to them to Running and Ready (init containers Completed) without starting a container. So KServe's
own chain runs for real up to the pod: the controller creates the predictor Deployment, kube-controller-manager its
ReplicaSet and Pods, KServe's pod mutator adds the storage initializer, the scheduler places the Pods by their
requests, the Deployment turns Available and KServe marks the InferenceService Ready. No image is pulled, no model is
downloaded or loaded, nothing answers a request.

    python3 -m e2e.cluster up --state DIR     (prints `export KUBECONFIG=...`; Ctrl-C or `down` stops it)
    python3 -m e2e.cluster down --state DIR
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime
import ipaddress
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from e2e.toolchain import BUILD_COMMAND, cache_root, tool_dir, versions

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
LOOPBACK = "127.0.0.1"
# The namespace KServe's manager reads its `inferenceservice-config` from (POD_NAMESPACE, as in its chart).
KSERVE_NAMESPACE = "kserve"
FIELD_MANAGER = "e2e-cluster"
STATE_MARKER = ".e2e-cluster-state"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ToolchainMissing(RuntimeError):
    """A binary or upstream file the harness runs is not there; the message names what builds or provides it."""


class ClusterFailed(RuntimeError):
    """A component did not come up; the message names it and the tail of its log."""


@dataclass(frozen=True)
class Binaries:
    etcd: Path
    kube_apiserver: Path
    kube_controller_manager: Path
    kube_scheduler: Path
    kubectl: Path
    kwok: Path
    kserve_manager: Path

    @property
    def kwok_stages(self) -> list[Path]:
        """kwok's Stages: the ones kwokctl gives its controller by default (node initialisation and heartbeat by
        lease; pods to Ready, completed, deleted), copied from the same release by e2e/toolchain/cluster.sh."""
        return sorted((self.kwok.parent / "stages").glob("*.yaml"))


def binaries() -> Binaries:
    """The pinned binaries built by `bash e2e/toolchain.sh cluster`, or ToolchainMissing naming that command."""
    kube = tool_dir("kubernetes", "KUBERNETES_VERSION")
    found = Binaries(
        etcd=tool_dir("etcd", "ETCD_VERSION") / "etcd",
        kube_apiserver=kube / "kube-apiserver",
        kube_controller_manager=kube / "kube-controller-manager",
        kube_scheduler=kube / "kube-scheduler",
        kubectl=kube / "kubectl",
        kwok=tool_dir("kwok", "KWOK_VERSION") / "kwok",
        kserve_manager=tool_dir("kserve-manager", "KSERVE_MANAGER_VERSION") / "manager",
    )
    missing = [path.name for path in vars(found).values() if not os.access(path, os.X_OK)]
    if not found.kwok_stages:
        missing.append("kwok's stages")
    if missing:
        raise ToolchainMissing(
            f"the cluster toolchain is not built in {cache_root()} (no {', '.join(missing)}): "
            f"run `{BUILD_COMMAND} cluster`"
        )
    return found


def kserve_files(shared: Path = SHARED) -> Path:
    folder = shared / "kserve" / versions()["KSERVE_MANAGER_VERSION"]
    if not (folder / "crds").is_dir():
        raise ToolchainMissing(f"KServe's upstream files are not at {folder} (CI has ../shared beside the checkout)")
    return folder


def free_ports(names: list[str]) -> dict[str, int]:
    """Distinct free loopback ports: every probe socket stays bound until all are chosen."""
    probes = []
    try:
        for _ in names:
            probe = socket.socket()
            probe.bind((LOOPBACK, 0))
            probes.append(probe)
        return {name: int(probe.getsockname()[1]) for name, probe in zip(names, probes, strict=True)}
    finally:
        for probe in probes:
            probe.close()


# --- certificates -----------------------------------------------------------------------------------------------


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem_key(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _certificate(
    subject: x509.Name,
    key: rsa.RSAPrivateKey,
    issuer: tuple[x509.Certificate, rsa.RSAPrivateKey] | None,
    *,
    server: bool = False,
    client: bool = False,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer[0].subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
    )
    if issuer is None:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        usages = [
            oid
            for wanted, oid in (
                (server, x509.ExtendedKeyUsageOID.SERVER_AUTH),
                (client, x509.ExtendedKeyUsageOID.CLIENT_AUTH),
            )
            if wanted
        ]
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    if server:
        names: list[x509.GeneralName] = [
            x509.IPAddress(ipaddress.ip_address(LOOPBACK)),
            x509.DNSName("localhost"),
            x509.DNSName("kubernetes"),
            x509.DNSName("kubernetes.default.svc"),
        ]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    signing_key = issuer[1] if issuer else key
    return builder.sign(signing_key, hashes.SHA256())


def _name(common_name: str, organization: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    return x509.Name(attributes)


@dataclass(frozen=True)
class Pki:
    folder: Path

    @property
    def ca(self) -> Path:
        return self.folder / "ca.crt"

    def pair(self, name: str) -> tuple[Path, Path]:
        return self.folder / f"{name}.crt", self.folder / f"{name}.key"


def make_pki(folder: Path) -> Pki:
    """A throwaway CA; serving certs for the apiserver and KServe's webhook (127.0.0.1), an admin client cert
    (group system:masters) and the service-account signing key pair."""
    folder.mkdir(parents=True)
    ca_key = _key()
    ca_cert = _certificate(_name("kserve-platform e2e CA"), ca_key, None)
    pki = Pki(folder)
    pki.ca.write_bytes(_pem_cert(ca_cert))
    (folder / "ca.key").write_bytes(_pem_key(ca_key))
    for name, subject, server, client in (
        ("apiserver", _name("kube-apiserver"), True, False),
        ("admin", _name("kubernetes-admin", "system:masters"), False, True),
        ("webhook", _name("kserve-webhook-server"), True, False),
    ):
        key = _key()
        cert_path, key_path = pki.pair(name)
        cert_path.write_bytes(_pem_cert(_certificate(subject, key, (ca_cert, ca_key), server=server, client=client)))
        key_path.write_bytes(_pem_key(key))
    sa_key = _key()
    (folder / "sa.key").write_bytes(_pem_key(sa_key))
    (folder / "sa.pub").write_bytes(
        sa_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return pki


def write_kubeconfig(path: Path, server: str, pki: Pki) -> None:
    cert, key = pki.pair("admin")
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "e2e", "cluster": {"server": server, "certificate-authority": str(pki.ca)}}],
        "users": [{"name": "admin", "user": {"client-certificate": str(cert), "client-key": str(key)}}],
        "contexts": [{"name": "e2e", "context": {"cluster": "e2e", "user": "admin"}}],
        "current-context": "e2e",
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))


# --- KServe's own objects, adapted to a manager outside the cluster ------------------------------------------------


def webhook_configurations(kserve: Path, webhook_url: str, ca_bundle: bytes) -> list[dict[str, Any]]:
    """KServe's Mutating/ValidatingWebhookConfigurations from its chart, each service reference replaced by the URL
    of the manager on loopback and the CA that signed its serving cert (cert-manager injects it in a cluster)."""
    chart_file = kserve / "charts" / "kserve-resources" / "files" / "kserve" / "resources.yaml"
    found = []
    for doc in yaml.load_all(chart_file.read_text(encoding="utf-8"), Loader=_Loader):
        if not doc or doc.get("kind") not in {"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"}:
            continue
        doc["metadata"].pop("annotations", None)
        doc["metadata"].pop("creationTimestamp", None)
        for hook in doc["webhooks"]:
            service = hook["clientConfig"].pop("service")
            hook["clientConfig"] = {
                "url": webhook_url + service["path"],
                "caBundle": base64.b64encode(ca_bundle).decode(),
            }
        found.append(doc)
    if not found:
        raise ToolchainMissing(f"no webhook configurations in {chart_file}")
    return found


def inferenceservice_config(kserve: Path, deployment_mode: str) -> dict[str, Any]:
    """KServe's `inferenceservice-config`, with `deploy.defaultDeploymentMode` set as the chart's
    `kserve.controller.deploymentMode` value sets it (the project's installs default to Standard), and the ingress
    settings of a cluster without Istio or a Gateway API controller (see INGRESS_SETTINGS)."""
    config_map = yaml.load((kserve / "install" / "inferenceservice-config.yaml").read_text(), Loader=_Loader)
    config_map["metadata"]["namespace"] = KSERVE_NAMESPACE
    config_map["data"]["deploy"] = json.dumps({"defaultDeploymentMode": deployment_mode})
    ingress = json.loads(config_map["data"]["ingress"])
    ingress.update(INGRESS_SETTINGS)
    config_map["data"]["ingress"] = json.dumps(ingress, indent=2)
    return config_map


# In Standard mode an InferenceService is Ready when PredictorReady (its predictor Deployment Available) and
# IngressReady are True (v1beta1 conditionSet). With `enableGatewayApi` KServe's HTTPRoute reconciler sets IngressReady
# only once a Gateway controller has accepted the route (isHTTPRouteReady reads the route's parent conditions), and
# no Gateway controller runs here. With Kubernetes Ingress (the project's `ingress.mode: ingressClass`) KServe creates
# the Ingress once the predictor is Ready and then sets IngressReady itself, whether or not an ingress controller
# serves the class: that is the path the harness takes. No Istio either, so no VirtualService.
INGRESS_SETTINGS: dict[str, Any] = {"enableGatewayApi": False, "disableIstioVirtualHost": True}


# --- fake nodes (kwok) ----------------------------------------------------------------------------------------------

# kwok manages the Nodes carrying this annotation (its --manage-nodes-with-annotation-selector).
KWOK_NODE_ANNOTATION = ("kwok.x-k8s.io/node", "fake")
# Three nodes in three zones (the committed prod stack spreads a model across zones), each with room for the largest
# generated stack of the engine benchmark: 1000 models of MLServer's default 1 CPU / 2 GiB plus the storage
# initializer, and the committed stacks' few replicas of up to 2 CPU / 4 GiB.
FAKE_NODES = ("kwok-node-a", "kwok-node-b", "kwok-node-c")
# In canonical quantities, as the API server writes them back (1k = 1000 CPUs, 1000 pods).
FAKE_NODE_ALLOCATABLE = {"cpu": "1k", "memory": "4Ti", "pods": "1k", "ephemeral-storage": "10Ti"}


def fake_node(index: int, name: str) -> dict[str, Any]:
    """A Node as a kubelet would register it, with the annotation kwok manages and a pod CIDR of its own (kwok hands
    out pod IPs from it)."""
    zone = f"e2e-zone-{name.rpartition('-')[2]}"
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {KWOK_NODE_ANNOTATION[0]: KWOK_NODE_ANNOTATION[1]},
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "topology.kubernetes.io/zone": zone,
                "type": "kwok",
            },
        },
        "spec": {"podCIDR": f"10.244.{index * 16}.0/20"},
        "status": {"allocatable": FAKE_NODE_ALLOCATABLE, "capacity": FAKE_NODE_ALLOCATABLE},
    }


def cluster_storage_container(kserve: Path) -> dict[str, Any]:
    """The `default` ClusterStorageContainer exactly as KServe's kserve-resources chart (the project's install)
    renders it with its default values: files/common/storagecontainer.yaml deep-merged with storagecontainer-patch.yaml,
    which sets the image, the resources and `kserve.storage.containerSecurityContext`.

    That security context (no privilege escalation, every capability dropped, non-root) is what lets KServe's pod
    mutator inject a storage initializer that the program's `restricted` model namespaces admit: PodSecurity checks
    allowPrivilegeEscalation and capabilities on every container, and a pod-level context cannot set them. KServe's
    release manifests (config/storagecontainers/default.yaml) carry no security context, and without any
    ClusterStorageContainer the initializer comes from `inferenceservice-config`, without one too: on such a KServe,
    Pod creation in a `restricted` namespace is refused."""
    chart = kserve / "charts" / "kserve-resources"
    base = yaml.load((chart / "files" / "common" / "storagecontainer.yaml").read_text(), Loader=_Loader)
    patch_template = (chart / "files" / "common" / "storagecontainer-patch.yaml").read_text()
    values = yaml.load((chart / "values.yaml").read_text(), Loader=_Loader)["kserve"]
    storage = values["storage"]
    # The three values the patch template reads, by the names it reads them: a changed template fails here.
    for used in (
        ".Values.kserve.storage.image",
        ".Values.kserve.storage.resources",
        "storage.containerSecurityContext",
    ):
        if used not in patch_template:
            raise ToolchainMissing(f"{chart}/files/common/storagecontainer-patch.yaml no longer reads {used}")
    container = base["spec"]["container"]
    container["image"] = f"{storage['image']}:{storage['tag'] or values['version']}"
    container["resources"] = storage["resources"]
    container["securityContext"] = storage["containerSecurityContext"]
    return base


def cluster_serving_runtimes(kserve: Path) -> list[dict[str, Any]]:
    """KServe's built-in ClusterServingRuntimes (kserve-mlserver, kserve-sklearnserver, ...), as its install has."""
    text = (kserve / "install" / "kserve-cluster-resources.yaml").read_text(encoding="utf-8")
    return [doc for doc in yaml.load_all(text, Loader=_Loader) if doc and doc.get("kind") == "ClusterServingRuntime"]


# --- processes ------------------------------------------------------------------------------------------------------


@dataclass
class Cluster:
    """A running loopback cluster. `kubectl(*args)` runs the pinned kubectl against it."""

    state: Path
    kubeconfig: Path
    server: str
    webhook_url: str
    ports: dict[str, int]
    bins: Binaries
    processes: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)
    started_in: float = 0.0

    @property
    def ca(self) -> Path:
        """The cluster's CA certificate (PEM), which signed the API server's and KServe's webhook serving certs."""
        return Pki(self.state / "pki").ca

    def kubectl(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(self.bins.kubectl), "--kubeconfig", str(self.kubeconfig), *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise ClusterFailed(f"kubectl {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
        return result

    def apply(
        self, objects: list[dict[str, Any]], *, dry_run: bool = False, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """`kubectl apply --server-side` (field manager e2e-cluster); `dry_run` asks the server to judge only."""
        args = ["apply", "--server-side", f"--field-manager={FIELD_MANAGER}", "--force-conflicts", "-f", "-"]
        if dry_run:
            args.append("--dry-run=server")
        return self.kubectl(*args, input=yaml.safe_dump_all(objects, sort_keys=False), check=check, timeout=timeout)

    def log(self, component: str) -> Path:
        return self.state / "logs" / f"{component}.log"

    def stop(self) -> None:
        """Stop the components in reverse start order (KServe first, etcd last)."""
        for _name, process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self.processes.clear()


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def _spawn(cluster: Cluster, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
    log = cluster.log(name).open("ab")
    process = subprocess.Popen(
        argv,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
        # Its own session: Ctrl-C in the terminal reaches the harness, which stops the components in order.
        start_new_session=True,
    )
    cluster.processes.append((name, process))


def _wait(cluster: Cluster, name: str, ready: Any, timeout: float) -> None:
    process = dict(cluster.processes)[name]
    deadline = time.monotonic() + timeout
    last_error = ""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ClusterFailed(f"{name} exited with {process.returncode}:\n{_tail(cluster.log(name))}")
        try:
            if ready():
                return
        except Exception as error:  # a component still starting refuses connections or answers 5xx
            last_error = str(error)
        time.sleep(0.2)
    raise ClusterFailed(f"{name} not ready after {timeout:.0f} s ({last_error}):\n{_tail(cluster.log(name))}")


def _https_ok(url: str, pki: Pki | None = None) -> bool:
    if pki is None:
        context = ssl._create_unverified_context()
    else:
        context = ssl.create_default_context(cafile=str(pki.ca))
        context.load_cert_chain(*pki.pair("admin"))
    with urllib.request.urlopen(url, context=context, timeout=5) as response:
        return bool(response.status == 200)


def _http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=5) as response:
        return bool(response.status == 200)


def _prepare_state(state: Path) -> None:
    """A fresh state folder: an earlier harness's state is wiped, any other non-empty folder is refused."""
    if state.exists() and any(state.iterdir()):
        if not (state / STATE_MARKER).exists():
            raise ClusterFailed(f"{state} is not empty and not a cluster state folder; give an empty or new folder")
        shutil.rmtree(state)
    state.mkdir(parents=True, exist_ok=True)
    (state / STATE_MARKER).write_text("made by e2e/cluster.py; wiped by its next start\n")
    (state / "logs").mkdir()


def start(state: Path, *, deployment_mode: str = "Standard", shared: Path = SHARED) -> Cluster:
    """Start the cluster in a fresh `state` folder and return once KServe's webhooks answer the API server."""
    began = time.monotonic()
    bins = binaries()
    kserve = kserve_files(shared)
    state = state.resolve()
    _prepare_state(state)
    pki = make_pki(state / "pki")
    ports = free_ports(
        [
            "etcd",
            "etcd-peer",
            "apiserver",
            "controller-manager",
            "scheduler",
            "kwok",
            "webhook",
            "kserve-metrics",
            "kserve-probe",
        ]
    )
    server = f"https://{LOOPBACK}:{ports['apiserver']}"
    cluster = Cluster(
        state=state,
        kubeconfig=state / "kubeconfig",
        server=server,
        webhook_url=f"https://{LOOPBACK}:{ports['webhook']}",
        ports=ports,
        bins=bins,
    )
    write_kubeconfig(cluster.kubeconfig, server, pki)
    try:
        _start_control_plane(cluster, pki)
        _start_fake_nodes(cluster)
        _start_kserve(cluster, pki, kserve, deployment_mode)
    except BaseException:
        cluster.stop()
        raise
    cluster.started_in = time.monotonic() - began
    return cluster


def _start_control_plane(cluster: Cluster, pki: Pki) -> None:
    ports, state = cluster.ports, cluster.state
    etcd_client = f"http://{LOOPBACK}:{ports['etcd']}"
    etcd_peer = f"http://{LOOPBACK}:{ports['etcd-peer']}"
    _spawn(cluster, "etcd", [
        str(cluster.bins.etcd), "--name=e2e", f"--data-dir={state / 'etcd'}",
        f"--listen-client-urls={etcd_client}", f"--advertise-client-urls={etcd_client}",
        f"--listen-peer-urls={etcd_peer}", f"--initial-advertise-peer-urls={etcd_peer}",
        f"--initial-cluster=e2e={etcd_peer}", "--log-level=warn",
    ])  # fmt: skip
    _wait(cluster, "etcd", lambda: _http_ok(f"{etcd_client}/health"), 30)

    apiserver_cert, apiserver_key = pki.pair("apiserver")
    _spawn(cluster, "kube-apiserver", [
        str(cluster.bins.kube_apiserver),
        f"--etcd-servers={etcd_client}",
        f"--bind-address={LOOPBACK}", f"--advertise-address={LOOPBACK}", f"--secure-port={ports['apiserver']}",
        f"--tls-cert-file={apiserver_cert}", f"--tls-private-key-file={apiserver_key}",
        f"--client-ca-file={pki.ca}",
        f"--service-account-key-file={pki.folder / 'sa.pub'}",
        f"--service-account-signing-key-file={pki.folder / 'sa.key'}",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        "--service-cluster-ip-range=10.96.0.0/16",
        "--authorization-mode=RBAC",
        "--allow-privileged=true",
        "--profiling=false",
        f"--cert-dir={state / 'apiserver-certs'}",
    ])  # fmt: skip
    _wait(cluster, "kube-apiserver", lambda: _https_ok(f"{cluster.server}/readyz", pki), 90)

    _spawn(cluster, "kube-controller-manager", [
        str(cluster.bins.kube_controller_manager),
        f"--kubeconfig={cluster.kubeconfig}",
        f"--authentication-kubeconfig={cluster.kubeconfig}",
        f"--authorization-kubeconfig={cluster.kubeconfig}",
        f"--bind-address={LOOPBACK}", f"--secure-port={ports['controller-manager']}",
        f"--cert-dir={state / 'controller-manager-certs'}",
        f"--service-account-private-key-file={pki.folder / 'sa.key'}",
        f"--root-ca-file={pki.ca}",
        "--leader-elect=false",
        "--profiling=false",
        # Client-side rate limit (default 20/s): a benchmark of 1000 models makes a few thousand Deployments,
        # ReplicaSets, Pods and status updates; the limit, not the API server, would set the pace.
        "--kube-api-qps=200", "--kube-api-burst=400",
    ])  # fmt: skip
    # It serves /healthz to anyone, with a self-signed cert it makes in its cert dir.
    _wait(
        cluster,
        "kube-controller-manager",
        lambda: _https_ok(f"https://{LOOPBACK}:{ports['controller-manager']}/healthz"),
        60,
    )

    scheduler_config = state / "kube-scheduler.yaml"
    scheduler_config.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kubescheduler.config.k8s.io/v1",
                "kind": "KubeSchedulerConfiguration",
                # The same client rate limit as the controller manager's, for the same reason.
                "clientConnection": {"kubeconfig": str(cluster.kubeconfig), "qps": 200, "burst": 400},
                "leaderElection": {"leaderElect": False},
            }
        )
    )
    _spawn(cluster, "kube-scheduler", [
        str(cluster.bins.kube_scheduler),
        f"--config={scheduler_config}",
        f"--authentication-kubeconfig={cluster.kubeconfig}",
        f"--authorization-kubeconfig={cluster.kubeconfig}",
        f"--bind-address={LOOPBACK}", f"--secure-port={ports['scheduler']}",
        f"--cert-dir={state / 'scheduler-certs'}",
    ])  # fmt: skip
    _wait(cluster, "kube-scheduler", lambda: _https_ok(f"https://{LOOPBACK}:{ports['scheduler']}/healthz"), 60)


def _start_fake_nodes(cluster: Cluster) -> None:
    """kwok out of cluster with the admin kubeconfig, then the fake Nodes; returns once every one is Ready."""
    home = cluster.state / "kwok-home"
    home.mkdir()
    config_args = [f"--config={stage}" for stage in cluster.bins.kwok_stages]
    _spawn(
        cluster,
        "kwok",
        [
            str(cluster.bins.kwok),
            f"--kubeconfig={cluster.kubeconfig}",
            *config_args,
            "--manage-all-nodes=false",
            f"--manage-nodes-with-annotation-selector={'='.join(KWOK_NODE_ANNOTATION)}",
            "--node-lease-duration-seconds=40",
            f"--node-ip={LOOPBACK}",
            f"--server-address={LOOPBACK}:{cluster.ports['kwok']}",
        ],
        # Its default config (~/.kwok/kwok.yaml) is read when present: a user's own file must not change the harness.
        env={"HOME": str(home)},
    )
    _wait(cluster, "kwok", lambda: _http_ok(f"http://{LOOPBACK}:{cluster.ports['kwok']}/healthz"), 60)
    cluster.apply([fake_node(index, name) for index, name in enumerate(FAKE_NODES)])
    _wait(cluster, "kwok", lambda: _nodes_ready(cluster), 60)


def _nodes_ready(cluster: Cluster) -> bool:
    listed = json.loads(cluster.kubectl("get", "nodes", "-o", "json").stdout)["items"]
    ready = {
        node["metadata"]["name"]
        for node in listed
        if any(c["type"] == "Ready" and c["status"] == "True" for c in node.get("status", {}).get("conditions", []))
        and not any(taint["key"].startswith("node.kubernetes.io/") for taint in node["spec"].get("taints", []))
    }
    return ready >= set(FAKE_NODES)


def _start_kserve(cluster: Cluster, pki: Pki, kserve: Path, deployment_mode: str) -> None:
    cluster.kubectl("apply", "--server-side", f"--field-manager={FIELD_MANAGER}", "-f", str(kserve / "crds"))
    crds = _crd_names(kserve)
    _wait(cluster, "kube-apiserver", lambda: _established(cluster, crds), 120)
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": KSERVE_NAMESPACE}}
    cluster.apply([namespace, inferenceservice_config(kserve, deployment_mode)])

    # controller-runtime's webhook server reads tls.crt/tls.key from $TMPDIR/k8s-webhook-server/serving-certs.
    manager_tmp = cluster.state / "kserve-tmp"
    cert_dir = manager_tmp / "k8s-webhook-server" / "serving-certs"
    cert_dir.mkdir(parents=True)
    webhook_cert, webhook_key = pki.pair("webhook")
    shutil.copy(webhook_cert, cert_dir / "tls.crt")
    shutil.copy(webhook_key, cert_dir / "tls.key")
    ports = cluster.ports
    _spawn(
        cluster,
        "kserve-manager",
        [
            str(cluster.bins.kserve_manager),
            f"--metrics-addr={LOOPBACK}:{ports['kserve-metrics']}",
            f"--health-probe-addr={LOOPBACK}:{ports['kserve-probe']}",
            f"--webhook-port={ports['webhook']}",
            "--leader-elect=false",
        ],
        env={"KUBECONFIG": str(cluster.kubeconfig), "POD_NAMESPACE": KSERVE_NAMESPACE, "TMPDIR": str(manager_tmp)},
    )
    _wait(cluster, "kserve-manager", lambda: _http_ok(f"http://{LOOPBACK}:{ports['kserve-probe']}/readyz"), 120)
    cluster.apply(webhook_configurations(kserve, cluster.webhook_url, pki.ca.read_bytes()))
    _wait(cluster, "kserve-manager", lambda: _defaulting_webhook_answers(cluster), 30)
    # Through the live ClusterServingRuntime validator, as a real install creates them.
    cluster.apply([*cluster_serving_runtimes(kserve), cluster_storage_container(kserve)])


def _established(cluster: Cluster, crds: list[str]) -> bool:
    listed = json.loads(cluster.kubectl("get", "crd", *crds, "-o", "json").stdout)["items"]
    return len(listed) == len(crds) and all(
        any(c["type"] == "Established" and c["status"] == "True" for c in crd.get("status", {}).get("conditions", []))
        for crd in listed
    )


def _crd_names(kserve: Path) -> list[str]:
    names = []
    for path in sorted((kserve / "crds").glob("*.yaml")):
        for doc in yaml.load_all(path.read_text(encoding="utf-8"), Loader=_Loader):
            if doc and doc.get("kind") == "CustomResourceDefinition":
                names.append(doc["metadata"]["name"])
    return names


def _defaulting_webhook_answers(cluster: Cluster) -> bool:
    """The API server calls KServe's defaulter once it has seen the webhook configuration: a server-side dry run
    of an InferenceService comes back with the deployment-mode annotation only the defaulter adds."""
    probe = {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "webhook-probe", "namespace": KSERVE_NAMESPACE},
        "spec": {"predictor": {"model": {"modelFormat": {"name": "sklearn"}, "storageUri": "gs://probe/model"}}},
    }
    result = cluster.kubectl(
        "create", "--dry-run=server", "-o", "json", "-f", "-", input=json.dumps(probe), check=False
    )
    if result.returncode != 0:
        raise ClusterFailed(result.stderr.strip())
    annotations = json.loads(result.stdout)["metadata"].get("annotations", {})
    return "serving.kserve.io/deploymentMode" in annotations


# --- command line ---------------------------------------------------------------------------------------------------


def _up(state: Path, deployment_mode: str) -> int:
    cluster = start(state, deployment_mode=deployment_mode)
    (cluster.state / "harness.json").write_text(
        json.dumps({"pid": os.getpid(), "kubeconfig": str(cluster.kubeconfig), "ports": cluster.ports})
    )
    stopping = {"now": False}

    def stop_on_signal(signum: int, frame: object) -> None:
        stopping["now"] = True

    signal.signal(signal.SIGINT, stop_on_signal)
    signal.signal(signal.SIGTERM, stop_on_signal)
    print(f"# cluster up in {cluster.started_in:.1f} s; logs in {state / 'logs'}; stop with Ctrl-C or "
          f"`python3 -m e2e.cluster down --state {state}`", file=sys.stderr)  # fmt: skip
    print(f"export KUBECONFIG={cluster.kubeconfig}", flush=True)
    try:
        while not stopping["now"]:
            for name, process in cluster.processes:
                if process.poll() is not None:
                    print(f"# {name} exited with {process.returncode}; see {cluster.log(name)}", file=sys.stderr)
                    return 1
            time.sleep(0.5)
    finally:
        cluster.stop()
    return 0


def _down(state: Path) -> int:
    info = state / "harness.json"
    if not info.exists():
        print(f"no running cluster recorded in {state}", file=sys.stderr)
        return 1
    pid = int(json.loads(info.read_text())["pid"])
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            os.kill(pid, 0)
            time.sleep(0.2)
        print(f"harness process {pid} still running after 20 s", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m e2e.cluster", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start a fresh cluster and keep it running until Ctrl-C or `down`")
    up.add_argument("--state", type=Path, default=Path(tempfile.gettempdir()) / "kserve-platform-cluster")
    up.add_argument("--deployment-mode", default="Standard", choices=["Standard", "Knative"])
    down = commands.add_parser("down", help="stop the cluster started with `up --state DIR`")
    down.add_argument("--state", type=Path, default=Path(tempfile.gettempdir()) / "kserve-platform-cluster")
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            return _up(args.state, args.deployment_mode)
        return _down(args.state)
    except (ToolchainMissing, ClusterFailed) as error:
        print(f"e2e.cluster: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
