"""kserve-platform: a stack's typed config -> KServe InferenceServices (and what they need) on Kubernetes."""

import pulumi

from components.inference_service import InferenceService, InferenceServiceArgs
from components.install import KServeInstall, KServeInstallArgs, existing_install_summary
from components.model_namespace import ModelNamespace, ModelNamespaceArgs
from config.source import load_stack_config

# Raises with every config problem before a single resource is registered.
stack = load_stack_config()
protect = pulumi.ResourceOptions(protect=stack.protect)

# KServe and its dependencies; everything below waits for `install.ready` (webhook serving, runtimes in place).
install = (
    KServeInstall("kserve-install", KServeInstallArgs(stack.kserve, protect=stack.protect))
    if stack.kserve.install
    else None
)
install_ready: list[pulumi.Resource] = install.ready if install else []

mode = stack.kserve.deployment_mode
namespaces = {
    name: ModelNamespace(
        name,
        ModelNamespaceArgs(
            name=name,
            pod_security=stack.namespaces.pod_security_for(mode),
            allowed_namespaces=stack.predictor_client_namespaces,
            labels=dict(stack.namespaces.labels),
        ),
        opts=pulumi.ResourceOptions(protect=stack.protect, depends_on=install_ready),
    )
    for name in stack.model_namespaces
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
            depends_on=[*(namespace.ready if namespace else []), *install_ready],
        ),
        opts=protect,
    )

pulumi.export("deploymentMode", stack.kserve.deployment_mode)
pulumi.export("kserveInstall", install.summary if install else existing_install_summary(stack.kserve))
pulumi.export(
    "models",
    {
        key: {"name": isvc.name, "namespace": isvc.namespace, "inferencePath": isvc.inference_path}
        for key, isvc in models.items()
    },
)
