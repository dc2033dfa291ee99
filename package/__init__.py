"""The kserve-platform Pulumi package: the install, runtime and model components for every Pulumi language.

`pulumi-resource-kserve-platform` (beside this file) starts the provider (`python3 -m package`); the schema is
generated from the config models (package/schema.py). How to use it: docs/recipes/pulumi-package.md.
"""
