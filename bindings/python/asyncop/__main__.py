"""``python -m asyncop worker module:tasks``: see ``_cli.py``."""

from __future__ import annotations

import sys

from ._cli import main

sys.exit(main())
