"""talentbot: the application package."""

import os

# RetryAfter.retry_after as a timedelta, and no deprecation warning on every 429.
os.environ.setdefault("PTB_TIMEDELTA", "1")
