"""Pod `affinity`, typed as the Kubernetes API spells it, so a misspelt key is a config error at preview rather
than a field the API server drops or rejects at apply time. Rules mirror k8s.io/kubernetes
pkg/apis/core/validation (validateAffinity and the functions it calls, named below)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, model_validator

from config.base import StrictModel
from config.kubernetes import DnsLabel, DnsSubdomain, LabelMap, LabelValue, QualifiedName

_INTEGER = re.compile("-?[0-9]+")


class NodeSelectorRequirement(StrictModel):
    """ValidateNodeSelectorRequirement: a node-label key, an operator, and label values that fit it."""

    key: QualifiedName
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]
    values: list[LabelValue] = Field(default_factory=list)

    @model_validator(mode="after")
    def _values_fit_operator(self) -> NodeSelectorRequirement:
        if self.operator in ("In", "NotIn") and not self.values:
            raise ValueError(f"operator {self.operator} needs at least one value")
        if self.operator in ("Exists", "DoesNotExist") and self.values:
            raise ValueError(f"operator {self.operator} takes no values")
        if self.operator in ("Gt", "Lt") and (len(self.values) != 1 or not _INTEGER.fullmatch(self.values[0])):
            raise ValueError(f"operator {self.operator} takes exactly one integer value")
        return self


class NodeFieldSelectorRequirement(StrictModel):
    """ValidateNodeFieldSelectorRequirement: `matchFields` selects by node name only, one value, In or NotIn."""

    key: Literal["metadata.name"]
    operator: Literal["In", "NotIn"]
    values: list[DnsSubdomain] = Field(min_length=1, max_length=1)


class NodeSelectorTerm(StrictModel):
    match_expressions: list[NodeSelectorRequirement] = Field(default_factory=list)
    match_fields: list[NodeFieldSelectorRequirement] = Field(default_factory=list)


class NodeSelector(StrictModel):
    node_selector_terms: list[NodeSelectorTerm] = Field(min_length=1)


class PreferredSchedulingTerm(StrictModel):
    weight: int = Field(ge=1, le=100)
    # Required by the API (an empty term matches every node): always emitted, even as `{}`.
    preference: NodeSelectorTerm


class NodeAffinity(StrictModel):
    required_during_scheduling_ignored_during_execution: NodeSelector | None = None
    preferred_during_scheduling_ignored_during_execution: list[PreferredSchedulingTerm] = Field(default_factory=list)


class LabelSelectorRequirement(StrictModel):
    """ValidateLabelSelectorRequirement (metav1 validation)."""

    key: QualifiedName
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: list[LabelValue] = Field(default_factory=list)

    @model_validator(mode="after")
    def _values_fit_operator(self) -> LabelSelectorRequirement:
        if self.operator in ("In", "NotIn") and not self.values:
            raise ValueError(f"operator {self.operator} needs at least one value")
        if self.operator in ("Exists", "DoesNotExist") and self.values:
            raise ValueError(f"operator {self.operator} takes no values")
        return self


class LabelSelector(StrictModel):
    match_labels: LabelMap = Field(default_factory=dict)
    match_expressions: list[LabelSelectorRequirement] = Field(default_factory=list)

    def keys(self) -> set[str]:
        return set(self.match_labels) | {requirement.key for requirement in self.match_expressions}


class PodAffinityTerm(StrictModel):
    """validatePodAffinityTerm + ValidateMatchLabelKeysAndMismatchLabelKeys."""

    topology_key: QualifiedName
    label_selector: LabelSelector | None = None
    namespaces: list[DnsLabel] = Field(default_factory=list)
    namespace_selector: LabelSelector | None = None
    match_label_keys: list[QualifiedName] = Field(default_factory=list)
    mismatch_label_keys: list[QualifiedName] = Field(default_factory=list)

    @model_validator(mode="after")
    def _label_keys(self) -> PodAffinityTerm:
        keys = [*self.match_label_keys, *self.mismatch_label_keys]
        if keys and self.label_selector is None:
            raise ValueError("matchLabelKeys and mismatchLabelKeys need a labelSelector")
        both = sorted(set(self.match_label_keys) & set(self.mismatch_label_keys))
        if both:
            raise ValueError(f"{', '.join(both)}: in both matchLabelKeys and mismatchLabelKeys")
        in_selector = sorted(
            set(self.match_label_keys) & (self.label_selector.keys() if self.label_selector else set())
        )
        if in_selector:
            raise ValueError(f"{', '.join(in_selector)}: in both matchLabelKeys and labelSelector")
        return self


class WeightedPodAffinityTerm(StrictModel):
    weight: int = Field(ge=1, le=100)
    pod_affinity_term: PodAffinityTerm


class PodAffinity(StrictModel):
    required_during_scheduling_ignored_during_execution: list[PodAffinityTerm] = Field(default_factory=list)
    preferred_during_scheduling_ignored_during_execution: list[WeightedPodAffinityTerm] = Field(default_factory=list)


class Affinity(StrictModel):
    """`affinity` of the predictor pod: nodeAffinity, podAffinity, podAntiAffinity (Kubernetes spelling)."""

    node_affinity: NodeAffinity | None = None
    pod_affinity: PodAffinity | None = None
    pod_anti_affinity: PodAffinity | None = None

    def manifest(self) -> dict[str, Any]:
        # What the user wrote, nothing more: defaults (empty lists) stay out of the object, while a required key
        # written empty (`preference: {}`, an empty term that matches every node) is kept, as the API needs it.
        return self.model_dump(by_alias=True, exclude_unset=True, exclude_none=True)
