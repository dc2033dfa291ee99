"""List the secret config keys a stack's storageCredentials read but its stack file does not set.

    python -m cli check-secrets --stack prod
    python -m cli check-secrets --stack review --config-file review/Pulumi.prod.yaml

What the deploy workflow runs before `pulumi up`: the committed stack files hold no ciphertext, so each team sets
the secret keys with its own secrets provider and commits the `secure:` values the Pulumi CLI writes.
Exit status: 0 every secret key is set, 1 some are not (the commands to set them are printed), 2 invalid config.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cli import EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_OK
from config.errors import ConfigError
from offline.stackconfig import unset_secret_commands


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stack", required=True, help="stack name: reads Pulumi.<stack>.yaml")
    parser.add_argument("--config-file", type=Path, help="read the stack settings from this file instead")
    args = parser.parse_args(argv)
    try:
        commands = unset_secret_commands(args.stack, args.config_file)
    except ConfigError as error:
        print(f"check-secrets: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not commands:
        print(f"stack {args.stack}: every secret config key the credentials read is set")
        return EXIT_OK
    print(
        f"stack {args.stack}: {len(commands)} secret config key(s) are not set in the stack file; set them "
        "with the stack's own secrets provider and commit the `secure:` values the CLI writes:",
        file=sys.stderr,
    )
    for command in commands:
        print(f"  {command}", file=sys.stderr)
    return EXIT_FINDINGS
