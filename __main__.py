"""kserve-platform: a stack's typed config -> KServe InferenceServices (and what they need) on Kubernetes."""

import pulumi

from components.inference_service import InferenceService, InferenceServiceArgs
from components.model_namespace import ModelNamespace, ModelNamespaceArgs
from config.source import load_stack_config

# Raises with every config problem before a single resource is registered.
stack = load_stack_config()
protect = pulumi.ResourceOptions(protect=stack.protect)

namespaces = {
    name: ModelNamespace(name, ModelNamespaceArgs(name=name), opts=protect) for name in stack.model_namespaces
}

models = {}
for model in stack.models:
    key = f"{model.namespace}/{model.name}"
    namespace = namespaces.get(model.namespace)
    models[key] = InferenceService(
        key,
        InferenceServiceArgs(
            model=model,
            deployment_mode=stack.kserve.deployment_mode,
            depends_on=[namespace] if namespace else [],
        ),
        opts=protect,
    )

pulumi.export("deploymentMode", stack.kserve.deployment_mode)
pulumi.export(
    "models",
    {
        key: {"name": isvc.name, "namespace": isvc.namespace, "inferencePath": isvc.inference_path}
        for key, isvc in models.items()
    },
)
