"""`python -m cli <command>`: the same tool as the `kserve-platform` command `pip install -e .` installs."""

from __future__ import annotations

import sys

from cli.main import main

if __name__ == "__main__":
    sys.exit(main())
