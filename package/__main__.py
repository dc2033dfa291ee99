"""`python3 -m package`: the kserve-platform provider (what `pulumi-resource-kserve-platform` runs)."""

from package.server import main

main()
