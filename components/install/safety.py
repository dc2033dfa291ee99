"""What every object of the install gets, whichever chart or manifest it comes from: CRD retention, readiness
gates, protection and bounded waits.

Protection and retention are separate jobs:
- `protect` follows the stack's `protect` setting and nothing else: in a dev stack no install object is protected,
  so `pulumi destroy` and `kserve.install: true -> false` go through; in production every object, chart children
  included, refuses deletion until the stack is unprotected (which is what the `resources-protected` policy checks).
- CRDs are kept in the cluster by `retainOnDelete`, not by `protect`: the engine drops them from the state and
  leaves them (and every InferenceService) in the cluster, unless `kserve.deleteCrdsOnUninstall` is true. The
  install also writes `helm.sh/resource-policy: keep` on each retained CRD (the provider maps it to
  retainOnDelete too, and it is what the policy pack can see) and removes a chart's own `keep` when the user opted
  in to deleting CRDs (cert-manager's).

Applied as a Pulumi `transforms` resource option on the install component. Transforms (unlike the older
`transformations`, and unlike `retainOnDelete`/`customTimeouts` set on a component) reach the children that the
Kubernetes provider creates inside a `helm.v4.Chart` or `yaml.v2.ConfigFile`:
- `retainOnDelete` set on a Chart v4 is not propagated to its children (pulumi-kubernetes #3065, closed
  won't-fix), so the CRDs would be deleted with the chart;
- `customTimeouts` is not an inherited option at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

WAIT_FOR_ANNOTATION = "pulumi.com/waitFor"
RETAIN_ANNOTATION = "helm.sh/resource-policy"
CRD_TYPE = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"
# Wait until the API server serves the new kind; custom resources applied right after a CRD fail otherwise
# ("no matches for kind ...").
CRD_ESTABLISHED = "condition=Established"
WEBHOOK_TYPES = frozenset(
    {
        "kubernetes:admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration",
        "kubernetes:admissionregistration.k8s.io/v1:MutatingWebhookConfiguration",
    }
)
# cert-manager's cainjector fills in the CA bundle of webhooks annotated `cert-manager.io/inject-ca-from...`
# (cert-manager's own, KServe's) some seconds after they are created; until then every call fails with
# "x509: certificate signed by unknown authority". The annotation makes Pulumi wait for it (the pattern Pulumi
# documents for cert-manager, pulumi-kubernetes #3134). Webhooks patched by their own server (Istio, Knative) are
# left alone: gating them could wait on a server that a later step installs.
WEBHOOK_CA_INJECTED = "jsonpath={.webhooks[*].clientConfig.caBundle}"
CA_INJECTION_PREFIX = "cert-manager.io/inject-"


@dataclass(frozen=True)
class InstallPolicy:
    """How the install's objects are treated, from the stack config."""

    # Keep CRDs in the cluster when they leave the program (removing the install, `pulumi destroy`).
    retain_crds: bool
    # `pulumi up`/`destroy` refuse to delete any install object until it is unprotected (production); false
    # unprotects every object, whatever a chart or parent would pass down.
    protect: bool
    # Upper bounds on the provider's readiness waits.
    timeouts: pulumi.CustomTimeouts


def _with_annotation(props: dict[str, Any], value: str) -> dict[str, Any]:
    metadata = dict(props.get("metadata") or {})
    annotations = dict(metadata.get("annotations") or {})
    # An annotation the chart already sets (a chart author's own gate) wins.
    annotations.setdefault(WAIT_FOR_ANNOTATION, value)
    metadata["annotations"] = annotations
    return {**props, "metadata": metadata}


def _with_retention(props: dict[str, Any], retain: bool) -> dict[str, Any]:
    metadata = dict(props.get("metadata") or {})
    annotations = dict(metadata.get("annotations") or {})
    if retain:
        annotations[RETAIN_ANNOTATION] = "keep"
    else:
        annotations.pop(RETAIN_ANNOTATION, None)
    metadata["annotations"] = annotations
    return {**props, "metadata": metadata}


def _injected_by_cert_manager(props: dict[str, Any]) -> bool:
    annotations = (props.get("metadata") or {}).get("annotations") or {}
    return any(str(key).startswith(CA_INJECTION_PREFIX) for key in annotations)


def apply_policy(policy: InstallPolicy, args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
    """The transform itself, as a pure function of the policy and one resource's registration."""
    if not args.custom:
        # Components (the charts themselves) have nothing to wait for or delete; their children are seen here too.
        return None
    props = dict(args.props)
    changes = pulumi.ResourceOptions(custom_timeouts=policy.timeouts, protect=policy.protect)
    if args.type_ == CRD_TYPE:
        props = _with_annotation(props, CRD_ESTABLISHED)
        # Deleting a CRD deletes every object of its kind cluster-wide (for InferenceService: every model).
        # Set both ways: a chart's own `keep` would otherwise retain a CRD the user asked to delete.
        props = _with_retention(props, policy.retain_crds)
        changes.retain_on_delete = policy.retain_crds
    elif args.type_ in WEBHOOK_TYPES and _injected_by_cert_manager(props):
        props = _with_annotation(props, WEBHOOK_CA_INJECTED)
    return pulumi.ResourceTransformResult(props=props, opts=pulumi.ResourceOptions.merge(args.opts, changes))


def install_transform(policy: InstallPolicy) -> pulumi.ResourceTransform:
    def transform(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        return apply_policy(policy, args)

    return transform
