"""Whole flows, walked the way a person would, for tests that need them as a starting point."""

from __future__ import annotations

from storage.models import Station, StationKind
from tests.support.chat import ChatUser
from tests.support.harness import ADMIN_ID, START, BotHarness

# The registration questions in order, and the catalog text each one asks with.
STEPS = ["consent", "name", "phone", "expertise", "title", "region", "station", "stay", "confirm"]
QUESTION = {
    "consent": "reg.ask_consent",
    "name": "reg.ask_name",
    "phone": "reg.ask_phone",
    "expertise": "reg.ask_expertise",
    "title": "reg.ask_title",
    "region": "reg.ask_region",
    "station": "reg.ask_station",
    "stay": "reg.ask_stay",
    "confirm": "reg.summary",
}


def label(harness: BotHarness, locale: str, key: str, **params: object) -> str:
    """A catalog text, as a button shows it."""
    return harness.services.translator(locale, key, **params)


async def add_station(
    harness: BotHarness, name_en: str = "Downtown hub", name_zh: str = "市民中心站"
) -> Station:
    """Create a station directly through the repository (admin flows are tested on their own)."""
    return await harness.services.stations.add(
        name_zh=name_zh,
        name_en=name_en,
        kind=StationKind.COMMUNITY,
        created_by=ADMIN_ID,
        now=START,
    )


async def walk_to(harness: BotHarness, user: ChatUser, step: str, *, locale: str = "en") -> None:
    """Start registration and answer every question before ``step``."""
    t = lambda key: label(harness, locale, key)  # noqa: E731
    order = [
        "consent",
        "name",
        "phone",
        "expertise",
        "title",
        "region",
        "station",
        "stay",
        "confirm",
    ]
    await user.send("/start")
    for current in order[: order.index(step)]:
        if current == "consent":
            await user.tap(t("reg.consent_yes"))
        elif current == "name":
            await user.send("Wang Li")
        elif current == "phone":
            await user.share_contact("8613800138000")
        elif current == "expertise":
            await user.tap(t("expertise.medicine"))
            await user.tap(t("reg.done_button"))
        elif current == "title":
            await user.send("Chief physician")
        elif current == "region":
            await user.send("Harbin, Heilongjiang")
        elif current == "station":
            await user.tap(t("reg.station_unsure"))
        elif current == "stay":
            await user.send("2026-12-01 to 2027-03-15")


async def register(harness: BotHarness, user: ChatUser, *, locale: str = "en") -> None:
    """Walk a whole registration and confirm it."""
    await walk_to(harness, user, "confirm", locale=locale)
    await user.tap(label(harness, locale, "reg.confirm"))
    talent = await harness.services.talents.by_telegram_id(user.id)
    assert talent is not None and talent.registered
