from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings

VARIABLES = (
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_API_BASE_URL",
    "TALENTBOT_DB",
    "TALENTBOT_ADMIN_IDS",
    "TALENTBOT_TIMEZONE",
    "TALENTBOT_DEFAULT_LOCALE",
    "TALENTBOT_WEBHOOK_URL",
    "TALENTBOT_BACKUP_DIR",
    "TALENTBOT_BACKUP_KEEP",
    "TALENTBOT_RETENTION_DAYS",
    "TALENTBOT_NIGHTLY_AT",
    "TALENTBOT_HEALTH_MAX_SILENCE",
    "TALENTBOT_LOG_FORMAT",
    "TALENTBOT_PAID_BROADCAST",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    # A .env in the working directory must not leak into these tests.
    monkeypatch.chdir(tmp_path)


def test_defaults_match_the_design():
    settings = load_settings()
    assert settings.bot_token is None
    assert settings.api_base_url == "https://api.telegram.org/bot"
    assert settings.db_path == Path("data/talentbot.sqlite3")
    assert settings.admin_ids == frozenset()
    assert settings.timezone == "Asia/Shanghai"
    assert settings.default_locale == "zh"
    assert settings.webhook_url is None
    assert settings.paid_broadcast is False  # nobody pays for messages unless they chose to


def test_environment_is_read(monkeypatch):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:abc")
    monkeypatch.setenv("TALENTBOT_ADMIN_IDS", " 42, 7 ,")
    monkeypatch.setenv("TALENTBOT_TIMEZONE", "Europe/Berlin")
    monkeypatch.setenv("TALENTBOT_DEFAULT_LOCALE", "EN")
    monkeypatch.setenv("TALENTBOT_WEBHOOK_URL", "")
    settings = load_settings()
    assert settings.bot_token == "1:abc"
    assert settings.admin_ids == frozenset({42, 7})
    assert settings.tz.key == "Europe/Berlin"
    assert settings.default_locale == "en"
    assert settings.webhook_url is None


def test_dotenv_file_is_read(tmp_path):
    (tmp_path / ".env").write_text("TALENTBOT_ADMIN_IDS=5\nTALENTBOT_DB=x/y.sqlite3\n")
    settings = load_settings()
    assert settings.admin_ids == frozenset({5})
    assert settings.db_path == Path("x/y.sqlite3")


def test_non_numeric_admin_id_is_named(monkeypatch):
    monkeypatch.setenv("TALENTBOT_ADMIN_IDS", "42,bob")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value) == "TALENTBOT_ADMIN_IDS: 'bob' is not a numeric Telegram user id"


def test_unknown_time_zone_is_named(monkeypatch):
    monkeypatch.setenv("TALENTBOT_TIMEZONE", "Asia/Atlantis")
    with pytest.raises(
        SettingsError, match=r"^TALENTBOT_TIMEZONE: 'Asia/Atlantis' is not a known"
    ):
        load_settings()


def test_unsupported_locale_is_named(monkeypatch):
    monkeypatch.setenv("TALENTBOT_DEFAULT_LOCALE", "fr")
    with pytest.raises(SettingsError, match=r"^TALENTBOT_DEFAULT_LOCALE: 'fr' is not supported"):
        load_settings()


def test_two_bad_variables_are_both_named(monkeypatch):
    monkeypatch.setenv("TALENTBOT_DEFAULT_LOCALE", "fr")
    monkeypatch.setenv("TALENTBOT_ADMIN_IDS", "x")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "TALENTBOT_DEFAULT_LOCALE" in str(caught.value)
    assert "TALENTBOT_ADMIN_IDS" in str(caught.value)


def test_webhook_listens_on_loopback_unless_told(monkeypatch):
    monkeypatch.delenv("TALENTBOT_WEBHOOK_LISTEN", raising=False)
    assert load_settings().webhook_listen == "127.0.0.1"
    monkeypatch.setenv("TALENTBOT_WEBHOOK_LISTEN", "0.0.0.0")
    assert load_settings().webhook_listen == "0.0.0.0"


@pytest.mark.parametrize("secret", ["has space", "ünïcode", "x" * 257, "semi;colon"])
def test_webhook_secret_telegram_would_refuse_is_named(monkeypatch, secret):
    monkeypatch.setenv("TALENTBOT_WEBHOOK_SECRET", secret)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value).startswith("TALENTBOT_WEBHOOK_SECRET: use 1 to 256 characters")


def test_upkeep_settings_have_safe_defaults_and_read_as_written(monkeypatch):
    from datetime import time, timedelta

    settings = load_settings()
    assert settings.backup_dir == Path("data/backups")
    assert (settings.backup_keep, settings.retention_days) == (14, 180)
    assert settings.nightly_at == time(3, 30)
    assert settings.health_max_silence == timedelta(hours=24)
    assert settings.log_format == "text"
    monkeypatch.setenv("TALENTBOT_NIGHTLY_AT", "02:15")
    monkeypatch.setenv("TALENTBOT_HEALTH_MAX_SILENCE", "90m")
    monkeypatch.setenv("TALENTBOT_LOG_FORMAT", "JSON")
    settings = load_settings()
    assert settings.nightly_at == time(2, 15)
    assert settings.health_max_silence == timedelta(minutes=90)
    assert settings.log_format == "json"


def test_a_wrong_log_format_is_named(monkeypatch):
    monkeypatch.setenv("TALENTBOT_LOG_FORMAT", "xml")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value).startswith("TALENTBOT_LOG_FORMAT: ")


def test_paid_broadcast_is_read(monkeypatch):
    monkeypatch.setenv("TALENTBOT_PAID_BROADCAST", "1")
    assert load_settings().paid_broadcast is True
