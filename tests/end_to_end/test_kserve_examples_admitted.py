"""Issue 12 through the real webhook: every KServe example the unit suite expresses as stack config
(tests/kserve_examples.yaml, each citing its source) renders an InferenceService that the real API server and KServe's
own validating and defaulting webhooks admit (server-side dry run on the loopback cluster: nothing is stored)."""

from __future__ import annotations

from typing import Any

import pytest
from model_helpers import only

from offline.program import run_program
from tests.conftest import settings_for
from tests.test_kserve_examples import EXAMPLES


@pytest.mark.parametrize("case", EXAMPLES, ids=[case["id"] for case in EXAMPLES])
def test_example_is_admitted_by_kserves_webhook(kserve_cluster, case: dict[str, Any]) -> None:
    isvc = only(run_program(settings_for(case["stack"]), "test"), "InferenceService")
    namespace = isvc["metadata"]["namespace"]
    # The namespace for real (dry-run objects need it to exist), then the InferenceService judged only.
    kserve_cluster.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}])
    result = kserve_cluster.apply([isvc], dry_run=True, check=False)
    assert result.returncode == 0, f"{case['source']}: refused by the API server or KServe's webhook:\n{result.stderr}"
