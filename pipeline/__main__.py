"""``python -m pipeline`` runs the command line."""

import sys

from pipeline.cli import main

if __name__ == "__main__":  # not when a child process of the prepare pool re-imports this module
    sys.exit(main())
