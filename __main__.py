"""kserve-platform: a stack's typed config -> KServe InferenceServices (and what they need) on Kubernetes."""

import pulumi

from components.inference_service import InferenceService, InferenceServiceArgs
from components.install import KServeInstall, KServeInstallArgs, existing_install_summary
from components.model_namespace import MetricsScraper, ModelNamespace, ModelNamespaceArgs
from components.monitoring import Monitoring, MonitoringArgs
from components.serving_runtime import ServingRuntime, ServingRuntimeArgs
from components.storage_credentials import StorageCredentials, StorageCredentialsArgs
from config.source import load_stack_config, secret_value

# Raises with every config problem before a single resource is registered.
stack = load_stack_config()
protect = pulumi.ResourceOptions(protect=stack.protect)

# KServe and its dependencies; everything below waits for `install.ready` (webhook serving, runtimes in place).
install = (
    KServeInstall("kserve-install", KServeInstallArgs(stack.kserve, protect=stack.protect, mirror=stack.mirror))
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
            metrics_scraper=(
                MetricsScraper(stack.monitoring.namespace, stack.monitoring.metrics_ports(stack.models, name))
                if stack.monitoring.enabled
                else None
            ),
        ),
        opts=pulumi.ResourceOptions(protect=stack.protect, depends_on=install_ready),
    )
    for name in stack.model_namespaces
}


def in_namespace(namespace: str | None) -> list[pulumi.Resource]:
    """The stack-owned namespace an object lives in, as a dependency (none for existing or cluster scope)."""
    owner = namespaces.get(namespace) if namespace else None
    # `ready`: the Namespace and its policies, so nothing runs there before its guard rails exist.
    return list(owner.ready) if owner else []


runtimes = {
    f"{runtime.namespace or 'cluster'}/{runtime.name}": ServingRuntime(
        f"{runtime.namespace or 'cluster'}/{runtime.name}",
        # KServe's webhook validates runtimes: apply them once it serves.
        ServingRuntimeArgs(runtime=runtime, depends_on=[*in_namespace(runtime.namespace), *install_ready]),
        opts=protect,
    )
    for runtime in stack.runtimes
}

credentials = {
    f"{entry.namespace}/{entry.name}": StorageCredentials(
        f"{entry.namespace}/{entry.name}",
        StorageCredentialsArgs(entry=entry, secret_value=secret_value, depends_on=in_namespace(entry.namespace)),
        opts=protect,
    )
    for entry in stack.storage_credentials
}

models = {}
for model in stack.deployed_models:
    key = f"{model.namespace}/{model.name}"
    # Runtimes a model may be placed on (KServe auto-selects among them) and its credentials exist first.
    visible_runtimes = [
        component
        for runtime, component in zip(stack.runtimes, runtimes.values(), strict=True)
        if runtime.namespace in (None, model.namespace)
    ]
    credential = credentials.get(f"{model.namespace}/{model.storage_credentials}")
    models[key] = InferenceService(
        key,
        InferenceServiceArgs(
            model=model,
            deployment_mode=stack.kserve.deployment_mode,
            readiness_timeout=stack.readiness_timeout(model),
            depends_on=[
                *in_namespace(model.namespace),
                *install_ready,
                *visible_runtimes,
                *([credential] if credential else []),
            ],
        ),
        opts=protect,
    )

monitoring = (
    Monitoring(
        "monitoring",
        MonitoringArgs(
            config=stack.monitoring,
            models=list(stack.models),
            kserve_namespace=stack.kserve.namespace,
            namespace_dependencies={namespace: in_namespace(namespace) for namespace in stack.model_namespaces},
        ),
        opts=protect,
    )
    if stack.monitoring.enabled
    else None
)

pulumi.export("deploymentMode", stack.kserve.deployment_mode)
pulumi.export("kserveInstall", install.summary if install else existing_install_summary(stack.kserve))
pulumi.export(
    "models",
    {
        key: {
            "name": isvc.name,
            "namespace": isvc.namespace,
            "inferencePath": isvc.inference_path,
            "url": isvc.url,
            "inferenceUrl": isvc.inference_url,
        }
        for key, isvc in models.items()
    },
)
pulumi.export("runtimes", {key: {"kind": rt.kind, "name": rt.runtime_name} for key, rt in runtimes.items()})
pulumi.export(
    "storageCredentials", {key: {"serviceAccountName": c.service_account_name} for key, c in credentials.items()}
)
