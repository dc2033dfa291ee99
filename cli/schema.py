"""Write the JSON Schema of the stack files (schema/stack-file.schema.json), generated from the config models.

    python -m cli schema            # regenerate after changing a config model
    python -m cli schema --check    # exit 1 when the committed schema is stale (a test runs this too)

Editors with the YAML language server (VS Code's YAML extension, Neovim, JetBrains) pick it up from the
`# yaml-language-server: $schema=...` line at the top of each stack file: completion, hover text, inline errors.
Exit status: 0 written or up to date, 1 stale (with --check), 2 bad arguments.
"""

from __future__ import annotations

from cli import generated
from config.schema import SCHEMA_PATH, render_schema


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    return generated.run(argv, prog, __doc__, SCHEMA_PATH, render_schema)
