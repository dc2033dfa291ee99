"""Write the JSON Schemas of the stack files (schema/stack-file.schema.json) and of the model files
(schema/model-file.schema.json, the files `modelFiles` names), generated from the config models.

    python -m cli schema            # regenerate after changing a config model
    python -m cli schema --check    # exit 1 when a committed schema is stale (a test runs this too)

Editors with the YAML language server (VS Code's YAML extension, Neovim, JetBrains) pick them up from the
`# yaml-language-server: $schema=...` line at the top of each stack file and model file: completion, hover text,
inline errors.
Exit status: 0 written or up to date, 1 stale (with --check), 2 bad arguments.
"""

from __future__ import annotations

from cli import generated
from config.schema import MODEL_FILE_SCHEMA_PATH, SCHEMA_PATH, render_model_file_schema, render_schema


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    return generated.run(
        argv, prog, __doc__, {SCHEMA_PATH: render_schema, MODEL_FILE_SCHEMA_PATH: render_model_file_schema}
    )
