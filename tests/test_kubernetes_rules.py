"""What the Kubernetes API server refuses, caught as config errors naming the key.

Each rule mirrors a function of the Kubernetes sources (k8s.io/apimachinery, k8s.io/kubernetes
pkg/apis/core/validation, v1.34), named in the test. Many of these fields reach the API server only when KServe
builds the predictor Deployment, after `pulumi up` has reported success, so the config must refuse them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from model_helpers import CUSTOM, IRIS, config_errors, model, objects, only

from config import ConfigError, parse_stack_config
from config.kubernetes import (
    TOTAL_ANNOTATION_SIZE_LIMIT,
    parse_quantity,
    quantity_problem,
)


def errors_of(values: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(values)
    return {issue.path: issue.message for issue in caught.value.issues}


def model_errors(**fields: Any) -> dict[str, str]:
    return errors_of({"models": [model(**fields)]})


def accepts(**fields: Any) -> None:
    parse_stack_config({"models": [model(**fields)]})


# --- resource.ParseQuantity, and the quantity pattern of KServe's CRD ------------------------------------------------
VALID_QUANTITIES = {
    "1Ei": Decimal(2**60),
    "8Ei": Decimal(2**63 - 1),  # binary values are capped at 2^63-1
    "1E": Decimal(10**18),
    "1e3": Decimal(1000),
    "1E3": Decimal(1000),
    "1e+3": Decimal(1000),
    "1e-3": Decimal("0.001"),
    "500m": Decimal("0.5"),
    "0.5": Decimal("0.5"),
    ".5": Decimal("0.5"),
    "1.": Decimal(1),
    "+1": Decimal(1),
    "2Gi": Decimal(2 * 2**30),
    "1.5Gi": Decimal(3 * 2**29),
    "100Mi": Decimal(100 * 2**20),
    "1Ki": Decimal(1024),
    "1k": Decimal(1000),
    "1n": Decimal("1e-9"),
    "1u": Decimal("1e-6"),
    "0.1n": Decimal("1e-9"),  # rounded up to the smallest representable amount
    "0": Decimal(0),
    "12": Decimal(12),
}
INVALID_QUANTITIES = [
    "",
    "1\n",
    " 1",
    "1 ",
    "lots",
    "2GB",
    "1K",  # decimal kilo is lower-case k
    "1ki",
    "1Ei3",
    "1m5",
    "1e",  # an exponent needs digits
    "1e1.5",  # the CRD pattern takes it, ParseQuantity does not
    "m",  # ParseQuantity reads it as 0, the CRD pattern refuses it
    ".",
    "+",
    "１",  # a non-ASCII digit
    "1e2147483648",  # ParseQuantity keeps the exponent as int32
    "0x10",
]


@pytest.mark.parametrize(("text", "value"), VALID_QUANTITIES.items(), ids=VALID_QUANTITIES.keys())
def test_quantity_grammar_accepts_what_the_api_server_accepts(text: str, value: Decimal) -> None:
    assert quantity_problem(text) is None
    assert parse_quantity(text) == value
    accepts(resources={"requests": {"memory": text}, "limits": {"memory": "9Ei"}})


@pytest.mark.parametrize("text", INVALID_QUANTITIES, ids=[repr(text) for text in INVALID_QUANTITIES])
def test_quantity_grammar_refuses_what_the_api_server_refuses(text: str) -> None:
    assert quantity_problem(text) is not None
    errors = model_errors(resources={"limits": {"memory": text}})
    assert (
        "quantity" in errors["models[0].resources.limits.memory"]
        or "exponent" in (errors["models[0].resources.limits.memory"])
    )


def test_negative_quantity_is_refused() -> None:
    assert "must not be negative" in model_errors(resources={"limits": {"cpu": "-1"}})["models[0].resources.limits.cpu"]


def test_requests_compare_with_limits_as_the_api_server_rounds_them() -> None:
    # 8Ei is capped at 2^63-1, so a decimal 2^63 request exceeds it (validateResourceRequirements).
    errors = model_errors(resources={"requests": {"memory": "9223372036854775808"}, "limits": {"memory": "8Ei"}})
    assert "must not exceed" in errors["models[0].resources"]
    accepts(resources={"requests": {"memory": "8Ei"}, "limits": {"memory": "9Ei"}})


# --- validateContainerResourceName, IsExtendedResourceName, hugepages ------------------------------------------------
@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("gpu", "fully qualified"),
        ("pods", "fully qualified"),
        ("storage", "fully qualified"),
        ("nvidia.com/", "name must not be empty"),
        ("/gpu", "prefix before '/' must not be empty"),
        ("Nvidia.com/gpu", "prefix"),
        ("a/b/c", "at most one '/'"),
        ("requests.nvidia.com/gpu", "extended resource name standard"),
        (f"{'a' * 246}.com/gpu", "extended resource name standard"),  # `requests.<prefix>` over 253 characters
    ],
)
def test_resource_names_the_api_server_refuses(name: str, fragment: str) -> None:
    errors = model_errors(resources={"requests": {name: "1"}, "limits": {name: "1"}})
    assert any(fragment in message for path, message in errors.items() if path.startswith("models[0].resources")), (
        errors
    )


@pytest.mark.parametrize("name", ["cpu", "memory", "ephemeral-storage", "nvidia.com/gpu", "example.kubernetes.io/x"])
def test_resource_names_the_api_server_accepts(name: str) -> None:
    accepts(resources={"requests": {name: "1"}, "limits": {name: "1"}})


def test_extended_resources_are_whole_and_not_overcommitted() -> None:
    gpu = "nvidia.com/gpu"
    assert "whole number" in model_errors(resources={"limits": {gpu: "0.5"}})["models[0].resources"]
    assert "whole number" in model_errors(resources={"limits": {gpu: "1e19"}})["models[0].resources"]
    assert "needs limits" in model_errors(resources={"requests": {gpu: "1"}})["models[0].resources"]
    errors = model_errors(resources={"requests": {gpu: "1"}, "limits": {gpu: "2"}})
    assert "cannot be overcommitted" in errors["models[0].resources"]


def test_hugepages_follow_the_api_server() -> None:
    pages = {"hugepages-2Mi": "4Mi", "memory": "1Gi"}
    accepts(resources={"requests": pages, "limits": pages})
    odd = {"hugepages-2Mi": "3Mi", "memory": "1Gi"}
    assert (
        "multiple of the page size" in model_errors(resources={"requests": odd, "limits": odd})["models[0].resources"]
    )
    alone = {"hugepages-2Mi": "4Mi"}
    assert "cpu or memory" in model_errors(resources={"requests": alone, "limits": alone})["models[0].resources"]
    assert "needs limits" in model_errors(resources={"requests": pages})["models[0].resources"]


# --- IsQualifiedName, ValidateLabels, ValidateAnnotations ------------------------------------------------------------
LONG_PREFIX = ".".join(["a" * 63] * 4) + "/x"  # a 255-character DNS prefix


@pytest.mark.parametrize(
    ("fields", "path", "fragment"),
    [
        ({"labels": {LONG_PREFIX: "v"}}, "models[0].labels", "no more than 253"),
        ({"labels": {"x": "v" * 64}}, "models[0].labels", "no more than 63"),
        ({"labels": {"a/b/c": "v"}}, "models[0].labels", "at most one '/'"),
        ({"nodeSelector": {LONG_PREFIX: "v"}}, "models[0].nodeSelector", "no more than 253"),
        ({"nodeSelector": {"zone": "bad value"}}, "models[0].nodeSelector", "not a valid label value"),
        ({"annotations": {"bad key!": "v"}}, "models[0].annotations", "not a valid annotation key"),
        ({"annotations": {LONG_PREFIX: "v"}}, "models[0].annotations", "no more than 253"),
        ({"annotations": {"": "v"}}, "models[0].annotations", "must not be empty"),
        ({"annotations": {"a": "x" * TOTAL_ANNOTATION_SIZE_LIMIT}}, "models[0].annotations", "bytes in total"),
        ({"annotations": {"a": "x" * (TOTAL_ANNOTATION_SIZE_LIMIT - 100)}}, "models[0].annotations", "kept for"),
    ],
)
def test_label_and_annotation_keys_and_sizes(fields: dict, path: str, fragment: str) -> None:
    errors = model_errors(**fields)
    assert fragment in errors[path], errors


def test_annotation_keys_are_case_insensitive_and_values_free() -> None:
    accepts(annotations={"Example.com/Owner": "line one\nline two"})


# --- int32 / int64 fields --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("values", "path"),
    [
        ({"models": [model(minReplicas=2**31)]}, "models[0].minReplicas"),
        ({"models": [model(maxReplicas=2**31)]}, "models[0].maxReplicas"),
        ({"models": [model(scaleMetric="memory", scaleTarget=2**31)]}, "models[0].scaleTarget"),
        (
            {"models": [model(canary=[{"trafficPercent": 10, "maxReplicas": 2**31}])]},
            "models[0].canary[0].maxReplicas",
        ),
        (
            {
                "models": [
                    model(
                        tolerations=[
                            {"key": "k", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 2**63}
                        ]
                    )
                ]
            },
            "models[0].tolerations[0].tolerationSeconds",
        ),
    ],
)
def test_integers_outside_their_api_type_are_refused(values: dict, path: str) -> None:
    errors = errors_of(values)
    assert "-bit integer" in errors[path], errors


def test_integers_at_their_api_limit_are_accepted() -> None:
    accepts(minReplicas=1, maxReplicas=2**31 - 1)
    accepts(tolerations=[{"key": "k", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 2**53}])


def test_int64_values_pulumi_would_round_are_refused(run_config) -> None:
    # Found by the property test: Pulumi's protobuf numbers are doubles, so 2^63-1 reached the object as 2^63.
    toleration = {"key": "k", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 2**63 - 1}
    errors = model_errors(tolerations=[toleration])
    assert "64-bit floats" in errors["models[0].tolerations[0].tolerationSeconds"]
    toleration["tolerationSeconds"] = 2**53
    isvc = only(run_config({"models": [model(tolerations=[toleration])]}), "InferenceService")
    assert isvc["spec"]["predictor"]["tolerations"][0]["tolerationSeconds"] == 2**53


# --- ValidateEnv, validateEnvVarValueFrom ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("entry", "path", "fragment"),
    [
        ({"name": "..HIDDEN", "value": "1"}, "models[0].env[0].name", "start with '..'"),
        ({"name": ".", "value": "1"}, "models[0].env[0].name", "must not be '.'"),
        ({"name": "1ST", "value": "1"}, "models[0].env[0].name", "must not start with a digit"),
        ({"name": "A=B", "value": "1"}, "models[0].env[0].name", "not a valid environment variable name"),
        (
            {"name": "T", "valueFrom": {"secretKeyRef": {"name": "My_Secret", "key": "k"}}},
            "models[0].env[0].valueFrom.secretKeyRef.name",
            "RFC 1123 subdomain",
        ),
        (
            {"name": "T", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "a/b"}}},
            "models[0].env[0].valueFrom.configMapKeyRef.key",
            "Secret/ConfigMap key",
        ),
        (
            {"name": "T", "valueFrom": {"fieldRef": {"fieldPath": "spec.containers"}}},
            "models[0].env[0].valueFrom.fieldRef.fieldPath",
            "downward API",
        ),
        (
            {"name": "T", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['bad key']"}}},
            "models[0].env[0].valueFrom.fieldRef.fieldPath",
            "key in brackets",
        ),
        (
            {"name": "T", "valueFrom": {"resourceFieldRef": {"resource": "limits.gpu"}}},
            "models[0].env[0].valueFrom.resourceFieldRef",
            "downward API",
        ),
        (
            {"name": "T", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "2"}}},
            "models[0].env[0].valueFrom.resourceFieldRef",
            "divisor",
        ),
        ({"name": "T", "valueFrom": {}}, "models[0].env[0].valueFrom", "exactly one"),
    ],
)
def test_env_the_api_server_refuses(entry: dict, path: str, fragment: str) -> None:
    errors = model_errors(env=[entry])
    assert fragment in errors[path], errors


def test_env_the_api_server_accepts() -> None:
    accepts(
        env=[
            {"name": "my.env-name", "value": "1"},
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.annotations['Example.com/Key']"}}},
            {"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}},
            {"name": "S", "valueFrom": {"secretKeyRef": {"name": "db.credentials", "key": "pass.word"}}},
        ]
    )


# --- ValidateTolerations ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("toleration", "path", "fragment"),
    [
        ({"key": "k", "operator": "Exists", "value": "v"}, "models[0].tolerations[0]", "must not set value"),
        ({"key": "", "operator": "Equal"}, "models[0].tolerations[0]", "without key must use operator Exists"),
        ({"operator": "Equal"}, "models[0].tolerations[0]", "without key must use operator Exists"),
        ({"key": "k", "value": "bad value"}, "models[0].tolerations[0].value", "not a valid label value"),
        ({"key": "bad key", "operator": "Exists"}, "models[0].tolerations[0].key", "qualified name"),
        ({"key": "k", "operator": "Exists", "effect": "NoAdmit"}, "models[0].tolerations[0].effect", "NoSchedule"),
        ({"key": "k", "operator": "In"}, "models[0].tolerations[0].operator", "Exists"),
        (
            {"key": "k", "operator": "Exists", "effect": "NoSchedule", "tolerationSeconds": 5},
            "models[0].tolerations[0]",
            "NoExecute",
        ),
    ],
)
def test_tolerations_the_api_server_refuses(toleration: dict, path: str, fragment: str) -> None:
    errors = model_errors(tolerations=[toleration])
    assert fragment in errors[path], errors


# --- names of referenced objects: Secrets and ServiceAccounts are DNS subdomains (NameIsDNSSubdomain) ---------------
def test_referenced_object_names_are_dns_subdomains() -> None:
    accepts(imagePullSecrets=["registry.example.pull"], serviceAccountName="model.reader")
    assert "RFC 1123 subdomain" in model_errors(imagePullSecrets=["Registry"])["models[0].imagePullSecrets[0]"]
    assert "RFC 1123 subdomain" in model_errors(serviceAccountName="a" * 254)["models[0].serviceAccountName"]


# --- affinity: validateAffinity and the functions it calls -----------------------------------------------------------
@pytest.mark.parametrize(
    ("affinity", "fragment"),
    [
        (
            {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [{"matchExpressions": [{"key": "bad key", "operator": "Exists"}]}]
                    }
                }
            },
            "qualified name",
        ),
        (
            {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a b"]}]}
                        ]
                    }
                }
            },
            "label value",
        ),
        (
            {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {"matchFields": [{"key": "metadata.labels", "operator": "In", "values": ["n"]}]}
                        ]
                    }
                }
            },
            "metadata.name",
        ),
        (
            {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["a", "b"]}]}
                        ]
                    }
                }
            },
            "at most 1",
        ),
        (
            {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": "bad key"}]}},
            "qualified name",
        ),
        (
            {
                "podAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": "zone", "namespaces": ["Bad"]}]
                }
            },
            "not a valid Kubernetes name",
        ),
        (
            {
                "podAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": [
                        {"topologyKey": "zone", "matchLabelKeys": ["app"]}
                    ]
                }
            },
            "need a labelSelector",
        ),
        (
            {
                "podAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": [
                        {
                            "topologyKey": "zone",
                            "labelSelector": {"matchLabels": {"app": "x"}},
                            "matchLabelKeys": ["app"],
                        }
                    ]
                }
            },
            "in both matchLabelKeys and labelSelector",
        ),
    ],
)
def test_affinity_the_api_server_refuses(affinity: dict, fragment: str) -> None:
    errors = model_errors(affinity=affinity)
    assert any(fragment in message for path, message in errors.items() if path.startswith("models[0].affinity")), errors


def test_empty_preference_survives_the_render(run_config) -> None:
    # `preference` is required by the API (an empty term matches every node); dropping `{}` left it missing.
    affinity = {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1, "preference": {}}]}}
    isvc = only(run_config({"models": [model(affinity=affinity)]}), "InferenceService")
    assert isvc["spec"]["predictor"]["affinity"] == affinity


def test_affinity_renders_what_the_user_wrote(run_config) -> None:
    affinity = {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 100, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname"}}]}}  # fmt: skip
    isvc = only(run_config({"models": [model(affinity=affinity)]}), "InferenceService")
    assert isvc["spec"]["predictor"]["affinity"] == affinity


# --- one env name twice: the program's STORAGE_URI and the user's ---------------------------------------------------
def test_storage_uri_env_beside_storage_uri_is_refused() -> None:
    entry = {**CUSTOM, "storageUri": "gs://seldon-models/x", "env": {"STORAGE_URI": "gs://seldon-models/y"}}
    errors = errors_of({"models": [entry]})
    assert "set by the program from storageUri" in errors["models[0].env[0].name"], errors


def test_storage_uri_env_in_a_canary_is_refused() -> None:
    entry = {
        **CUSTOM,
        "storageUri": "gs://seldon-models/x",
        "canary": [{"trafficPercent": 10, "env": {"STORAGE_URI": "gs://seldon-models/y"}}],
    }
    errors = errors_of({"models": [entry]})
    assert "set by the program from storageUri" in errors["models[0].canary[0].env[0].name"], errors


def test_storage_uri_env_alone_renders_once(run_config) -> None:
    entry = {**CUSTOM, "env": {"STORAGE_URI": "gs://seldon-models/y"}}
    isvc = only(run_config({"models": [entry]}), "InferenceService")
    names = [var["name"] for var in isvc["spec"]["predictor"]["containers"][0]["env"]]
    assert names.count("STORAGE_URI") == 1 and len(names) == len(set(names))


# --- namespace ownership -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kserve", "namespace", "owner"),
    [
        ({}, "kserve", "KServe"),
        ({}, "cert-manager", "cert-manager"),
        ({}, "envoy-gateway-system", "Envoy Gateway"),
        ({"deploymentMode": "Knative"}, "istio-system", "Istio"),
        ({"deploymentMode": "Knative"}, "knative-serving", "Knative Serving"),
        ({"deploymentMode": "Knative"}, "knative-operator", "the Knative operator"),
        ({"namespace": "ml-platform"}, "ml-platform", "KServe"),
    ],
)
def test_a_model_namespace_the_install_creates_is_a_config_error(
    run_config, kserve: dict, namespace: str, owner: str
) -> None:
    # Used to crash the render with a traceback: two Namespace objects render to one file.
    errors = config_errors(run_config, {"kserve": kserve, "models": [model(namespace=namespace)]})
    assert f"install creates for {owner}" in errors["models[0].namespace"], errors


def test_install_namespaces_are_model_namespaces_once_the_install_is_not_ours(run_config) -> None:
    run = run_config(
        {"kserve": {"install": False, "existingNamespaces": ["kserve"]}, "models": [model(namespace="kserve")]}
    )
    assert objects(run, "Namespace") == []
    assert only(run, "InferenceService")["metadata"]["namespace"] == "kserve"


@pytest.mark.parametrize("namespace", ["default", "kube-system", "kube-public", "kube-node-lease"])
def test_a_cluster_namespace_is_never_owned_by_the_stack(run_config, namespace: str) -> None:
    errors = config_errors(run_config, {"models": [model(namespace=namespace)]})
    assert "exists in every cluster" in errors["models[0].namespace"]
    assert "kserve.existingNamespaces" in errors["models[0].namespace"]
    run = run_config({"kserve": {"existingNamespaces": [namespace]}, "models": [model(namespace=namespace)]})
    assert namespace not in {obj["metadata"]["name"] for obj in objects(run, "Namespace")}
    assert only(run, "InferenceService")["metadata"]["namespace"] == namespace


def test_existing_namespaces_cannot_name_an_install_namespace() -> None:
    errors = errors_of({"kserve": {"existingNamespaces": ["cert-manager"]}, "models": [IRIS]})
    assert "install creates for cert-manager" in errors["kserve.existingNamespaces[0]"]


# --- resources as the predictor container gets them: merged over the runtime's (or KServe's) defaults --------------
@pytest.mark.parametrize(
    ("entry", "source", "fragment"),
    [
        (model(resources={"limits": {"cpu": "500m"}}), "runtime kserve-mlserver", "requests.cpu (1) must not exceed"),
        (model(resources={"requests": {"memory": "4Gi"}}), "runtime kserve-mlserver", "requests.memory (4Gi)"),
        (
            {**CUSTOM, "resources": {"limits": {"memory": "1Gi"}}},
            "KServe's defaults for custom containers",
            "requests.memory (2Gi) must not exceed",
        ),
    ],
)
def test_resources_merged_with_the_runtime_defaults_must_still_be_valid(
    entry: dict, source: str, fragment: str
) -> None:
    message = errors_of({"models": [entry]})["models[0].resources"]
    assert source in message and fragment in message, message


def test_resources_that_set_both_sides_or_fit_the_defaults_are_accepted() -> None:
    accepts(resources={"requests": {"cpu": "250m"}, "limits": {"cpu": "500m"}})
    accepts(resources={"limits": {"cpu": "2", "memory": "4Gi"}})
    parse_stack_config({"models": [{**CUSTOM, "resources": {"requests": {"cpu": "100m"}}}]})


def test_a_custom_runtime_brings_its_own_defaults() -> None:
    runtime = {
        "name": "big",
        "image": "registry.example/mlserver:1.0.0",
        "supportedModelFormats": [{"name": "sklearn", "autoSelect": False}],
        "resources": {"requests": {"cpu": "4"}, "limits": {"cpu": "4"}},
    }
    errors = errors_of({"runtimes": [runtime], "models": [model(runtime="big", resources={"limits": {"cpu": "2"}})]})
    assert "merged with runtime big" in errors["models[0].resources"]
