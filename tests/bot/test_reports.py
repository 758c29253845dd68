"""/report through the real Application: who may see what, periods, typed dates, the files."""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
import pytest

from storage.models import StationKind
from tests.bot.test_activities import STARTS, admin_viewer, make_activity
from tests.support.flows import add_station, make_coordinator, seed_talent
from tests.support.harness import ADMIN_ID

EN_HEADERS = ["Station", "Talents registered", "Engaged talents", "Service hours",
              "Points earned", "Points redeemed", "Funding"]  # fmt: skip
ZH_HEADERS = ["工作站", "注册人才", "参与人才", "服务时长（小时）", "获得积分", "兑换积分", "经费"]


@pytest.fixture
async def city(harness):
    hub = await add_station(harness, "Downtown hub", "市民中心站")
    hospital = await harness.services.stations.add(
        name_zh="市人民医院专家工作站", name_en="City hospital", kind=StationKind.PROFESSIONAL,
        created_by=ADMIN_ID, now=harness.clock.now(),
    )  # fmt: skip
    talent = await seed_talent(harness, 601, station=hospital)
    clinic = await make_activity(harness, hospital, title='=HYPERLINK("x") clinic')
    admin = await admin_viewer(harness)
    token = await harness.services.checkins.code(admin, clinic.id)
    harness.clock.set(STARTS)
    await harness.services.checkins.scan(talent.id, token)
    harness.clock.set(STARTS + timedelta(days=1))
    return hub, hospital


def documents(harness, user):
    return [m for m in harness.api.bot_messages(user.id) if "document" in m]


def workbook(harness, message):
    data = harness.api.file_bytes(message["document"]["file_id"])
    return openpyxl.load_workbook(io.BytesIO(data))


async def test_admin_gets_the_city_report_in_chinese(harness, city):
    admin = harness.admin(language="zh")
    await admin.send("/report")
    assert admin.last_text() == "要看哪个工作站的报表？"
    assert admin.buttons() == ["🏙 全部工作站", "市民中心站", "市人民医院专家工作站"]
    await admin.tap("🏙 全部工作站")
    assert admin.buttons() == ["本月", "上月", "本季", "上季", "📅 指定日期"]
    await admin.tap("本季")
    texts = admin.texts()
    summary = texts[-3]
    assert summary.startswith(
        "📊 全部工作站 · 2026–2027 冬季\n人才：注册 1 · 新增 1 · 在本地 1 · 参与 1"
    )
    assert "服务时长：2 小时" in summary
    assert "• 市人民医院专家工作站：参与 1 人 · 2 小时 · ¥0.00" in summary
    photo = harness.api.bot_messages(admin.id)[-2]
    assert harness.api.file_bytes(photo["photo"][-1]["file_id"]).startswith(b"\x89PNG")
    assert photo["caption"] == "📈 全部工作站 · 2026–2027 冬季"
    document = harness.api.bot_messages(admin.id)[-1]
    assert document["document"]["file_name"] == "报表-全部工作站-season-2026-2027.xlsx"
    book = workbook(harness, document)
    assert book.sheetnames == ["汇总", "活动", "兑换券", "人才", "说明"]
    rows = list(book["汇总"].iter_rows(values_only=True))
    assert [h for h in rows[0] if h in ZH_HEADERS] == ZH_HEADERS
    assert [r[0] for r in rows[1:]] == ["市民中心站", "市人民医院专家工作站", "合计"]
    activities = list(book["活动"].iter_rows(values_only=True))
    # A title that looks like a formula stays text, and is shown as such.
    assert activities[1][4] == '\'=HYPERLINK("x") clinic'
    assert book["活动"]["E2"].data_type == "s"
    # Local time, without a zone: 09:30 in Asia/Shanghai.
    assert activities[1][0].strftime("%Y-%m-%d %H:%M") == "2026-12-05 09:30"
    assert book["汇总"].column_dimensions["A"].width >= 20


async def test_coordinator_sees_only_their_station(harness, city):
    hub, hospital = city
    coordinator = await make_coordinator(harness, hospital)
    await coordinator.send("/report")
    assert coordinator.last_text() == "City hospital: which period?"
    await coordinator.tap("This month")
    summary = coordinator.texts()[-3]
    assert summary.startswith("📊 City hospital · December 2026")
    assert "Funding: CN¥0.00 = 1 engaged × CN¥0.00 + 2 h × CN¥0.00" in summary
    book = workbook(harness, documents(harness, coordinator)[-1])
    rows = list(book["Summary"].iter_rows(values_only=True))
    assert [h for h in rows[0] if h in EN_HEADERS] == EN_HEADERS
    assert [r[0] for r in rows[1:]] == ["City hospital", "Total"]
    talents = list(book["Talents"].iter_rows(values_only=True))
    assert talents[1][:5] == (1, "Talent 601", "City hospital", 1, 2)
    sent = len(documents(harness, coordinator))
    for forged in (f"rp:s:{hub.id}", "rp:s:0", f"rp:p:{hub.id}:tm", "rp:p:0:ts", f"rp:d:{hub.id}"):
        await coordinator.press(forged, forge=True)
        assert coordinator.alerts()[-1] == "Sorry, you are not allowed to do that."
    assert len(documents(harness, coordinator)) == sent


async def test_talents_may_not_ask(harness, city):
    await seed_talent(harness, 602)
    user = harness.user("T", id=602)
    await user.send("/report")
    assert user.last_text() == "Sorry, you are not allowed to do that."
    await user.press("rp:p:0:ts", forge=True)
    assert user.alerts()[-1] == "Sorry, you are not allowed to do that."
    assert documents(harness, user) == []


async def test_typed_dates(harness, city):
    admin = harness.admin()
    await admin.send("/report")
    await admin.tap("City hospital")
    await admin.tap("📅 Other dates")
    assert admin.last_text().startswith("Type the first and the last day of the report")
    await admin.send_sticker()
    assert admin.last_text().startswith("Please answer with a text message.")
    await admin.send("soon")
    assert admin.last_text().startswith("I couldn't read two dates there.")
    await admin.send("2027-01-31 to 2026-12-01")
    assert admin.last_text().startswith("The last day comes before the first.")
    await admin.send("2026-01-01 to 2027-12-31")
    assert admin.last_text().startswith("A report covers at most 400 days.")
    await admin.send("12/1 to 12/6")
    summary = admin.texts()[-3]
    assert summary.startswith("📊 City hospital · Dec 1, 2026 – Dec 6, 2026")
    name = documents(harness, admin)[-1]["document"]["file_name"]
    assert name == "report-City-hospital-2026-12-01_2026-12-06.xlsx"
    await admin.send("/report")
    await admin.tap("City hospital")
    await admin.tap("📅 Other dates")
    await admin.send("/cancel")
    assert admin.last_text() == "Stopped; no report."


async def test_funding_rates_in_admin(harness, city):
    _, hospital = city
    admin = harness.admin()
    await admin.send("/admin")
    await admin.tap("💰 Funding rates")
    assert admin.last_text().startswith("Funding rates\nCommunity station: CN¥0.00 per")
    await admin.tap("Professional station · per talent")
    await admin.send("a lot")
    assert admin.last_text().startswith("Please type an amount like 200 or 12.5")
    await admin.send("200")
    await admin.tap("Professional station · per hour")
    await admin.send("50.5")
    await admin.tap("Currency")
    await admin.send("XYZ")
    assert admin.last_text().startswith("That is not a currency code I know")
    await admin.send("usd")
    assert "Professional station: $200.00 per engaged talent · $50.50 per service hour" in (
        admin.last_text()
    )
    await admin.send("/report")
    await admin.tap("City hospital")
    await admin.tap("This month")
    assert "Funding: $301.00 = 1 engaged × $200.00 + 2 h × $50.50" in admin.texts()[-3]
    coordinator = await make_coordinator(harness, hospital)
    await coordinator.press("fr:menu", forge=True)
    assert coordinator.alerts()[-1] == "Sorry, you are not allowed to do that."
    await coordinator.press("fr:set:professional:talent", forge=True)
    assert coordinator.alerts()[-1] == "Sorry, you are not allowed to do that."
    rates = await harness.services.reports.rates()
    assert rates[StationKind.PROFESSIONAL].per_talent_minor == 20000
