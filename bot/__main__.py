"""``python -m bot`` does what ``talentbot`` does."""

import sys

from bot.cli import main

sys.exit(main())
