"""``python -m llamac`` is the same CLI as ``python -m llamac.run``."""

import sys

from llamac.app.cli import main

sys.exit(main())
