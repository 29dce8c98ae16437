"""The library's "today": dates are the library's local dates (Asia/Tokyo), not the server's."""

from __future__ import annotations

import os
from datetime import date, datetime
from zoneinfo import ZoneInfo

LIBRARY_TIMEZONE = ZoneInfo(os.environ.get("OUTREACH_TIMEZONE", "Asia/Tokyo"))


def today() -> date:
    """Today's date at the library."""
    return datetime.now(LIBRARY_TIMEZONE).date()
