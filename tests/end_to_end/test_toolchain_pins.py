"""The toolchain's pins are readable and every one names an exact version (never a branch or `latest`)."""

import re

from e2e.toolchain import versions

EXACT = re.compile(r"^v?\d+\.\d+\.\d+([-+.][0-9A-Za-z.-]+)?$")


def test_every_pin_is_an_exact_version() -> None:
    pins = versions()
    assert pins, "e2e/versions.env pins nothing"
    loose = {key: value for key, value in pins.items() if key.endswith("_VERSION") and not EXACT.match(value)}
    assert not loose, f"pins that are not exact versions: {loose}"
