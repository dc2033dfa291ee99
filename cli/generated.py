"""Write generated files, or with `--check` report whether the committed copies are stale (shared by schema/docs)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from cli import EXIT_FINDINGS, EXIT_OK

PROJECT_DIR = Path(__file__).resolve().parent.parent


def run(argv: list[str] | None, prog: str | None, doc: str, outputs: Mapping[str, Callable[[], str]]) -> int:
    """`outputs`: each generated file's path (relative to the project) and what writes it. `--out` names the first
    file; the others are written beside it under their own names."""
    first, *others = outputs
    parser = argparse.ArgumentParser(prog=prog, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    beside = f" ({', '.join(Path(path).name for path in others)} beside it)" if others else ""
    parser.add_argument(
        "--out", type=Path, default=PROJECT_DIR / first, help=f"file to write (default: {first}){beside}"
    )
    parser.add_argument(
        "--check", action="store_true", help=f"write nothing; exit {EXIT_FINDINGS} if a file is missing or stale"
    )
    args = parser.parse_args(argv)
    if args.out.is_dir():
        print(f"{args.out} is a directory: --out names the file to write", file=sys.stderr)
        return 2
    targets = {args.out: outputs[first], **{args.out.parent / Path(path).name: outputs[path] for path in others}}
    texts = {target: generate() for target, generate in targets.items()}
    if args.check:
        stale = [target for target, text in texts.items() if _current(target) != text]
        for target in texts:
            if target in stale:
                print(
                    f"{target}: stale; regenerate it with `python -m cli {(prog or '').split()[-1]}`", file=sys.stderr
                )
            else:
                print(f"{target}: up to date")
        return EXIT_FINDINGS if stale else EXIT_OK
    for target, text in texts.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target}")
    return EXIT_OK


def _current(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None
