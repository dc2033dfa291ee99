"""Compare two offline renders of a stack: what a pull request changes in the Kubernetes objects and Helm charts.

    python -m cli render --stack dev --out /tmp/base/dev          # on the base revision (e.g. a git worktree of main)
    python -m cli render --stack dev --out /tmp/head/dev          # on your branch
    python -m cli diff /tmp/base/dev /tmp/head/dev --stack dev
    python -m cli diff /tmp/base/dev /tmp/head/dev --stack dev --format markdown --out comment.md

Objects are matched by (apiVersion, kind, namespace, name); changed objects list their changed fields as dotted
paths with old -> new values. Helm charts, remote manifests (`helm-releases.yaml`) and resource options
(`resources.yaml`) are compared too; changes that force a replacement are listed first (`offline/immutable.py`).
A BASE_DIR that does not exist counts as an empty render (a new stack, or a base revision that cannot render it).
Exit status: 0 (1 with --exit-code when there are changes), 2 on unusable input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from offline.diff import RenderDirError, diff_directories, to_markdown, to_text

EXIT_CHANGES = 1
EXIT_BAD_INPUT = 2


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("base", type=Path, help="render directory of the base revision")
    parser.add_argument("head", type=Path, help="render directory of the head revision")
    parser.add_argument("--stack", default="stack", help="stack name, shown in the report and its PR-comment marker")
    parser.add_argument("--format", choices=("text", "markdown"), default="text")
    parser.add_argument("--base-label", default="base", help="how to call the base revision (e.g. a short sha)")
    parser.add_argument("--head-label", default="head", help="how to call the head revision")
    parser.add_argument(
        "--out", "--output", dest="output", type=Path, help="write the report to this file instead of stdout"
    )
    parser.add_argument("--exit-code", action="store_true", help=f"exit {EXIT_CHANGES} when the renders differ")
    args = parser.parse_args(argv)

    try:
        result = diff_directories(args.base, args.head)
    except (RenderDirError, OSError) as error:
        print(f"diff: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.format == "markdown":
        report = to_markdown(result, args.stack, args.base_label, args.head_label)
    else:
        report = to_text(result, args.stack)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(report, encoding="utf-8")
    else:
        sys.stdout.write(report)
    return EXIT_CHANGES if args.exit_code and not result.empty else 0
