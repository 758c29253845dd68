"""Configuration from the environment or a `.env` file."""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

SUPPORTED_LOCALES = ("zh", "en")


class SettingsError(Exception):
    """Raised with one readable line per bad variable."""


class Settings(BaseSettings):
    """Every knob of the bot; names are the environment variables of DESIGN.md."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    bot_token: str | None = Field(default=None, alias="TELEGRAM_BOT_TOKEN")
    api_base_url: str = Field(
        default="https://api.telegram.org/bot", alias="TELEGRAM_API_BASE_URL"
    )
    db_path: Path = Field(default=Path("data/talentbot.sqlite3"), alias="TALENTBOT_DB")
    # NoDecode: a comma-separated list is friendlier in a .env file than a JSON array.
    admin_ids: Annotated[frozenset[int], NoDecode] = Field(
        default=frozenset(), alias="TALENTBOT_ADMIN_IDS"
    )
    timezone: str = Field(default="Asia/Shanghai", alias="TALENTBOT_TIMEZONE")
    default_locale: str = Field(default="zh", alias="TALENTBOT_DEFAULT_LOCALE")
    # Messages a second to different chats; Telegram allows about 30 for bulk notifications.
    send_rate: float = Field(default=30.0, gt=0, le=1000, alias="TALENTBOT_SEND_RATE")
    # Bulk with allow_paid_broadcast: up to 1,000 messages a second, 0.1 Telegram Stars each.
    paid_broadcast: bool = Field(default=False, alias="TALENTBOT_PAID_BROADCAST")
    # How often stored reminders are looked at, in seconds.
    reminder_interval: float = Field(default=30.0, gt=0, alias="TALENTBOT_REMINDER_INTERVAL")
    # When signed-up talents are reminded before an activity starts, e.g. "24h,1h" or "2h,30m".
    reminders: Annotated[tuple[timedelta, ...], NoDecode] = Field(
        default=(timedelta(hours=24), timedelta(hours=1)), alias="TALENTBOT_REMINDERS"
    )
    # How many minutes before an activity's start its check-in code starts to work.
    checkin_early_minutes: int = Field(
        default=60, ge=0, le=24 * 60, alias="TALENTBOT_CHECKIN_EARLY"
    )
    # The programme's season (a winter) starts on this day, MM-DD, and ends the day before it a
    # year later; reports and service certificates count by it.
    season_start: str = Field(default="10-01", alias="TALENTBOT_SEASON_START")
    webhook_url: str | None = Field(default=None, alias="TALENTBOT_WEBHOOK_URL")
    # Loopback: the webhook is meant to sit behind a reverse proxy that terminates TLS; listening
    # on every interface has to be asked for.
    webhook_listen: str = Field(default="127.0.0.1", alias="TALENTBOT_WEBHOOK_LISTEN")
    webhook_port: int = Field(default=8443, alias="TALENTBOT_WEBHOOK_PORT")
    # When unset, `run` makes a random one for each start (see bot.cli.webhook_secret).
    webhook_secret: str | None = Field(default=None, alias="TALENTBOT_WEBHOOK_SECRET")
    # Nightly upkeep: a backup, then old delivery rows and reminders deleted and space reclaimed.
    backup_dir: Path = Field(default=Path("data/backups"), alias="TALENTBOT_BACKUP_DIR")
    backup_keep: int = Field(default=14, ge=1, le=3650, alias="TALENTBOT_BACKUP_KEEP")
    retention_days: int = Field(default=180, ge=1, alias="TALENTBOT_RETENTION_DAYS")
    # Local time (TALENTBOT_TIMEZONE) of the nightly upkeep; quiet hours suit it best.
    nightly_at: time = Field(default=time(3, 30), alias="TALENTBOT_NIGHTLY_AT")
    # /healthz answers 503 when no update arrived for this long (the webhook may be cut off).
    health_max_silence: Annotated[timedelta, NoDecode] = Field(
        default=timedelta(hours=24), alias="TALENTBOT_HEALTH_MAX_SILENCE"
    )
    log_format: Literal["text", "json"] = Field(default="text", alias="TALENTBOT_LOG_FORMAT")

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _parse_admin_ids(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        ids = set()
        for part in value.replace(";", ",").split(","):
            part = part.strip()
            if not part:
                continue
            if not part.lstrip("-").isdigit():
                raise ValueError(f"{part!r} is not a numeric Telegram user id")
            ids.add(int(part))
        return frozenset(ids)

    @field_validator("reminders", mode="before")
    @classmethod
    def _parse_reminders(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        offsets = [parse_duration(part) for part in value.split(",") if part.strip()]
        return tuple(sorted(set(offsets), reverse=True))

    @field_validator("health_max_silence", mode="before")
    @classmethod
    def _parse_silence(cls, value: object) -> object:
        return parse_duration(value) if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_format(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not a known time zone (use a name like Asia/Shanghai)"
            ) from None
        return value

    @field_validator("season_start")
    @classmethod
    def _check_season_start(cls, value: str) -> str:
        match = re.fullmatch(r"\s*(\d{1,2})-(\d{1,2})\s*", value)
        month, day = (int(match[1]), int(match[2])) if match else (0, 0)
        try:
            # 2025 is not a leap year: a season cannot start on a day most years lack.
            date(2025, month, day)
        except ValueError:
            raise ValueError(
                f"{value!r} is not a day of the year as MM-DD (for example 10-01)"
            ) from None
        return f"{month:02d}-{day:02d}"

    @field_validator("default_locale")
    @classmethod
    def _check_locale(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in SUPPORTED_LOCALES:
            raise ValueError(
                f"{value!r} is not supported (choose one of {', '.join(SUPPORTED_LOCALES)})"
            )
        return value

    @field_validator("bot_token", "webhook_url", "webhook_secret")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("webhook_secret")
    @classmethod
    def _check_webhook_secret(cls, value: str | None) -> str | None:
        # Telegram's own rule for setWebhook's secret_token; refused here, not at setWebhook.
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value):
            raise ValueError("use 1 to 256 characters from A-Z, a-z, 0-9, _ and -")
        return value

    @property
    def season_month_day(self) -> tuple[int, int]:
        """The month and day on which a season starts."""
        month, day = self.season_start.split("-")
        return int(month), int(day)

    @property
    def tz(self) -> ZoneInfo:
        """The zone in which times are shown and typed."""
        return ZoneInfo(self.timezone)


_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def parse_duration(text: str) -> timedelta:
    """A duration as people write it in a settings file: ``24h``, ``90m``, ``2d``, ``30s``."""
    part = text.strip().lower()
    match = re.fullmatch(r"(\d+)\s*([dhms])", part)
    if match is None:
        raise ValueError(f"{part!r} is not a duration like 24h, 90m or 2d")
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning validation errors into one line per variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            field = error["loc"][0] if error["loc"] else "?"
            alias = Settings.model_fields[field].alias if field in Settings.model_fields else field
            message = error["msg"].removeprefix("Value error, ")
            lines.append(f"{alias or field}: {message}")
        raise SettingsError("; ".join(lines)) from None
