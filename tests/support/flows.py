"""Whole flows, walked the way a person would, for tests that need them as a starting point."""

from __future__ import annotations

from datetime import date

from localapi.chat import ChatUser
from storage.models import RoleName, Station, StationKind, Talent
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
    register_button = t("home.register_button")
    if register_button in user.buttons():
        await user.tap(register_button)  # staff get their own home, with a way to register
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


async def seed_talent(
    harness: BotHarness,
    telegram_id: int,
    *,
    station: Station | None = None,
    expertise: tuple[str, ...] = ("medicine",),
    stay: tuple[date, date] = (date(2026, 11, 1), date(2027, 3, 31)),
    language: str = "en",
    blocked: bool = False,
) -> Talent:
    """A talent who registered some time ago and whose chat with the bot exists."""
    talent = await harness.services.talents.register(
        telegram_id,
        language=language,
        name=f"Talent {telegram_id}",
        phone=None,
        expertise=expertise,
        title=None,
        region="Harbin",
        station_id=station.id if station else None,
        stay_from=stay[0],
        stay_to=stay[1],
        consent_at=START,
        now=START,
    )
    harness.api.open_chat(
        {"id": telegram_id, "first_name": f"Talent {telegram_id}", "language_code": language},
        blocked=blocked,
    )
    return talent


async def make_coordinator(
    harness: BotHarness, station: Station, *, first_name: str = "Coco", language: str = "en"
) -> ChatUser:
    """A user who became coordinator of ``station`` through an invitation link."""
    admin = await harness.services.people.viewer(ADMIN_ID, "en")
    invitation = await harness.services.admin.create_invitation(
        admin, station_id=station.id, role=RoleName.COORDINATOR
    )
    user = harness.user(first_name, language=language)
    await user.send(f"/start inv-{invitation.token}")
    return user


def received(harness: BotHarness, telegram_id: int) -> list[str]:
    """The texts (or captions) a chat received from the bot."""
    return [m.get("text") or m.get("caption") or "" for m in harness.api.bot_messages(telegram_id)]
