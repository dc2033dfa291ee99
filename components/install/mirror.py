"""Chart values that move every image a chart renders to the stack's mirror (`kserve-platform:mirror`).

Each function returns the values to merge over a chart's own (empty without a mirror); the references come from
`config.mirror.install_image`, the catalogue the listing (`python -m cli mirror`) prints, so what the stack
deploys and what the listing tells the user to copy are one list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from config.kserve import KServeConfig
from config.mirror import (
    BUILTIN_RUNTIME_IMAGES,
    KNATIVE_RELEASES,
    KNATIVE_SERVING_IMAGES,
    MirrorConfig,
    install_image,
    split_image,
)


def merged(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """`overlay` merged into `base`, mappings key by key (as Helm merges values files)."""
    out = dict(base)
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def _repository_and_tag(kserve: KServeConfig, mirror: MirrorConfig, component: str, name: str) -> dict[str, str]:
    repository, tag = split_image(install_image(kserve, mirror, component, name))
    return {"image": repository, "tag": tag}


def kserve_resources_image_values(kserve: KServeConfig, mirror: MirrorConfig | None) -> dict[str, Any]:
    """kserve-resources: the controller Deployment and what it writes into `inferenceservice-config` (agent, router,
    storage initializer, the local-model job image, the ART explainer) and the default ClusterStorageContainer."""
    if mirror is None:
        return {}
    storage = _repository_and_tag(kserve, mirror, "kserve", "storage-initializer")
    art_repository, art_tag = split_image(install_image(kserve, mirror, "kserve", "art-explainer"))
    return {
        "kserve": {
            "controller": {
                **_repository_and_tag(kserve, mirror, "kserve", "controller"),
                "rbacProxyImage": install_image(kserve, mirror, "kserve", "kube-rbac-proxy"),
            },
            "agent": _repository_and_tag(kserve, mirror, "kserve", "agent"),
            "router": _repository_and_tag(kserve, mirror, "kserve", "router"),
            "storage": storage,
            "localmodel": {"defaultJobImage": storage["image"], "defaultJobTag": storage["tag"]},
            "servingruntime": {"art": {"image": art_repository, "defaultVersion": art_tag}},
        }
    }


def runtime_image_values(kserve: KServeConfig, mirror: MirrorConfig | None) -> dict[str, Any]:
    """kserve-runtime-configs: every built-in runtime's image, enabled or not (a disabled ClusterServingRuntime is
    still an object in the cluster naming its image)."""
    if mirror is None:
        return {}
    runtimes = {name: _repository_and_tag(kserve, mirror, "runtimes", name) for name in BUILTIN_RUNTIME_IMAGES}
    runtimes["mlserver"] = _repository_and_tag(kserve, mirror, "runtimes", "mlserver")
    return {"kserve": {"servingruntime": runtimes}}


def cert_manager_image_values(kserve: KServeConfig, mirror: MirrorConfig | None) -> dict[str, Any]:
    if mirror is None:
        return {}
    values: dict[str, Any] = {}
    for part, key in (("controller", None), ("webhook", "webhook"), ("cainjector", "cainjector"),
                      ("acmesolver", "acmesolver"), ("startupapicheck", "startupapicheck")):  # fmt: skip
        repository, tag = split_image(install_image(kserve, mirror, "cert-manager", part))
        image = {"image": {"repository": repository, "tag": tag}}
        values.update(image if key is None else {key: image})
    return values


def envoy_gateway_image_values(kserve: KServeConfig, mirror: MirrorConfig | None) -> dict[str, Any]:
    """gateway-helm: its controller (and certgen job), the Envoy proxy it deploys per Gateway, and the rate limiter
    it would deploy (the chart writes the last two into the controller's configuration)."""
    if mirror is None:
        return {}
    return {
        "global": {
            "images": {
                "envoyGateway": {"image": install_image(kserve, mirror, "envoy-gateway", "gateway")},
                "envoyProxy": {"image": install_image(kserve, mirror, "envoy-gateway", "envoy")},
                "ratelimit": {"image": install_image(kserve, mirror, "envoy-gateway", "ratelimit")},
            }
        }
    }


def istiod_image_values(kserve: KServeConfig, mirror: MirrorConfig | None) -> dict[str, Any]:
    """istiod: `global.hub`/`global.tag` name pilot and the proxyv2 image istiod injects, which is what the ingress
    gateway's `image: auto` becomes."""
    if mirror is None:
        return {}
    pilot, tag = split_image(install_image(kserve, mirror, "istio", "pilot"))
    proxy, proxy_tag = split_image(install_image(kserve, mirror, "istio", "proxyv2"))
    hub = pilot.rpartition("/")[0]
    if proxy != f"{hub}/proxyv2" or proxy_tag != tag:
        raise ValueError(f"Istio reads pilot and proxyv2 from one hub and tag; the mirror gives {pilot} and {proxy}")
    return {"global": {"hub": hub, "tag": tag}}


def knative_operator_image_values(kserve: KServeConfig, mirror: MirrorConfig | None) -> dict[str, Any]:
    if mirror is None:
        return {}
    return {
        "knative_operator": {
            "knative_operator": _repository_and_tag(kserve, mirror, "knative", "operator"),
            "operator_webhook": _repository_and_tag(kserve, mirror, "knative", "operator-webhook"),
        }
    }


def knative_serving_registry(kserve: KServeConfig, mirror: MirrorConfig | None) -> dict[str, Any] | None:
    """KnativeServing `spec.registry`: each Serving container's image from the mirror (`override`), and a `default`
    template (`${NAME}` = container name) for any container a later operator adds."""
    if mirror is None:
        return None
    override = {
        container: install_image(kserve, mirror, "knative-serving", container) for container in KNATIVE_SERVING_IMAGES
    }
    tag = split_image(override["controller"])[1]
    default = mirror.image(f"{KNATIVE_RELEASES}/serving/cmd/${{NAME}}:{tag}")
    return {"default": default, "override": override}
