"""``python -m llamac`` is the same CLI as ``python -m llamac.run``."""

import sys

from llamac.run import main

sys.exit(main())
