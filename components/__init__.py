"""Pulumi components, one concern each: the models' namespaces and InferenceServices (and the install)."""
