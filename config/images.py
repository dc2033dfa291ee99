"""`customImages`: where the stack's own MLServer images (built with `mlserver build`) are pulled from.

A custom image written without a registry (`image: my-custom-server:0.1.0`) would be pulled from Docker Hub's
`library/` namespace, which never holds a team's image: the predictor then sits in ImagePullBackOff until
`pulumi up` gives up at the readiness timeout. With `customImages.registry` set, such a reference is composed as
`<registry>/<image>` (in one place, before validation, so the render, the policies and the cluster all see the
same reference); references that name a registry are used as written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidationError

from config.base import StrictModel

# Docker's rule (distribution/reference): the first path component names a registry when it has a '.' or a ':'
# or is `localhost`; otherwise the reference is Docker Hub's.
_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_HOST = rf"(?:localhost|{_LABEL}(?:\.{_LABEL})+|\[[0-9a-f:]+\])(?::[0-9]+)?"
_HOST_NO_DOT = rf"{_LABEL}:[0-9]+"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REGISTRY = re.compile(rf"(?:{_HOST}|{_HOST_NO_DOT})(?:/{_PATH_COMPONENT})*")
EXAMPLE_REGISTRY = "ghcr.io/<your-org>"


def names_registry(image: str) -> bool:
    """Whether an image reference names its registry (`ghcr.io/acme/server:1`, `localhost:5001/server:1`)."""
    first, slash, _ = image.partition("/")
    return bool(slash) and ("." in first or ":" in first or first == "localhost")


def _check_registry(value: str) -> str:
    # fullmatch: `$` would accept a trailing newline.
    if "://" in value:
        raise ValueError(f"{value!r}: give the registry without a scheme, e.g. {EXAMPLE_REGISTRY}")
    if not _REGISTRY.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a registry prefix: a registry host (with a '.' or a port, or localhost) and optional "
            f"lower-case path, no tag, no trailing '/', e.g. {EXAMPLE_REGISTRY}, registry.example.com:5000/ml, "
            "localhost:5001"
        )
    return value


RegistryPrefix = Annotated[str, AfterValidator(_check_registry)]


class CustomImagesConfig(StrictModel):
    registry: RegistryPrefix | None = Field(
        None,
        description=(
            "Registry (and path) the team pushes its custom images to; composes `image: name:tag` "
            "into `<registry>/name:tag`."
        ),
    )

    def reference(self, image: str) -> str:
        """The reference the cluster pulls for `image` as the stack file spells it."""
        if self.registry is None or names_registry(image):
            return image
        return f"{self.registry}/{image}"


def compose_custom_images(values: Mapping[str, Any]) -> Mapping[str, Any]:
    """Raw stack values with every registry-less `models[].image` and `models[].canary[].image` composed with
    `customImages.registry`; unchanged when no (valid) registry is set, so validation reports the setting."""
    try:
        images = CustomImagesConfig.model_validate(values.get("customImages") or {})
    except ValidationError:
        return values
    models = values.get("models")
    if images.registry is None or not isinstance(models, list):
        return values

    def composed(entry: Any) -> Any:
        if not isinstance(entry, dict) or not isinstance(entry.get("image"), str):
            return entry
        return {**entry, "image": images.reference(entry["image"])}

    out = []
    for raw in models:
        model = composed(raw)
        if isinstance(model, dict) and isinstance(model.get("canary"), list):
            model = {**model, "canary": [composed(canary) for canary in model["canary"]]}
        out.append(model)
    return {**values, "models": out}


def image_warnings(models: list[Any]) -> list[str]:
    """Deployed custom-image models whose image names no registry (and no `customImages.registry` composed one)."""
    out = []
    for index, model in enumerate(models):
        images = [("image", model.image)] + [
            (f"canary[{position}].image", canary.image) for position, canary in enumerate(model.canary)
        ]
        for where, image in images:
            if image is not None and model.deploy and not names_registry(image):
                out.append(
                    f"models[{index}].{where}: '{image}' names no registry, so the cluster pulls it from Docker Hub "
                    f"(docker.io/library/{image.split('@')[0].split(':')[0]}), where a self-built image is not: the "
                    f"model '{model.namespace}/{model.name}' would wait in ImagePullBackOff until the readiness "
                    "timeout. Build and push it (docs/recipes/custom-image.md), then set "
                    f"`pulumi config set --path kserve-platform:customImages.registry {EXAMPLE_REGISTRY}` (or write "
                    "the full reference); or set `deploy: false` on the entry until the image exists"
                )
    return out
