"""Service certificates: the button under /points that sends the PDF, and ``/start cert-<code>``,
with which anyone who scans a certificate's QR sees whether it is genuine."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters
from telegram.helpers import create_deep_linked_url

from bot.i18n import fmt_date, fmt_number
from bot.render import plain
from bot.render.certificate import CertificateText, render_certificate
from bot.services.certificates import CERT_PREFIX, Issued
from bot.services.errors import InvalidInput
from bot.services.reports import Period, hours_of
from bot.services.rewards import show_code
from handlers.common import answer, refuse, say
from handlers.context import BotContext

PREFIX = "ct"


def _hours(value: Decimal, locale: str) -> str:
    return fmt_number(value.normalize() if value == value.to_integral() else value, locale)


async def certificate_rows(context: BotContext, talent_id: int) -> list[list[tuple[str, str]]]:
    """A button for each season (this and the last) in which the talent served."""
    rows = []
    for season in await context.services.certificates.seasons(talent_id):
        label = f"{season.first.year}–{season.last.year}"
        rows.append([(context.t("certificates.button", season=label), f"{PREFIX}:{season.first}")])
    return rows


async def certificate_button(update: Update, context: BotContext) -> None:
    """Issue the certificate of a season and send it as a PDF."""
    talent = context.viewer.talent
    data = (update.callback_query.data or "").removeprefix(f"{PREFIX}:")
    if talent is None or not context.viewer.registered:
        await refuse(update, context)
        return
    services = context.services
    try:
        season = services.reports.season(date.fromisoformat(data))
    except ValueError:
        await answer(update, context.t("common.stale_button"), alert=True)
        return
    try:
        issued = await services.certificates.issue(talent, season)
    except InvalidInput as exc:
        await answer(update, context.t(exc.key), alert=True)
        return
    await answer(update, context.t("certificates.working"))
    locale = context.viewer.locale
    pdf = render_certificate(await certificate_text(context, issued))
    certificate = issued.certificate
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_document(
        chat.id,
        pdf,
        filename=f"certificate-{season.first.year}-{season.last.year}-{certificate.code}.pdf",
        caption=context.t(
            "certificates.caption",
            period=_season(season),
            hours=_hours(hours_of(certificate.hours_centi), locale),
            count=fmt_number(certificate.activities, locale),
        ),
    )


def _season(season: Period) -> str:
    return f"{season.first.year}–{season.last.year}"


async def certificate_text(context: BotContext, issued: Issued) -> CertificateText:
    """Every word of the certificate, in the talent's language."""
    services = context.services
    translator, locale, tz = services.translator, context.viewer.locale, services.settings.tz
    label = lambda key, **params: plain(translator, locale, key, **params)  # noqa: E731
    certificate = issued.certificate
    stations = {s.id: s.name(locale) for s in await services.stations.list()}
    station = stations.get(certificate.station_id or 0) or label("certificates.no_station")
    rows = [
        (
            fmt_date(line.starts_at.astimezone(tz).date(), locale),
            line.title,
            stations.get(line.station_id) or label("reports.no_station"),
            _hours(hours_of(line.hours_centi), locale),
        )
        for line in issued.lines
    ]
    link = create_deep_linked_url(context.bot.username, CERT_PREFIX + certificate.code)
    office = label("certificates.office")
    total = _hours(hours_of(certificate.hours_centi), locale)
    return CertificateText(
        title=label("certificates.title"),
        body=label(
            "certificates.body",
            name=certificate.name or "",
            station=station,
            count=fmt_number(certificate.activities, locale),
            first=fmt_date(issued.period.first, locale),
            last=fmt_date(issued.period.last, locale),
            hours=total,
        ),
        headers=(
            label("certificates.col_date"),
            label("certificates.col_activity"),
            label("certificates.col_station"),
            label("certificates.col_hours"),
        ),
        rows=rows,
        total_label=label("certificates.total"),
        total_hours=total,
        issued=label(
            "certificates.issued",
            office=office,
            date=fmt_date(certificate.issued_at.astimezone(tz).date(), locale),
        ),
        verify=label("certificates.verify", code=show_code(certificate.code), link=link),
        link=link,
        code=show_code(certificate.code),
    )


async def certificate_link(update: Update, context: BotContext) -> None:
    """``/start cert-<code>``: genuine (with the name, hours and period), or not."""
    payload = (context.args or [""])[0].removeprefix(CERT_PREFIX)
    certificate = await context.services.certificates.verify(payload)
    if certificate is None:
        await say(update, context, "certificates.unknown")
        return
    locale = context.viewer.locale
    tz = context.services.settings.tz
    await say(
        update,
        context,
        "certificates.genuine",
        name=certificate.name or context.t("certificates.erased_name"),
        first=fmt_date(certificate.period_from, locale),
        last=fmt_date(certificate.period_to, locale),
        hours=_hours(hours_of(certificate.hours_centi), locale),
        count=fmt_number(certificate.activities, locale),
        date=fmt_date(certificate.issued_at.astimezone(tz).date(), locale),
        office=context.t("certificates.office"),
    )


def setup_deep_links(application: Application) -> None:
    """The certificate link; before the plain /start. Anyone may open it, registered or not."""
    application.add_handler(
        CommandHandler(
            "start",
            certificate_link,
            filters=filters.ChatType.PRIVATE & filters.Regex(f"^/start {CERT_PREFIX}"),
        )
    )


def setup(application: Application) -> None:
    """Register the certificate button."""
    application.add_handler(
        CallbackQueryHandler(certificate_button, pattern=rf"^{PREFIX}:\d{{4}}-\d{{2}}-\d{{2}}$")
    )
