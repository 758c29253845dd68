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


def test_paid_broadcast_is_read(monkeypatch):
    monkeypatch.setenv("TALENTBOT_PAID_BROADCAST", "1")
    assert load_settings().paid_broadcast is True
