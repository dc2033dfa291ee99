"""Where the end-to-end toolchain's binaries live: read from e2e/versions.env, never guessed."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

E2E_DIR = Path(__file__).resolve().parent
VERSIONS_FILE = E2E_DIR / "versions.env"
BUILD_COMMAND = "bash e2e/toolchain.sh"


def cache_root() -> Path:
    return Path(os.environ.get("KSERVE_PLATFORM_CACHE", Path.home() / ".cache" / "kserve-platform"))


@cache
def versions() -> dict[str, str]:
    """The pins of e2e/versions.env as a mapping (KEY=value lines; comments and blanks skipped)."""
    pins: dict[str, str] = {}
    for raw in VERSIONS_FILE.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            pins[key.strip()] = value.strip().strip('"')
    return pins


def tool_dir(tool: str, version_key: str) -> Path:
    """The cache folder of one tool at its pinned version: <cache>/<tool>/<version>."""
    return cache_root() / tool / versions()[version_key]
