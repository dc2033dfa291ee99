"""Change safety: compare what each stack declares with its committed snapshot (tests/snapshots/<stack>.json),
or accept the current identities after a deliberate, reviewed change.

    python -m cli snapshot                         # every stack: list renames, replacements and deletions
    python -m cli snapshot --stack prod --update   # accept prod's current identities (review the diff!)

An identity is a resource's URN and, for Kubernetes objects, the fields whose change makes the provider replace
the object (see offline/snapshot.py).
Exit status: 0 no unsafe change (or updated), 1 unsafe changes listed, 2 unknown stack or invalid config.
"""

from __future__ import annotations

import argparse
import json
import sys

from cli import EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_OK
from config.errors import ConfigError
from offline.program import PROJECT_DIR
from offline.snapshot import SNAPSHOT_DIR, committed_stacks, run_stack, snapshot, snapshot_path, unsafe_changes


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--stack", action="append", help="stack name (repeatable; default: every committed Pulumi.<stack>.yaml)"
    )
    parser.add_argument("--update", action="store_true", help="write the current identities instead of checking")
    args = parser.parse_args(argv)
    known = committed_stacks()
    stacks = args.stack or known
    unknown = [stack for stack in stacks if stack not in known]
    if unknown:
        print(f"snapshot: no stack file for {', '.join(unknown)}; stacks: {', '.join(known)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    found = False
    for stack in stacks:
        try:
            run = run_stack(stack)
        except ConfigError as error:
            print(f"snapshot: Pulumi.{stack}.yaml: {error}", file=sys.stderr)
            return EXIT_BAD_INPUT
        path = snapshot_path(stack)
        if args.update:
            SNAPSHOT_DIR.mkdir(parents=True, exist_ok=True)
            current = snapshot(run)
            path.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n", encoding="utf-8")
            print(f"{path.relative_to(PROJECT_DIR)}: {len(current)} resources")
            continue
        committed = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        problems = unsafe_changes(committed, run)
        found = found or bool(problems)
        print(f"stack {stack}: {len(problems) or 'no'} unsafe change(s)")
        for problem in problems:
            print(f"  {problem}")
    return EXIT_FINDINGS if found else EXIT_OK
