"""``python -m llamac.run``: the command line (``llamac.app.cli``)."""

import sys

from llamac.app.cli import main

if __name__ == "__main__":
    sys.exit(main())
