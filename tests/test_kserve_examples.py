"""KServe's own published InferenceService examples (tests/kserve_examples.yaml, each citing its source), each written
as stack config: the rendered InferenceService must carry every field the example sets, with the same value, and be
valid against the v0.20.0 CRD."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from model_helpers import only
from schemas import schema_errors

from config.errors import ConfigError
from config.kubernetes import parse_quantity
from config.stack import parse_stack_config

EXAMPLES: list[dict[str, Any]] = yaml.safe_load((Path(__file__).parent / "kserve_examples.yaml").read_text())
# Legacy framework blocks KServe's defaulting webhook rewrites into `model: {modelFormat: {name: <framework>}}`
# (inference_service_defaults.go setPredictorModelDefaults / assign<Framework>Runtime).
LEGACY_BLOCKS = ("sklearn", "xgboost", "lightgbm", "tensorflow", "pytorch", "triton", "onnx", "pmml", "paddle")
# KServe's protocol when the example names none (ModelSpec.GetProtocol / CustomPredictor.GetProtocol).
KSERVE_DEFAULT_PROTOCOL = "v1"


def _substitute(value: Any, placeholders: dict[str, str]) -> Any:
    if isinstance(value, str):
        for placeholder, replacement in placeholders.items():
            value = value.replace(placeholder, replacement)
        return value
    if isinstance(value, dict):
        return {key: _substitute(item, placeholders) for key, item in value.items()}
    if isinstance(value, list):
        return [_substitute(item, placeholders) for item in value]
    return value


def as_kserve_defaults_it(example: dict[str, Any]) -> dict[str, Any]:
    """The example after KServe's rewrite of a legacy framework block (what the API server stores)."""
    out = copy.deepcopy(example)
    predictor = out["spec"]["predictor"]
    for framework in LEGACY_BLOCKS:
        if framework in predictor:
            block = predictor.pop(framework)
            predictor["model"] = {"modelFormat": {"name": framework}, **block}
    return out


def _set(tree: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        tree = tree[part]
    tree[last] = value


def _same(expected: Any, actual: Any) -> bool:
    # A quantity written as a number (cpu: 2) is the same quantity as the string the program writes ("2").
    if isinstance(expected, (int, float)) and not isinstance(expected, bool) and isinstance(actual, str):
        try:
            return parse_quantity(str(expected)) == parse_quantity(actual)
        except ValueError:
            return False
    return expected == actual


def missing_fields(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Every field of `expected` that `actual` lacks or holds with another value (lists: same length, in order)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected a mapping, got {actual!r}"]
        problems = []
        for key, value in expected.items():
            where = f"{path}.{key}" if path else key
            if key not in actual:
                problems.append(f"{where}: missing (expected {value!r})")
            else:
                problems.extend(missing_fields(value, actual[key], where))
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path}: expected {expected!r}, got {actual!r}"]
        return [
            problem for i, item in enumerate(expected) for problem in missing_fields(item, actual[i], f"{path}[{i}]")
        ]
    return [] if _same(expected, actual) else [f"{path}: expected {expected!r}, got {actual!r}"]


def _effective_protocol(predictor: dict[str, Any]) -> str:
    if "model" in predictor:
        return predictor["model"].get("protocolVersion", KSERVE_DEFAULT_PROTOCOL)
    env = predictor["containers"][0].get("env", [])
    return next((var["value"] for var in env if var["name"] == "PROTOCOL"), KSERVE_DEFAULT_PROTOCOL)


@pytest.mark.parametrize("case", EXAMPLES, ids=[case["id"] for case in EXAMPLES])
def test_example_renders_every_field_it_sets(run_config, case: dict[str, Any]) -> None:
    assert case["source"].startswith(("kserve/kserve@v0.20.0 ", "kserve/website@05b83a6 ")), case["source"]
    expected = as_kserve_defaults_it(_substitute(case["example"], case.get("placeholders", {})))
    for deviation in case.get("deviations", []):
        _set(expected["spec"]["predictor"], deviation["key"], deviation["used"])

    obj = only(run_config(case["stack"]), "InferenceService")

    assert schema_errors(obj) == []
    problems = missing_fields(expected, {key: obj[key] for key in ("metadata", "spec")})
    assert problems == [], "\n".join(problems)
    # Same behaviour, not only the same fields: an example without a protocol gets KServe's default (v1), which
    # is not this project's default (v2), so its equivalent must say v1.
    example_predictor = expected["spec"]["predictor"]
    assert _effective_protocol(obj["spec"]["predictor"]) == _effective_protocol(example_predictor)


DEVIATING = [(case, deviation) for case in EXAMPLES for deviation in case.get("deviations", [])]


@pytest.mark.parametrize(
    ("case", "deviation"), DEVIATING, ids=[f"{case['id']}-{d['key'].rsplit('.', 1)[-1]}" for case, d in DEVIATING]
)
def test_upstream_value_of_a_deviation_is_refused_with_its_key(case: dict[str, Any], deviation: dict) -> None:
    stack = copy.deepcopy(case["stack"])
    _set(stack["models"][0], deviation["key"], deviation["upstream"])
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(stack)
    assert f"models[0].{deviation['key']}" in {issue.path for issue in caught.value.issues}


def test_examples_cover_each_kind_of_model() -> None:
    kinds = set()
    for case in EXAMPLES:
        predictor = as_kserve_defaults_it(case["example"])["spec"]["predictor"]
        kinds.add(predictor["model"]["modelFormat"]["name"] if "model" in predictor else "custom")
    assert {"sklearn", "xgboost", "lightgbm", "mlflow", "custom"} <= kinds


def test_comparison_sees_a_missing_or_different_field() -> None:
    """The checker the examples rely on fails when a field is absent, different, or a list differs in length."""
    actual = {"spec": {"predictor": {"model": {"storageUri": "gs://a/b", "resources": {"limits": {"cpu": "2"}}}}}}
    assert missing_fields({"spec": {"predictor": {"model": {"resources": {"limits": {"cpu": 2}}}}}}, actual) == []
    assert missing_fields({"spec": {"predictor": {"model": {"storageUri": "gs://a/c"}}}}, actual)
    assert missing_fields({"spec": {"predictor": {"logger": {"mode": "all"}}}}, actual)
    assert missing_fields({"a": [1, 2]}, {"a": [1]})
