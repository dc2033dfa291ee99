"""Everything a stack pulls, and where its mirror (`kserve-platform:mirror`) holds it: the copy list for an
air-gapped or private-registry cluster.

    python -m cli mirror --stack prod --format skopeo > sync.yaml   # skopeo sync --src yaml --dest docker ...
    python -m cli mirror --stack prod --format crane                # crane copy SOURCE TARGET lines
    python -m cli mirror --stack prod --format helm                 # helm pull + helm push (and manifest) lines
    python -m cli mirror --stack prod --format json                 # all of it, with the component of each

Images are listed with their tag or digest, source -> mirror, by the same function the program deploys them with
(`config.mirror.mirror_image`: keep the path, drop the source host). `skopeo` and `crane` list the images the stack
pulls; `json` also lists those only referenced (disabled built-in runtimes, the ART explainer, Envoy's rate
limiter: rewritten to the mirror in the cluster, never pulled). A stack without `mirror` is listed against
`--registry` (default: an example prefix), so the list can be made before the setting exists.
Exit status: 0 listed, 2 invalid config or unknown stack.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cli import EXIT_BAD_INPUT, EXIT_OK
from config.errors import ConfigError
from offline.mirror import EXAMPLE_REGISTRY, FORMATS, RENDERERS, mirror_plan
from offline.program import PROJECT_DIR
from offline.stackconfig import load_stack_config, stack_values
from offline.stackfile import read_stack_settings


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stack", required=True, help="stack whose images, charts and manifests to list")
    parser.add_argument("--config-file", type=Path, help="read the stack settings from this file instead")
    parser.add_argument("--format", choices=FORMATS, default="json")
    parser.add_argument("--registry", help=f"mirror registry for a stack without `mirror` (default {EXAMPLE_REGISTRY})")
    args = parser.parse_args(argv)
    try:
        stack_file, stack = load_stack_config(args.stack, args.config_file, PROJECT_DIR)
    except ConfigError as error:
        print(f"mirror: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    values = stack_values(read_stack_settings(PROJECT_DIR / "Pulumi.yaml", stack_file), PROJECT_DIR)
    sys.stdout.write(RENDERERS[args.format](mirror_plan(stack, values, args.registry)))
    return EXIT_OK
