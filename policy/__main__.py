"""kserve-platform policy pack: `pulumi preview --policy-pack policy --policy-pack-config policy/config/<stack>.json`.

The policies live in `policies.py` (importable by the tests); constructing the pack here starts the analyzer
server the Pulumi CLI talks to and blocks until the CLI is done.
"""

from policies import DEFAULT_ENFORCEMENT, POLICIES
from pulumi_policy import PolicyPack

PolicyPack(
    name="kserve-platform",
    policies=POLICIES,
    enforcement_level=DEFAULT_ENFORCEMENT,
    description="Guardrails for KServe models: pinned images, sized and replicated predictors, safe storage and "
    "secrets, routable host names, CRDs and production resources protected from deletion.",
)
