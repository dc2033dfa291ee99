"""Dispatch `kserve-platform <command> ...` to the command's module; each module has `main(argv, prog) -> int`.

Commands are imported only when run, so `render` never loads MLServer and `--help` stays fast.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path

from cli import EXIT_BAD_INPUT, EXIT_OK

PROG = "kserve-platform"
# The commands run this checkout's Pulumi program and stack files: the command is installed editable (pip install -e).
PROJECT_DIR = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Command:
    module: str
    summary: str


COMMANDS: dict[str, Command] = {
    "render": Command("cli.render", "write the Kubernetes objects `pulumi up` would apply for a stack, offline"),
    "diff": Command("cli.diff", "compare two renders: what a change does to the objects and Helm charts"),
    "serve": Command("cli.serve", "serve one model of a stack locally on the real MLServer"),
    "snapshot": Command("cli.snapshot", "check or accept the identities of every live object (change safety)"),
    "check-secrets": Command("cli.check_secrets", "list the secret config keys a stack reads but does not set"),
    "mirror": Command("cli.mirror", "list every image, chart and manifest a stack pulls, for an air-gapped mirror"),
    "schema": Command("cli.schema", "write (or --check) the JSON Schema of the stack files, for editors"),
    "docs": Command("cli.docs", "write (or --check) the config reference generated from the config models"),
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = [
        f"usage: {PROG} <command> [options]    (or: python -m cli <command> [options])",
        "",
        "commands:",
        *(f"  {name.ljust(width)}  {command.summary}" for name, command in COMMANDS.items()),
        "",
        f"Run `{PROG} <command> --help` for a command's options.",
        "Exit status: 0 done, 1 findings (diff, unset secret, stale file, unsafe change), 2 bad input or config;",
        "render also 3 (cannot write the render), serve 3 (cannot be served here) and 4 (model not ready).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if args and args[0] in ("-h", "--help"):
        sys.stdout.write(usage())
        return EXIT_OK
    if not args:
        sys.stderr.write(usage())
        return EXIT_BAD_INPUT
    name, rest = args[0], args[1:]
    command = COMMANDS.get(name)
    if command is None:
        sys.stderr.write(f"{PROG}: unknown command {name!r}; commands: {', '.join(COMMANDS)}\n\n{usage()}")
        return EXIT_BAD_INPUT
    if not (PROJECT_DIR / "Pulumi.yaml").is_file():
        sys.stderr.write(
            f"{PROG}: no Pulumi.yaml in {PROJECT_DIR}: the command runs a checkout's Pulumi program and stack files; "
            "install it from the checkout with `pip install -e .` (not `pip install .`), or run `python -m cli` there\n"
        )
        return EXIT_BAD_INPUT
    module = importlib.import_module(command.module)
    try:
        return module.main(rest, prog=f"{PROG} {name}")
    except SystemExit as stop:  # argparse: --help (0) or a usage error (2)
        return stop.code if isinstance(stop.code, int) else EXIT_BAD_INPUT
