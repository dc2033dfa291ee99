"""Write the config reference (docs/reference/config.md), generated from the config models.

    python -m cli docs            # regenerate after changing a config model
    python -m cli docs --check    # exit 1 when the committed reference is stale (a test runs this too)

Keys, types, defaults and allowed values come from the models; descriptions from their `Field(description=...)`.
Exit status: 0 written or up to date, 1 stale (with --check), 2 bad arguments.
"""

from __future__ import annotations

from cli import generated
from config.reference import REFERENCE_PATH, render_reference


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    return generated.run(argv, prog, __doc__, {REFERENCE_PATH: render_reference})
