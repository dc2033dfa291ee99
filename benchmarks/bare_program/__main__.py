"""A bare Pulumi program, the floor of benchmarks/bench_engine.py: it registers the Kubernetes objects listed in the
JSON file named by the stack's `bare-objects:objectsFile` config, as they are, in one `kubernetes:yaml/v2:ConfigGroup`
(the provider registers each object; Namespaces first). No components, no config models, no validation: what is left
of `pulumi preview`/`up` when the program is only the objects. The benchmark runs it with the project's toolchain
(`venv` links to the program's virtualenv), on the objects the offline render produced for the same stack.
"""

import json
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

objects = json.loads(Path(pulumi.Config().require("objectsFile")).read_text())
k8s.yaml.v2.ConfigGroup("objects", objs=objects)
