"""``python -m skevonas``: the same as the ``skevonas`` console script."""

import sys

from .cli import main

sys.exit(main())
