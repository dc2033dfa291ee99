import * as pulumi from "@pulumi/pulumi";
import * as kserve from "@pulumi/kserve-platform";

// KServe itself, with its defaults (Standard mode, Gateway API ingress); omit it where the cluster runs KServe.
const install = new kserve.install.KServeInstall("kserve", {
    deploymentMode: "Standard",
});

// A custom MLServer image as a ServingRuntime of the namespace `models`.
const runtime = new kserve.runtimes.ServingRuntime("custom-runtime", {
    name: "custom-mlserver",
    namespace: "models",
    image: "registry.example.com/custom-mlserver:0.1.0",
    supportedModelFormats: [{ name: "custom", version: "1", autoSelect: true, priority: 1 }],
}, { dependsOn: [install] });

// The model: the keys of a stack file's `models` entry, typed.
const iris = new kserve.models.InferenceService("iris", {
    name: "iris",
    namespace: "models",
    format: "sklearn",
    protocolVersion: "v2",
    storageUri: "gs://seldon-models/sklearn/iris",
    minReplicas: 1,
    env: { MLSERVER_DEBUG: "true" },
    resources: {
        requests: { cpu: "500m", memory: "1Gi" },
        limits: { cpu: "1", memory: "2Gi" },
    },
    readinessTimeout: "10m",
}, { dependsOn: [install] });

export const inferenceUrl: pulumi.Output<string> = iris.inferenceUrl;
export const runtimeName: pulumi.Output<string> = runtime.name;
