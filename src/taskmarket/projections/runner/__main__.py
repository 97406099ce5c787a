"""`python -m taskmarket.projections.runner [NAME...]`: follow the log until SIGTERM/SIGINT.

Uses DATABASE_URL (or the embedded server of TASKMARKET_DATA_DIR), like the CLI.
"""

from __future__ import annotations

import sys

from ...cli import main

if __name__ == "__main__":
    sys.exit(main(["projections", "run", *sys.argv[1:]]))
