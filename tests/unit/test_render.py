"""The files reports are made of: the bundled font draws real Chinese glyphs, the chart is a
PNG, spreadsheet cells cannot become formulas, and periods and seasons fall on the right days."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageDraw

from bot.exports import safe_text
from bot.i18n import load_catalog
from bot.render.chart import ChartText, Series, nice_step, render_chart
from bot.render.fonts import missing, pil_font, printable
from bot.render.sheet import display_width
from bot.services.errors import InvalidInput
from bot.services.kinds import ACTIVITY_KINDS
from bot.services.reports import (
    Period,
    PeriodKind,
    custom_period,
    parse_amount,
    parse_currency,
    resolve_period,
    season_of,
)
from bot.settings import SettingsError, load_settings

# Everything drawn into the chart, the spreadsheet or the certificate comes from these.
DRAWN = ("reports.", "certificates.", "kind.", "station_kind.")


def drawn_texts(locale):
    return {
        key: text
        for key, text in load_catalog(locale).items()
        if key.startswith(DRAWN) and key not in ("certificates.button",)
    }


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_the_font_has_every_character_of_every_label(locale):
    lacking = {key: missing(printable_text) for key, text in drawn_texts(locale).items()
               if (printable_text := text.replace("📊", "").replace("📈", "").replace("📬", ""))
               and missing(printable_text) - set("✅❌⏳📄🏙📅")}  # fmt: skip
    assert lacking == {}


def glyph(ch):
    """The bitmap the chart's font draws for one character."""
    image = Image.new("L", (64, 64), 0)
    ImageDraw.Draw(image).text((8, 0), ch, font=pil_font(48), fill=255)
    return image.tobytes()


def test_glyphs_are_real_not_boxes():
    # A private-use code point: the font has no glyph for it, so it draws its .notdef box.
    assert missing("\ue000") == {"\ue000"}
    tofu = glyph("\ue000")
    assert any(tofu)
    chars = sorted(set("".join(drawn_texts("zh").values())) - set(" \n{}<>/"))
    chars = [ch for ch in chars if not missing(ch) and not ch.isspace()]
    assert len(chars) > 200
    bitmaps = {}
    for ch in chars:
        bitmap = glyph(ch)
        assert bitmap != tofu, ch
        bitmaps.setdefault(bitmap, []).append(ch)
    # Different characters draw differently (a missing font draws every one the same box).
    same = [group for group in bitmaps.values() if len(group) > 1]
    assert all(set(group) <= set("·•.,，、'’-–—_…") for group in same), same
    for ch in "服务时长参与人才工作站":
        assert any(glyph(ch)), ch


def test_printable_drops_what_the_font_lacks():
    assert printable("义诊 🎉 Clinic") == "义诊  Clinic"
    assert missing("市民中心站 堃喆") == set()


def test_the_chart_is_a_png_with_its_labels():
    weeks = [date(2026, 11, 30), date(2026, 12, 7), date(2026, 12, 14)]
    text = ChartText("全部工作站 · 2026年12月", "每周服务时长（小时）", "参与人才", "暂无")
    png = render_chart(
        text, weeks, [Series("市民中心站", [150, 0, 925], 3), Series("医院", [0, 200, 0], 1)]
    )
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (1200, 900)
    # The title's band has ink: the Chinese title was drawn, not left blank.
    band = image.crop((40, 20, 500, 70)).convert("L")
    assert band.getextrema()[0] < 100
    empty = render_chart(text, weeks, [])
    assert Image.open(io.BytesIO(empty)).size == (1200, 900)


def test_nice_steps():
    assert nice_step(0) == 1
    assert nice_step(9.25) == 2
    assert nice_step(1234) == 500


def test_formula_cells_are_neutralised():
    for risky in ("=1+1", "+SUM(A1)", "-2", "@cmd", "\tx", "\rx"):
        assert safe_text(risky) == "'" + risky
    for fine in ("王丽", "Clinic", "1=1", ""):
        assert safe_text(fine) == fine
    assert display_width("市民a") == 5


def test_seasons_and_months():
    ten = (10, 1)
    assert season_of(date(2026, 11, 26), ten) == Period(
        date(2026, 10, 1), date(2027, 9, 30), PeriodKind.THIS_SEASON
    )
    assert season_of(date(2026, 9, 30), ten).first == date(2025, 10, 1)
    assert season_of(date(2026, 10, 1), ten).first == date(2026, 10, 1)
    assert season_of(date(2027, 3, 1), (11, 15)).last == date(2027, 11, 14)
    today = date(2027, 1, 15)
    last_month = resolve_period(PeriodKind.LAST_MONTH, today=today, month_day=ten)
    assert (last_month.first, last_month.last) == (date(2026, 12, 1), date(2026, 12, 31))
    last_season = resolve_period(PeriodKind.LAST_SEASON, today=today, month_day=ten)
    assert (last_season.first, last_season.last) == (date(2025, 10, 1), date(2026, 9, 30))
    assert last_season.slug == "season-2025-2026" and last_month.slug == "2026-12"
    feb = resolve_period(PeriodKind.THIS_MONTH, today=date(2028, 2, 10), month_day=ten)
    assert feb.last == date(2028, 2, 29)
    start, end = last_month.bounds(ZoneInfo("Asia/Shanghai"))
    assert start == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert end == datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
    assert last_month.weeks()[0] == date(2026, 11, 30) and len(last_month.weeks()) == 5


def test_typed_values():
    with pytest.raises(InvalidInput):
        custom_period(date(2027, 1, 2), date(2027, 1, 1))
    assert custom_period(date(2027, 1, 1), date(2027, 1, 1)).slug == "2027-01-01_2027-01-01"
    assert parse_amount("200") == 20000 and parse_amount("12.5") == 1250
    assert parse_amount("1,000") == 100000
    for bad in ("", "-1", "1.234", "abc", "99999999"):
        with pytest.raises(InvalidInput):
            parse_amount(bad)
    assert parse_currency(" cny ") == "CNY"
    with pytest.raises(InvalidInput):
        parse_currency("ABC")


def test_season_start_setting(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert load_settings(_env_file=None).season_month_day == (10, 1)
    monkeypatch.setenv("TALENTBOT_SEASON_START", "11-15")
    assert load_settings(_env_file=None).season_month_day == (11, 15)
    monkeypatch.setenv("TALENTBOT_SEASON_START", "02-30")
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None)
    assert str(caught.value) == (
        "TALENTBOT_SEASON_START: '02-30' is not a day of the year as MM-DD (for example 10-01)"
    )


def test_every_kind_has_a_name():
    catalog = load_catalog("zh")
    assert all(f"kind.{kind}" in catalog for kind in ACTIVITY_KINDS)
