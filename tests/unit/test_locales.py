"""The catalogs are complete, parallel, and hold every key the code asks for."""

import re
from pathlib import Path

import pytest

from bot.i18n import Html, Translator, load_catalog, placeholders, supported_locale
from bot.services.campaigns import UNITS
from bot.services.kinds import ACTIVITY_KINDS, TOPIC_CAMPAIGNS, TOPICS
from bot.services.profile import EXPERTISE
from bot.settings import SUPPORTED_LOCALES
from handlers.campaigns import Step as CampaignStep
from handlers.catalog import FIELDS as REWARD_FIELDS
from handlers.home import BUTTON_COMMANDS
from handlers.manage import EDITABLE_FIELDS as ACTIVITY_FIELDS
from handlers.menus import COMMANDS
from handlers.registration import EDITABLE
from storage.activities import SignupOutcome
from storage.campaigns import WAYS
from storage.models import ActivityStatus, RoleName, StationKind
from storage.points import CheckinOutcome
from storage.rewards import RedeemOutcome as RewardOutcome
from storage.rewards import UseOutcome
from storage.roles import RedeemOutcome

ROOT = Path(__file__).resolve().parents[2]
KEY_LITERAL = re.compile(r"[\"']((?:[a-z_]+)\.[a-z_]+)[\"']")


def catalogs():
    return {locale: load_catalog(locale) for locale in SUPPORTED_LOCALES}


def test_catalogs_have_the_same_keys():
    zh, en = load_catalog("zh"), load_catalog("en")
    assert sorted(set(zh) - set(en)) == []
    assert sorted(set(en) - set(zh)) == []


def test_catalogs_have_the_same_placeholders():
    zh, en = load_catalog("zh"), load_catalog("en")
    differ = {key: (placeholders(zh[key]), placeholders(en[key])) for key in zh if key in en}
    assert {k: v for k, v in differ.items() if v[0] != v[1]} == {}


def test_no_text_is_empty():
    for locale, catalog in catalogs().items():
        assert [key for key, text in catalog.items() if not text.strip()] == [], locale


def used_keys():
    """Every literal catalog key in the code, plus the families built from values."""
    sections = {key.split(".")[0] for key in load_catalog("en")}
    found = set()
    for folder in ("bot", "handlers"):
        for path in (ROOT / folder).rglob("*.py"):
            for key in KEY_LITERAL.findall(path.read_text("utf-8")):
                if key.split(".")[0] in sections:
                    found.add(key)
    found |= {f"expertise.{code}" for code in EXPERTISE}
    found |= {command.description_key for command in COMMANDS}
    found |= {
        f"home.{part}_{command}" for part in ("button", "about") for command in BUTTON_COMMANDS
    }
    found |= {f"role.{role}" for role in RoleName}
    found |= {f"station_kind.{kind}" for kind in StationKind}
    found |= {f"profile.edit_{field}" for field in EDITABLE}
    found |= {f"admin.pick_station_{purpose}" for purpose in ("rename", "invite")}
    found |= {f"kind.{kind}" for kind in ACTIVITY_KINDS}
    found |= {f"activity.status_{status}" for status in ActivityStatus}
    # "team_only" is told with the teams' own text (team.activity_for_team).
    found |= {
        f"activity.outcome_{outcome}"
        for outcome in SignupOutcome
        if outcome not in ("unknown", "team_only")
    }
    found |= {f"activity.field_{field}" for field in ACTIVITY_FIELDS}
    found |= {
        f"checkin.{outcome}"
        for outcome in CheckinOutcome
        if outcome not in ("unknown", "not_open")
    }
    found |= {f"points.kind_{kind}" for kind in ("earn", "redeem", "refund", "adjust")}
    found |= {f"points.window_{o}" for o in CheckinOutcome if o not in ("checked_in", "already")}
    found |= {f"rewards.refused_{o}" for o in RewardOutcome if o != "redeemed"}
    found |= {f"rewards.use_{o}" for o in UseOutcome}
    found |= {f"rewards.status_{s}" for s in ("valid", "used", "expired", "cancelled")}
    found |= {f"rewards.{p}_{f}" for p in ("field", "ask") for f in REWARD_FIELDS}
    found |= {
        f"settings.topic_{topic}"
        for topic in TOPICS
        if not topic.startswith("announce.") and topic != TOPIC_CAMPAIGNS
    }
    found |= {f"campaign.unit_{unit}" for unit in UNITS}
    found |= {f"campaign.{p}_{way}" for p in ("way", "mine", "ask", "pledged") for way in WAYS}
    found |= {f"campaign.ask_{step.name.lower()}" for step in CampaignStep if step <= 7}
    found |= {
        f"invite.{outcome}"
        for outcome in RedeemOutcome
        if outcome not in (RedeemOutcome.GRANTED, RedeemOutcome.ALREADY_HAD)
    }
    return found


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_key_the_code_uses_exists(locale):
    catalog = load_catalog(locale)
    assert sorted(used_keys() - set(catalog)) == []


def test_the_key_scan_finds_keys():
    # Guards the test above against a regular expression that silently matches nothing.
    keys = used_keys()
    assert "reg.ask_name" in keys
    assert "common.not_allowed" in keys


def test_parameters_are_escaped_unless_marked_html():
    t = Translator("en")
    assert (
        t(
            "en",
            "reg.summary",
            name="A<B & C",
            phone="",
            expertise="",
            title="",
            region="",
            station="",
            stay="",
        ).splitlines()[1]
        == "Name: A&lt;B &amp; C"
    )
    assert "<b>x</b>" in t("en", "profile.stay_range", start=Html("<b>x</b>"), end="y")


def test_language_resolution_order():
    t = Translator("zh")
    assert t.resolve("en", "zh-hans") == "en"  # the stored choice wins
    assert t.resolve(None, "en-US") == "en"  # then Telegram's
    assert t.resolve(None, "fr") == "zh"  # then the default
    assert t.resolve(None, None) == "zh"
    assert supported_locale("zh-hant") == "zh"
