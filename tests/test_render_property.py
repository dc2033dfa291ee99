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
from conftest import STACKS
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
# Each stack is drawn either "tame" (values the API server accepts, many at its limits, so that most such stacks
# render and the second half of the property is exercised) or "wild" (any field may also take a refused value).
LONG_PREFIX = ".".join(["a" * 63] * 3) + "." + "b" * 61  # exactly 253 characters: the longest DNS prefix
dns_label = st.from_regex(r"[a-z]([-a-z0-9]{0,10}[a-z0-9])?", fullmatch=True)
JUNK = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["", "x\n", "Upper", "a b", "-a", "a-", "..x", "a/b/c", "ü", "x" * 64, LONG_PREFIX + "x/y"]),
)


class Values:
    """The value strategies for one stack: tame ones only, or tame and refused ones."""

    def __init__(self, wild: bool) -> None:
        def pick(tame: st.SearchStrategy, refused: st.SearchStrategy) -> st.SearchStrategy:
            return st.one_of(tame, refused) if wild else tame

        self.names = pick(st.one_of(dns_label, st.just("a" * 40)), st.one_of(dns_label.map(lambda n: f"{n}\n"), JUNK))
        self.namespaces = pick(
            st.sampled_from(["models", "team-a", "shared"]),
            st.one_of(
                st.sampled_from(["default", "kube-system", "kserve", "cert-manager", "envoy-gateway-system"]),
                st.sampled_from(["istio-system", "knative-serving"]),
                JUNK,
            ),
        )
        self.qualified = pick(
            st.one_of(
                st.from_regex(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,8}[A-Za-z0-9])?", fullmatch=True),
                st.sampled_from(["example.com/team", f"{LONG_PREFIX}/x", "app.kubernetes.io/name", "x" * 63]),
            ),
            st.one_of(st.sampled_from(["A.B/c", "/x", "x/", "a" * 64]), JUNK),
        )
        self.label_values = pick(st.sampled_from(["", "v1", "a.b_c-d", "x" * 63]), JUNK)
        quantities = pick(
            st.one_of(
                st.sampled_from(
                    ["1", "2", "4Gi", "1Ei", "8Ei", "1E", "2e3", "1.5", "1.", "3000Mi", "4", "16Gi", "1e1000000"]
                ),
                st.integers(min_value=1, max_value=8),
            ),
            st.sampled_from(["-1", "1e1.5", "2GB", "1K", "m", "1Ei3", "1\n", " 1", "1e2147483648", "0.1n", "500m"]),
        )
        resource_names = pick(
            st.sampled_from(["cpu", "memory", "ephemeral-storage", "nvidia.com/gpu", "example.kubernetes.io/x"]),
            st.sampled_from(["gpu", "pods", "hugepages-2Mi", "nvidia.com/", "requests.a.com/b"]),
        )
        self.resources = st.fixed_dictionaries(
            {},
            optional={
                "requests": st.dictionaries(resource_names, quantities, max_size=3),
                "limits": st.dictionaries(resource_names, quantities, max_size=3),
            },
        )
        env_names = pick(
            st.sampled_from(["LOG_LEVEL", "my.var", "_X", "a-b"]),
            st.sampled_from(["..x", ".", "1A", "A=B", "A\n", "", "STORAGE_URI", "PYTHONPATH", "PROTOCOL"]),
        )
        value_from = st.one_of(
            st.fixed_dictionaries(
                {
                    "secretKeyRef": st.fixed_dictionaries(
                        {"name": self.names, "key": pick(st.just("k.e-y_1"), st.just("a/b"))}
                    )
                }
            ),
            st.fixed_dictionaries(
                {
                    "fieldRef": st.fixed_dictionaries(
                        {"fieldPath": pick(st.sampled_from(["metadata.name", "status.podIP"]), st.just("spec.x"))}
                    )
                }
            ),
            st.fixed_dictionaries(
                {
                    "resourceFieldRef": st.fixed_dictionaries(
                        {"resource": pick(st.just("limits.cpu"), st.just("limits.gpu"))},
                        optional={"divisor": pick(st.sampled_from(["1m", "1"]), st.just("2"))},
                    )
                }
            ),
        )
        self.env = st.lists(
            st.one_of(
                st.fixed_dictionaries({"name": env_names, "value": st.sampled_from(["v2", "x", "multi\nline"])}),
                st.fixed_dictionaries({"name": env_names, "valueFrom": value_from}),
            ),
            max_size=3,
            unique_by=lambda var: var["name"],
        )
        self.tolerations = st.lists(
            st.one_of(
                st.fixed_dictionaries(
                    {"key": self.qualified, "operator": st.just("Equal"), "value": self.label_values},
                    optional={"effect": st.sampled_from(["NoSchedule", "PreferNoSchedule"])},
                ),
                st.fixed_dictionaries(
                    {"operator": st.just("Exists"), "effect": st.just("NoExecute")},
                    optional={"key": self.qualified, "tolerationSeconds": st.sampled_from([0, 300, 2**53])},
                ),
                pick(
                    st.nothing(),
                    st.fixed_dictionaries(
                        {},
                        optional={
                            "key": st.one_of(st.just(""), self.qualified),
                            "operator": st.sampled_from(["Exists", "Equal", "In"]),
                            "value": self.label_values,
                            "effect": st.sampled_from(["NoSchedule", "NoExecute", "NoAdmit"]),
                            "tolerationSeconds": st.sampled_from([1, 2**63 - 1, 2**63]),
                        },
                    ),
                ),
            ),
            max_size=2,
        )
        requirement = st.one_of(
            st.fixed_dictionaries(
                {"key": self.qualified, "operator": st.just("In"), "values": st.lists(self.label_values, min_size=1)}
            ),
            st.fixed_dictionaries({"key": self.qualified, "operator": st.just("Exists")}),
            pick(
                st.nothing(),
                st.fixed_dictionaries({"key": self.qualified, "operator": st.just("Gt"), "values": st.just([])}),
            ),
        )
        field_requirement = st.fixed_dictionaries(
            {
                "key": pick(st.just("metadata.name"), st.just("metadata.labels")),
                "operator": st.just("In"),
                "values": st.lists(pick(st.just("node-1.example"), JUNK), min_size=1, max_size=1),
            }
        )
        node_term = st.fixed_dictionaries(
            {},
            optional={
                "matchExpressions": st.lists(requirement, max_size=2),
                "matchFields": st.lists(field_requirement, max_size=1),
            },
        )
        pod_term = st.fixed_dictionaries(
            {"topologyKey": self.qualified},
            optional={
                "labelSelector": st.fixed_dictionaries(
                    {"matchLabels": st.dictionaries(self.qualified, self.label_values, max_size=2)}
                ),
                "namespaces": st.lists(self.names, max_size=2),
            },
        )
        self.affinity = st.fixed_dictionaries(
            {},
            optional={
                "nodeAffinity": st.fixed_dictionaries(
                    {},
                    optional={
                        "requiredDuringSchedulingIgnoredDuringExecution": st.fixed_dictionaries(
                            {"nodeSelectorTerms": st.lists(node_term, min_size=1, max_size=2)}
                        ),
                        "preferredDuringSchedulingIgnoredDuringExecution": st.lists(
                            st.fixed_dictionaries(
                                {
                                    "weight": pick(st.integers(1, 100), st.sampled_from([0, 101])),
                                    "preference": node_term,
                                }
                            ),
                            max_size=2,
                        ),
                    },
                ),
                "podAntiAffinity": st.fixed_dictionaries(
                    {},
                    optional={
                        "preferredDuringSchedulingIgnoredDuringExecution": st.lists(
                            st.fixed_dictionaries({"weight": st.integers(1, 100), "podAffinityTerm": pod_term}),
                            max_size=1,
                        )
                    },
                ),
            },
        )
        self.annotations = st.one_of(
            st.dictionaries(self.qualified, st.text(max_size=20), max_size=3),
            pick(st.just({"example.com/blob": "x" * (200 * 1024)}), st.just({"example.com/blob": "x" * (256 * 1024)})),
        )
        self.replicas = pick(st.integers(1, 5), st.sampled_from([-1, 0, 2**31 - 1, 2**31]))
        self.scale_target = pick(st.integers(1, 100), st.sampled_from([101, 2**31]))
        self.storage_uris = pick(
            st.sampled_from(["gs://seldon-models/sklearn/iris", "s3://bucket/models/x", "pvc://claim/model"]),
            st.sampled_from(["gs://x\n", "ftp://a/b", ""]),
        )
        self.images = pick(st.just("registry.example/server:0.1.0"), st.sampled_from(["server:latest", "x:1\n"]))
        self.pull_secrets = st.lists(st.one_of(self.names, st.just("registry.example.pull")), max_size=2)
        self.service_accounts = st.one_of(self.names, st.just("model.reader"))


@st.composite
def model_entries(draw: st.DrawFn, index: int, values: Values) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": f"model-{index}", "namespace": draw(values.namespaces)}
    if draw(st.integers(0, 4)) == 0:
        entry["name"] = draw(values.names)
    if draw(st.booleans()):
        entry.update(format="sklearn", storageUri=draw(values.storage_uris))
    else:
        entry["image"] = draw(values.images)
        if draw(st.booleans()):
            entry["storageUri"] = draw(values.storage_uris)
    optional = {
        "labels": st.dictionaries(values.qualified, values.label_values, max_size=3),
        "annotations": values.annotations,
        "env": values.env,
        "resources": values.resources,
        "tolerations": values.tolerations,
        "affinity": values.affinity,
        "nodeSelector": st.dictionaries(values.qualified, values.label_values, max_size=2),
        "imagePullSecrets": values.pull_secrets,
        "serviceAccountName": values.service_accounts,
        "minReplicas": values.replicas,
        "maxReplicas": values.replicas,
        "scaleTarget": values.scale_target,
    }
    chosen = draw(st.lists(st.sampled_from(sorted(optional)), unique=True, max_size=5))
    for key in chosen:
        entry[key] = draw(optional[key])
    return entry


@st.composite
def stacks(draw: st.DrawFn) -> dict[str, Any]:
    values = Values(wild=draw(st.integers(0, 2)) == 0)
    kserve: dict[str, Any] = {"install": draw(st.booleans())}
    if draw(st.integers(0, 3)) == 0:
        kserve["deploymentMode"] = "Knative"
    if draw(st.booleans()):
        kserve["existingNamespaces"] = draw(
            st.lists(st.sampled_from(["default", "shared", "kube-system"]), unique=True)
        )
    models = [draw(model_entries(index, values)) for index in range(draw(st.integers(1, 3)))]
    return {"kserve": kserve, "models": models, "publicStorageUriPrefixes": ["gs://", "s3://", "pvc://"]}


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


@pytest.mark.parametrize("stack", STACKS)
def test_committed_stacks_pass_the_checker(run_stack, stack: str) -> None:
    found = problems(manifests.render(run_stack(stack)).objects.values())
    assert found == [], "\n".join(found)


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
