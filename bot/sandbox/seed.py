"""The demo data of the sandbox: stations, activities (one happening now), an open request
from the hospital, a team, one open produce campaign, rewards, personas.

Every date is relative to the clock at seeding, and the sandbox seeds a new database at every
start, so "happening now" is always now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.services import Services
from bot.services.activities import ActivityDraft
from bot.services.campaigns import Draft as CampaignDraft
from storage.models import RoleName, StationKind, TeamKind


@dataclass(frozen=True, slots=True)
class Persona:
    id: int
    key: str  # catalog key of the label shown in the page
    first_name: str


ADMIN = Persona(9001, "sandbox.persona_admin", "Admin")
PERSONAS = (
    Persona(9101, "sandbox.persona_new", "Newcomer"),
    Persona(9102, "sandbox.persona_talent", "李明"),
    Persona(9103, "sandbox.persona_coordinator", "王芳"),
    Persona(9104, "sandbox.persona_partner", "周晓"),
    ADMIN,
)


async def seed(services: Services, clock: Clock) -> bool:
    """Fill an empty demo database; False when it already holds data."""
    if await services.stations.list():
        return False
    now = clock.now()
    admin = await services.people.viewer(ADMIN.id, "en")
    hub = await services.admin.add_station(
        admin, name_zh="市民中心站", name_en="Downtown hub", kind=StationKind.COMMUNITY
    )
    await services.admin.add_station(
        admin, name_zh="乡村振兴站", name_en="Village station", kind=StationKind.COMMUNITY
    )
    hotel = await services.admin.add_station(
        admin, name_zh="温泉酒店", name_en="Spa hotel", kind=StationKind.PROFESSIONAL
    )
    hospital = await services.admin.add_station(
        admin, name_zh="市人民医院站", name_en="City hospital", kind=StationKind.PROFESSIONAL
    )
    season = (now.date() - timedelta(days=30), now.date() + timedelta(days=120))
    for persona, station in ((PERSONAS[1], hub), (PERSONAS[2], hub)):
        await services.talents.register(
            persona.id, language="zh", name=persona.first_name, phone=None,
            expertise=("medicine",), title=None, region="哈尔滨", station_id=station.id,
            stay_from=season[0], stay_to=season[1], consent_at=now, now=now,
        )  # fmt: skip
    for persona, station, role in (
        (PERSONAS[2], hub, RoleName.COORDINATOR),
        (PERSONAS[3], hotel, RoleName.PARTNER),
    ):
        invitation = await services.admin.create_invitation(
            admin, station_id=station.id, role=role
        )
        await services.admin.accept_invitation(persona.id, invitation.token)
    # The desk clerk never registers as a talent, but the desk shows who marked a voucher used
    # by the name in their profile.
    clerk = await services.talents.by_telegram_id(PERSONAS[3].id)
    assert clerk is not None
    await services.people.update_profile(clerk.id, {"name": PERSONAS[3].first_name})
    talent = await services.talents.by_telegram_id(PERSONAS[1].id)
    assert talent is not None
    await services.points.adjust(admin, talent.id, 120, "欢迎积分 Welcome points")
    # A team with the talent in it and the coordinator (who is a talent too) as its leader.
    team = await services.teams.create(
        admin, name_zh="社区志愿服务队", name_en="Community volunteer team",
        kind=TeamKind.VOLUNTEER, station_id=hub.id,
    )  # fmt: skip
    leader = await services.talents.by_telegram_id(PERSONAS[2].id)
    assert leader is not None
    await services.teams.add(admin, team.id, talent.id, leader=False)
    await services.teams.add(admin, team.id, leader.id, leader=True)
    local = now.astimezone(services.settings.tz)

    def at(days: int, hour: int, minute: int = 0) -> datetime:
        day = local + timedelta(days=days)
        return day.replace(hour=hour, minute=minute, second=0, microsecond=0)

    # (kind, title, description, place, start, hours, points); one is happening now, so its
    # check-in code works at once.
    activities = [
        ("lecture", "冬季养生讲座 Winter health talk", "中医专家讲冬季起居与饮食。\n"
         "A doctor of traditional medicine on keeping well in winter.",
         "市民中心三楼 Civic centre, 3rd floor", now - timedelta(minutes=10), 2, 10),
        ("clinic", "义诊 Free clinic", "为社区老人免费量血压、看常见病。\n"
         "Blood pressure checks and advice for older neighbours.",
         "滨海社区卫生站 Seaside health post", at(1, 9, 30), 3, 20),
        ("volunteer", "海滩清洁 Beach clean-up", "一起清洁白沙湾海滩，手套和袋子现场发放。\n"
         "Gloves and bags are handed out on the beach.",
         "白沙湾 White Sand Bay", at(6, 14), 2, 15),
    ]  # fmt: skip
    for kind, title, description, place, starts, hours, points in activities:
        activity = await services.activities.create(
            admin,
            ActivityDraft(
                station_id=hub.id, kind=kind, title=title, description=description, place=place,
                starts_at=starts, ends_at=starts + timedelta(hours=hours), capacity=20,
                points=points,
            ),
        )  # fmt: skip
        # Published directly: the one happening now has already started, which the publish
        # rule (no announcing the past) would refuse.
        await services.activities.activities.set_status(
            activity.id, "published", by=ADMIN.id, now=now, expect=("draft",)
        )
    # The hospital asks for an expert; talents apply from its page, the admin chooses (/requests).
    starts = at(3, 9)
    request = await services.activities.create(
        admin,
        ActivityDraft(
            station_id=hospital.id, kind="clinic", title="心内科专家坐诊 Cardiology clinic",
            description="请一位心内科专家坐诊半天，带一带年轻医生。\n"
            "Half a day of cardiology consultations alongside our young doctors.",
            place="门诊楼二楼心内科 Cardiology, outpatient building, 2nd floor",
            starts_at=starts, ends_at=starts + timedelta(hours=3), capacity=1, points=30,
            expertise="medicine", request="open",
        ),
    )  # fmt: skip
    await services.activities.activities.set_status(
        request.id, "published", by=ADMIN.id, now=now, expect=("draft",)
    )
    for name_zh, name_en, description_zh, description_en, cost, stock in (
        ("温泉酒店一晚", "A night at the spa hotel", "双人标准间一晚，含早餐。",
         "A double room for one night, breakfast included.", 100, 5),
        ("景区门票", "Scenic-spot ticket", "南山景区成人门票一张。",
         "One adult ticket to the Nanshan scenic area.", 30, 20),
        ("纪念品", "Souvenir", "候鸟人才计划纪念帆布袋。",
         "A canvas bag of the migratory-talent programme.", 10, 50),
    ):  # fmt: skip
        await services.rewards.add(
            admin,
            {
                "name_zh": name_zh, "name_en": name_en, "description_zh": description_zh,
                "description_en": description_en, "station_id": hotel.id, "cost": cost,
                "stock": stock, "per_talent_limit": 2, "valid_days": 30,
            },
        )  # fmt: skip
    await seed_campaign(services, hub.id, at(7, 20))
    return True


async def seed_campaign(services: Services, station_id: int, closes_at: datetime) -> None:
    """One open produce campaign of the hub, opened by its coordinator, with a first pledge."""
    coordinator = await services.people.viewer(PERSONAS[2].id, "zh")
    campaign = await services.campaigns.open(
        coordinator,
        CampaignDraft(
            station_id=station_id, product="南山村新鲜辣椒", unit="jin", goal=20_000,
            price_minor=650, pickup="乡村振兴站门口，每天上午9点到11点",
            contact="王师傅 138 0000 0000", closes_at=closes_at,
        ),
        press=None,
    )  # fmt: skip
    talent = await services.people.viewer(PERSONAS[1].id, "zh")
    await services.campaigns.pledge(talent, campaign.id, "buy", "30")


async def speak(services: Services, language: str) -> None:
    """Switch every persona the bot has a row for to ``language``, as /language would.

    The others are not registered yet: they reach the bot in the language their Telegram
    client says (the page sends it with each of their messages).
    """
    for persona in PERSONAS:
        if await services.talents.by_telegram_id(persona.id) is not None:
            await services.people.set_language(persona.id, language)
