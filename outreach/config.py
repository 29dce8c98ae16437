"""Settings from the environment, one class per environment.

Everything that differs between installations (database, secret key, the library's name and
address for letters and labels) comes from environment variables; nothing secret lives in the repo.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

INSTANCE_DIR = Path(os.environ.get("OUTREACH_INSTANCE_DIR", Path(__file__).resolve().parent.parent / "instance"))


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept under instance/ (mode 600)."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int_setting(name: str, default: int | None, lowest: int, highest: int) -> int | None:
    """An integer setting within [lowest, highest]; a bad value stops the start with the setting named."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number from {lowest} to {highest}, not {raw!r}") from None
    if not lowest <= value <= highest:
        raise ValueError(f"{name} must be a whole number from {lowest} to {highest}, not {raw!r}")
    return value


class Config:
    DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'outreach.db'}")

    # The library as it appears on letters and labels (差出人).
    LIBRARY_NAME = os.environ.get("LIBRARY_NAME", "西宮市立中央図書館")
    LIBRARY_SECTION = os.environ.get("LIBRARY_SECTION", "読書振興課")
    LIBRARY_POSTAL_CODE = os.environ.get("LIBRARY_POSTAL_CODE", "662-0914")
    LIBRARY_ADDRESS = os.environ.get("LIBRARY_ADDRESS", "兵庫県西宮市川添町15-26")
    LIBRARY_PHONE = os.environ.get("LIBRARY_PHONE", "0798-33-0183")
    LIBRARY_FAX = os.environ.get("LIBRARY_FAX", "0798-33-0189")
    LIBRARY_HEAD_TITLE = os.environ.get("LIBRARY_HEAD_TITLE", "西宮市立中央図書館長")
    # 文書番号 prefix: letters are numbered 西図読第1号, 第2号 … within each fiscal year.
    LETTER_NUMBER_PREFIX = os.environ.get("LETTER_NUMBER_PREFIX", "西図読")
    # Printed on home-delivery address labels (mail loans always carry 特定録音物等郵便物).
    HOME_DELIVERY_POSTAL_MARKING = os.environ.get("HOME_DELIVERY_POSTAL_MARKING", "")
    # The city whose residents the services are for (市内在住): prefecture + city as in postal data.
    LIBRARY_PREFECTURE = os.environ.get("LIBRARY_PREFECTURE", "兵庫県")
    LIBRARY_CITY = os.environ.get("LIBRARY_CITY", "西宮市")

    BABEL_DEFAULT_LOCALE = "ja"
    BABEL_DEFAULT_TIMEZONE = "Asia/Tokyo"
    LANGUAGES = ("ja", "en")

    # Session and login protection.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    SESSION_COOKIE_NAME = "outreach_session"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    INACTIVITY_TIMEOUT = timedelta(minutes=int(os.environ.get("OUTREACH_INACTIVITY_MINUTES", "30")))
    LOGIN_MAX_FAILURES = int(os.environ.get("OUTREACH_LOGIN_MAX_FAILURES", "5"))
    LOGIN_LOCKOUT = timedelta(minutes=int(os.environ.get("OUTREACH_LOGIN_LOCKOUT_MINUTES", "15")))
    REMEMBER_COOKIE_DURATION = timedelta(0)
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the (server-side ended) session
    # The scheduler plans the month at OUTREACH_PLAN_HOUR (library time) on its first open day from
    # OUTREACH_PLAN_DAY (1-28; unset: the month's first open day).
    OUTREACH_PLAN_DAY = _int_setting("OUTREACH_PLAN_DAY", None, 1, 28)
    OUTREACH_PLAN_HOUR = _int_setting("OUTREACH_PLAN_HOUR", 7, 0, 23)
    PAGE_SIZE = 20  # rows per result page: short pages read better at 200% zoom and with a screen reader
    TESTING = False

    def __init__(self) -> None:
        self.SECRET_KEY = _secret_key()


class TestConfig(Config):
    TESTING = True
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # fast hashes keep the suite quick; production uses scrypt


def load_config(testing: bool = False, **overrides: object) -> Config:
    config: Config = TestConfig() if testing else Config()
    for key, value in overrides.items():
        setattr(config, key, value)
    return config
