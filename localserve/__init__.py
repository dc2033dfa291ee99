"""Serve one model entry of a stack on the real MLServer, on loopback, with the settings the cluster gets.

The MLServer settings come from `config.mlserver` (the same translation the InferenceService env uses);
this package only fetches the artifact, lays out a model repository, runs `mlserver start` and watches it.
MLServer itself is an optional dependency (`requirements-mlserver.txt`): nothing here imports it.
"""
