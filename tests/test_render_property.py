"""Property test: generated model entries through the whole render.

For every generated stack (one to three model entries, either deployment mode, with or without the install):
- the render either succeeds or stops with a ConfigError (all problems, each naming its key), never a traceback;
- every object of a render the config accepted passes `apiserver_checker`, an independent reading of the Kubernetes
  API server's validation over the RENDERED objects (and the predictor pod KServe builds from them).

The generators mix values at the edges of what the API server accepts (`1Ei`, 63-character names, 253-character
prefixes, int32 limits, `preference: {}`) with values it refuses (trailing newlines, `gpu`, `1e1.5`, `..x`,
namespaces the install or the cluster owns). `rendered_objects` is the seam for a real API server: the objects
it returns can be dry-run applied to a cluster with the KServe CRDs once the end-to-end harness runs them.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from apiserver_checker import problems
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.errors import ConfigError
from config.stack import PROJECT
from offline import manifests
from offline.program import run_program
from offline.stackfile import StackSettings

# Kept small enough for the unit suite (about 15 s on a shared two-core machine); raise it locally with
# PROPERTY_EXAMPLES to search harder.
MAX_EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "60"))


def rendered_objects(values: dict[str, Any], stack: str = "property") -> list[dict[str, Any]]:
    """The Kubernetes objects `pulumi up` would apply for these stack values (raises ConfigError when invalid)."""
    config = {f"{PROJECT}:{key}": json.dumps(value) for key, value in values.items()}
    run = run_program(StackSettings(config=config, secret_keys=[]), stack)
    return list(manifests.render(run).objects.values())


# --- generators ------------------------------------------------------------------------------------------------------
LONG_PREFIX = ".".join(["a" * 63] * 3) + "." + "b" * 61  # exactly 253 characters: the longest DNS prefix
dns_label = st.from_regex(r"[a-z]([-a-z0-9]{0,10}[a-z0-9])?", fullmatch=True)
junk = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["", "x\n", "Upper", "a b", "-a", "a-", "..x", "a/b/c", "ü", "x" * 64, LONG_PREFIX + "x/y"]),
)
names = st.one_of(dns_label, dns_label.map(lambda name: f"{name}\n"), st.just("a" * 63), junk)
namespaces = st.one_of(
    st.sampled_from(["models", "team-a"]),
    st.sampled_from(["default", "kube-system", "kserve", "cert-manager", "envoy-gateway-system", "istio-system"]),
    names,
)
qualified = st.one_of(
    st.from_regex(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,8}[A-Za-z0-9])?", fullmatch=True),
    st.sampled_from(["example.com/team", f"{LONG_PREFIX}/x", "app.kubernetes.io/name", "A.B/c", "x" * 63]),
    junk,
)
label_values = st.one_of(st.sampled_from(["", "v1", "a.b_c-d", "x" * 63]), junk)
quantities = st.one_of(
    st.sampled_from(["1", "500m", "2Gi", "1Ei", "8Ei", "1E", "1e3", "0.5", ".5", "1.", "100Mi", "4", "1e-3"]),
    st.sampled_from(["-1", "1e1.5", "2GB", "1K", "m", "1Ei3", "1\n", " 1", "1e2147483648", "0.1n"]),
    st.integers(min_value=0, max_value=4),
)
resource_names = st.sampled_from(
    ["cpu", "memory", "ephemeral-storage", "nvidia.com/gpu", "gpu", "hugepages-2Mi", "example.kubernetes.io/x", "pods"]
)
resources = st.fixed_dictionaries(
    {},
    optional={
        "requests": st.dictionaries(resource_names, quantities, max_size=3),
        "limits": st.dictionaries(resource_names, quantities, max_size=3),
    },
)
env_names = st.one_of(
    st.sampled_from(["LOG_LEVEL", "my.var", "STORAGE_URI", "PROTOCOL", "PYTHONPATH", "MLSERVER_PARALLEL_WORKERS"]),
    st.sampled_from(["..x", ".", "1A", "A=B", "A\n", ""]),
)
value_from = st.one_of(
    st.fixed_dictionaries(
        {"secretKeyRef": st.fixed_dictionaries({"name": names, "key": st.sampled_from(["k", "a/b"])})}
    ),
    st.fixed_dictionaries(
        {"fieldRef": st.fixed_dictionaries({"fieldPath": st.sampled_from(["metadata.name", "spec.containers"])})}
    ),
    st.fixed_dictionaries(
        {
            "resourceFieldRef": st.fixed_dictionaries(
                {"resource": st.sampled_from(["limits.cpu", "limits.gpu"])},
                optional={"divisor": st.sampled_from(["1m", "1", "2"])},
            )
        }
    ),
)
env_entries = st.one_of(
    st.fixed_dictionaries({"name": env_names, "value": st.sampled_from(["v1", "v2", "x", "multi\nline"])}),
    st.fixed_dictionaries({"name": env_names, "valueFrom": value_from}),
)
tolerations = st.fixed_dictionaries(
    {},
    optional={
        "key": st.one_of(st.just(""), qualified),
        "operator": st.sampled_from(["Exists", "Equal", "In"]),
        "value": label_values,
        "effect": st.sampled_from(["NoSchedule", "PreferNoSchedule", "NoExecute", "NoAdmit"]),
        "tolerationSeconds": st.sampled_from([0, 300, 2**63 - 1, 2**63]),
    },
)
node_terms = st.fixed_dictionaries(
    {},
    optional={
        "matchExpressions": st.lists(
            st.fixed_dictionaries(
                {
                    "key": qualified,
                    "operator": st.sampled_from(["In", "Exists", "Gt"]),
                    "values": st.lists(label_values, max_size=2),
                }
            ),
            max_size=2,
        ),
        "matchFields": st.lists(
            st.fixed_dictionaries(
                {
                    "key": st.sampled_from(["metadata.name", "metadata.labels"]),
                    "operator": st.just("In"),
                    "values": st.lists(names, min_size=1, max_size=2),
                }
            ),
            max_size=1,
        ),
    },
)
pod_terms = st.fixed_dictionaries(
    {"topologyKey": qualified},
    optional={
        "labelSelector": st.fixed_dictionaries({"matchLabels": st.dictionaries(qualified, label_values, max_size=2)}),
        "namespaces": st.lists(names, max_size=2),
        "matchLabelKeys": st.lists(qualified, max_size=1),
    },
)
affinities = st.fixed_dictionaries(
    {},
    optional={
        "nodeAffinity": st.fixed_dictionaries(
            {},
            optional={
                "requiredDuringSchedulingIgnoredDuringExecution": st.fixed_dictionaries(
                    {"nodeSelectorTerms": st.lists(node_terms, max_size=2)}
                ),
                "preferredDuringSchedulingIgnoredDuringExecution": st.lists(
                    st.fixed_dictionaries({"weight": st.integers(0, 101), "preference": node_terms}), max_size=2
                ),
            },
        ),
        "podAntiAffinity": st.fixed_dictionaries(
            {},
            optional={
                "preferredDuringSchedulingIgnoredDuringExecution": st.lists(
                    st.fixed_dictionaries({"weight": st.integers(1, 100), "podAffinityTerm": pod_terms}), max_size=1
                )
            },
        ),
    },
)
annotations = st.one_of(
    st.dictionaries(qualified, st.text(max_size=20), max_size=3),
    st.just({"example.com/blob": "x" * (256 * 1024 - 100)}),
)
replicas = st.one_of(st.integers(0, 5), st.sampled_from([-1, 2**31 - 1, 2**31]))
storage_uris = st.sampled_from(
    ["gs://seldon-models/sklearn/iris", "s3://bucket/models/x", "pvc://claim/model", "gs://x\n", "ftp://a/b"]
)


@st.composite
def model_entries(draw: st.DrawFn, index: int) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": draw(st.one_of(st.just(f"model-{index}"), names)), "namespace": draw(namespaces)}
    if draw(st.booleans()):
        entry.update(format="sklearn", storageUri=draw(storage_uris))
    else:
        entry["image"] = draw(st.sampled_from(["registry.example/server:0.1.0", "server:latest", "x:1\n"]))
        if draw(st.booleans()):
            entry["storageUri"] = draw(storage_uris)
    optional = {
        "labels": st.dictionaries(qualified, label_values, max_size=3),
        "annotations": annotations,
        "env": st.lists(env_entries, max_size=3),
        "resources": resources,
        "tolerations": st.lists(tolerations, max_size=2),
        "affinity": affinities,
        "nodeSelector": st.dictionaries(qualified, label_values, max_size=2),
        "imagePullSecrets": st.lists(st.one_of(names, st.just("registry.example.pull")), max_size=2),
        "serviceAccountName": st.one_of(names, st.just("model.reader")),
        "minReplicas": replicas,
        "maxReplicas": replicas,
        "scaleMetric": st.sampled_from(["cpu", "memory", "concurrency"]),
        "scaleTarget": st.one_of(st.integers(1, 100), st.just(2**31)),
    }
    chosen = draw(st.lists(st.sampled_from(sorted(optional)), unique=True, max_size=5))
    for key in chosen:
        entry[key] = draw(optional[key])
    return entry


@st.composite
def stacks(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(1, 3))
    kserve: dict[str, Any] = {"install": draw(st.booleans())}
    if draw(st.integers(0, 3)) == 0:
        kserve["deploymentMode"] = "Knative"
    if draw(st.booleans()):
        kserve["existingNamespaces"] = draw(
            st.lists(st.sampled_from(["default", "shared", "kube-system"]), unique=True)
        )
    values: dict[str, Any] = {"kserve": kserve, "models": [draw(model_entries(index)) for index in range(count)]}
    values["publicStorageUriPrefixes"] = ["gs://seldon-models/", "s3://bucket/", "pvc://"]
    return values


# --- the property ----------------------------------------------------------------------------------------------------
OUTCOMES: dict[str, int] = {"accepted": 0, "refused": 0}


@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(stacks())
def test_every_accepted_entry_renders_objects_the_api_server_accepts(values: dict[str, Any]) -> None:
    try:
        objects = rendered_objects(values)
    except ConfigError as error:
        OUTCOMES["refused"] += 1
        assert error.issues, "a ConfigError lists its problems"
        assert all(issue.path and issue.message for issue in error.issues)
        return
    OUTCOMES["accepted"] += 1
    found = problems(objects)
    assert found == [], "the config accepted objects the API server refuses:\n" + "\n".join(found)


def test_the_generators_reach_both_outcomes() -> None:
    # Runs after the property (file order): a generator that only ever produced refused configs proves nothing.
    if sum(OUTCOMES.values()) == 0:
        pytest.skip("the property test did not run in this session")
    print(f"property examples: {OUTCOMES}")
    assert OUTCOMES["accepted"] > 0 and OUTCOMES["refused"] > 0, OUTCOMES


# --- the checker can fail: each rule class it checks, on a hand-made object --------------------------------------------
def _isvc(predictor: dict[str, Any], **metadata: Any) -> dict[str, Any]:
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "m", "namespace": "models", **metadata},
        "spec": {"predictor": predictor},
    }


CONTAINER = {"name": "kserve-container", "image": "x:1"}


@pytest.mark.parametrize(
    "obj",
    [
        _isvc({"containers": [CONTAINER]}, namespace="models\n"),
        _isvc({"containers": [CONTAINER]}, labels={"a": "b\n"}),
        _isvc({"containers": [CONTAINER]}, annotations={"bad key": "x"}),
        _isvc({"containers": [CONTAINER]}, annotations={"a": "x" * 262144}),
        _isvc({"containers": [{**CONTAINER, "env": [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]}]}),
        _isvc({"containers": [{**CONTAINER, "resources": {"limits": {"gpu": "1"}}}]}),
        _isvc({"containers": [{**CONTAINER, "resources": {"limits": {"cpu": "500m"}}}]}),  # request 1 from defaults
        _isvc({"containers": [{**CONTAINER, "resources": {"limits": {"memory": "1e1.5"}}}]}),
        _isvc({"containers": [CONTAINER], "minReplicas": 2**31}),
        _isvc({"containers": [CONTAINER], "tolerations": [{"key": "k", "operator": "Exists", "value": "v"}]}),
        _isvc(
            {
                "containers": [CONTAINER],
                "affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1}]}},
            }
        ),
        _isvc({"containers": [CONTAINER], "imagePullSecrets": [{"name": "Bad"}]}),
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a.b"}},
    ],
)
def test_the_checker_refuses_what_the_api_server_refuses(obj: dict[str, Any]) -> None:
    assert problems([obj]) != []


def test_the_checker_accepts_edge_values_the_api_server_accepts() -> None:
    predictor = {
        "containers": [{**CONTAINER, "resources": {"requests": {"memory": "1Ei"}, "limits": {"memory": "8Ei"}}}],
        "minReplicas": 2**31 - 1,
        "affinity": {
            "nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1, "preference": {}}]}
        },
    }
    assert problems([_isvc(predictor, labels={f"{LONG_PREFIX}/x": "x" * 63})]) == []
