"""The curl examples serve_local prints: they use the inputs the model declares (V2 metadata, else
model-settings.json), with one row of data of the declared type."""

from __future__ import annotations

import json
import shlex

from localserve import examples

SETTINGS = {"name": "m", "inputs": [{"name": "features", "datatype": "FP32", "shape": [-1, 4]}]}


def infer_body(lines: list[str]) -> dict:
    (infer,) = [line for line in lines if line.startswith("curl") and "/infer" in line]
    words = shlex.split(infer.split("   #")[0])
    return json.loads(words[words.index("-d") + 1])


def test_curl_uses_the_input_names_model_settings_declare() -> None:
    inputs = examples.declared_inputs(None, SETTINGS)
    body = infer_body(examples.curl_examples(8080, "m", None, inputs=inputs))
    assert body == {"inputs": [{"name": "features", "shape": [1, 4], "datatype": "FP32", "data": [1.0, 1.5, 2.0, 2.5]}]}


def test_the_servers_metadata_wins_over_model_settings() -> None:
    metadata = {
        "inputs": [
            {"name": "age", "datatype": "INT64", "shape": [-1, 1]},
            {"name": "city", "datatype": "BYTES", "shape": [-1]},
        ]
    }
    inputs = examples.declared_inputs(metadata, SETTINGS)
    body = infer_body(examples.curl_examples(8080, "m", None, inputs=inputs))
    assert body["inputs"] == [
        {"name": "age", "shape": [1, 1], "datatype": "INT64", "data": [1]},
        {"name": "city", "shape": [1], "datatype": "BYTES", "data": ["text"]},
    ]


def test_without_declared_inputs_the_example_says_to_adjust_it() -> None:
    assert examples.declared_inputs({"inputs": []}, {"name": "m"}) == []
    lines = examples.curl_examples(8080, "m", None, inputs=[])
    assert infer_body(lines)["inputs"][0]["name"] == examples.DEFAULT_INPUT
    assert any("adjust shape/data" in line for line in lines)
    # A known column count (from the artifact) fills the free dimension.
    assert infer_body(examples.curl_examples(8080, "m", 3))["inputs"][0]["shape"] == [1, 3]
