"""``python -m skevonas``: the same as the ``skevonas`` console script."""

import sys

from .cli.commands import main

sys.exit(main())
