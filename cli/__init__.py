"""kserve-platform's command-line tool: one command, one subcommand per job, each a thin adapter around the code
that does the work (`offline/`, `localserve/`, `config/`).

    python -m cli <command> [options]        # from a checkout, with requirements.txt installed
    kserve-platform <command> [options]      # after `pip install -e .`

Exit status, for every command: 0 done (nothing found), 1 findings (a diff, an unset secret, a stale file, an
unsafe change), 2 bad input (invalid stack config, unknown stack, wrong arguments). `render` adds 3 (the render
cannot be written), `serve` 3 (the model cannot be served here) and 4 (MLServer did not get the model ready).
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_BAD_INPUT = 2
