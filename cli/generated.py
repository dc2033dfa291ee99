"""Write a generated file, or with `--check` report whether the committed copy is stale (shared by schema/docs)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from cli import EXIT_FINDINGS, EXIT_OK

PROJECT_DIR = Path(__file__).resolve().parent.parent


def run(argv: list[str] | None, prog: str | None, doc: str, default_path: str, generate: Callable[[], str]) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--out", type=Path, default=PROJECT_DIR / default_path, help=f"file to write (default: {default_path})"
    )
    parser.add_argument(
        "--check", action="store_true", help=f"write nothing; exit {EXIT_FINDINGS} if the file is missing or stale"
    )
    args = parser.parse_args(argv)
    text = generate()
    current = args.out.read_text(encoding="utf-8") if args.out.is_file() else None
    if args.check:
        if current == text:
            print(f"{args.out}: up to date")
            return EXIT_OK
        print(f"{args.out}: stale; regenerate it with `python -m cli {(prog or '').split()[-1]}`", file=sys.stderr)
        return EXIT_FINDINGS
    if args.out.is_dir():
        print(f"{args.out} is a directory: --out names the file to write", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return EXIT_OK
