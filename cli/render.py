"""Offline render: the Kubernetes objects `pulumi up` would apply for a stack, without CLI, plugin or cluster.

    python -m cli render --stack dev --out rendered/dev
    python -m cli render --stack prod --config-file review/Pulumi.prod.yaml --out /tmp/prod

Runs `__main__.py` in-process under Pulumi's mocks with the stack's config and writes one YAML file per object
(`0-crd/`, `1-manifest/`, named as `renderYamlToDirectory` names them) plus `helm-releases.yaml` (charts and
remote manifests), `resources.yaml` (every Pulumi resource with the object it applies and its options) and
`outputs.yaml` (the stack outputs `pulumi stack output` shows after `up`, secrets and values only known after `up`
marked). Secret config keys that `storageCredentials` reads but the stack file does not set are rendered with a
stand-in value marked secret (written as `[secret]`, like every secret), and each is named on stderr with the
`pulumi config set --secret` command that `pulumi up` needs; `--strict-secrets` makes them errors instead.
Warnings go to stderr, each marked `warning:`.
Exit status: 0 rendered, 2 invalid config or --out is a file (every error on stderr, nothing written),
3 the render could not be written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from config.errors import ConfigError
from offline import manifests
from offline.program import PROJECT_DIR, run_program
from offline.stackconfig import missing_stack
from offline.stackfile import read_stack_settings

EXIT_INVALID_CONFIG = 2  # also: --out is a file
EXIT_CANNOT_WRITE = 3


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stack", required=True, help="stack name: reads Pulumi.<stack>.yaml")
    parser.add_argument("--out", required=True, type=Path, help="directory to write the manifests to")
    parser.add_argument("--config-file", type=Path, help="read the stack settings from this file instead")
    parser.add_argument(
        "--strict-secrets",
        action="store_true",
        help="no stand-ins: a secret config key the stack file does not set is an error, as under `pulumi up`",
    )
    args = parser.parse_args(argv)

    stack_file = args.config_file or PROJECT_DIR / f"Pulumi.{args.stack}.yaml"
    not_a_folder = _not_a_folder(args.out)
    if not_a_folder is not None:
        print(
            f"render: --out {args.out}: {not_a_folder} is a file, not a folder; give a folder to write to",
            file=sys.stderr,
        )
        return EXIT_INVALID_CONFIG
    try:
        if not stack_file.is_file():
            raise ConfigError([missing_stack(stack_file)])
        settings = read_stack_settings(
            PROJECT_DIR / "Pulumi.yaml", stack_file, stand_in_secrets=not args.strict_secrets
        )
        run = run_program(settings, args.stack)
    except ConfigError as error:
        print(f"render: {stack_file}: {error}", file=sys.stderr)
        return EXIT_INVALID_CONFIG
    for warning in run.warnings:
        print(f"render: warning: {warning}", file=sys.stderr)
    rendered = manifests.render(run)
    try:
        manifests.write(rendered, args.out)
    except OSError as error:
        print(f"render: --out {args.out}: cannot write the render: {error.strerror or error}", file=sys.stderr)
        return EXIT_CANNOT_WRITE

    counts = rendered.summary()
    print(f"rendered stack '{args.stack}' to {args.out}: {len(rendered.objects)} objects")
    for kind, count in sorted(counts.items()):
        print(f"  {kind}: {count}")
    print(f"  Helm charts: {len(rendered.helm_releases)} (see {manifests.HELM_RELEASES_FILE})")
    print(f"  Remote manifests: {len(rendered.manifest_files)} (see {manifests.HELM_RELEASES_FILE})")
    print(f"  Pulumi resources: {len(rendered.resources)}, with their options (see {manifests.RESOURCES_FILE})")
    for key in settings.stand_in_keys:
        # The render goes on (it never deploys), but `pulumi up` would stop here: say what to run.
        print(
            f"render: note: secret config key '{key}' is not set in {stack_file.name}; rendered with a stand-in value "
            f"(shown as [secret]). Before `pulumi up`: pulumi config set --secret --stack {args.stack} {key} <value>",
            file=sys.stderr,
        )
    print(f"  Stack outputs after `pulumi up`: {manifests.OUTPUTS_FILE}")
    if run.warnings:
        print(f"  Warnings: {len(run.warnings)} (on stderr)")
    return 0


def _not_a_folder(out: Path) -> Path | None:
    """`out` itself, or the first of its parents, when it exists as something other than a folder."""
    for path in (out, *out.parents):
        if path.exists():
            return None if path.is_dir() else path
    return None
