"""/profile: the talent's profile as they read it, with a button to change each field.

A change asks the registration's own question for that field (``handlers.registration``), so the
rules and wording of each answer exist once.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    CommandHandler,
    filters,
)

from bot.i18n import fmt_date, fmt_list
from bot.services.profile import (
    EXPERTISE,
)
from handlers.common import inline, say, send
from handlers.context import BotContext, ProfileForm
from handlers.teams import profile_part as teams_part

EDIT_PREFIX = "prof:edit:"
# Profile fields a talent can change alone, in the order the profile page lists them.
PROFILE_FIELDS = ("name", "phone", "expertise", "title", "region", "station", "stay")


async def station_name(context: BotContext, station_id: int | None) -> str:
    """A station's name in the viewer's language, or "not chosen"."""
    if station_id is not None:
        station = await context.services.stations.get(station_id)
        if station is not None:
            return station.name(context.viewer.locale)
    return context.t("profile.no_station")


async def profile_text(context: BotContext, values: ProfileForm, *, title_key: str) -> str:
    """The profile as a talent reads it: the summary of a registration and the /profile page."""
    locale = context.viewer.locale
    blank = context.t("profile.blank")
    expertise = fmt_list(
        (context.t(f"expertise.{code}") for code in sorted_fields(values)), locale
    )
    stay = blank
    if values.stay_from and values.stay_to:
        stay = context.t(
            "profile.stay_range",
            start=fmt_date(values.stay_from, locale),
            end=fmt_date(values.stay_to, locale),
        )
    return context.t(
        title_key,
        name=values.name or blank,
        phone=values.phone or context.t("profile.no_phone"),
        expertise=expertise or blank,
        title=values.title or blank,
        region=values.region or blank,
        station=await station_name(context, values.station_id),
        stay=stay,
    )


def sorted_fields(form: ProfileForm) -> list[str]:
    """The chosen fields of expertise in catalog order."""
    return [code for code in EXPERTISE if code in form.expertise]


async def show_profile(update: Update, context: BotContext) -> None:
    """Show the profile with one button per field to change it."""
    viewer = context.viewer
    if not viewer.registered:
        await say(update, context, "profile.not_registered")
        return
    text = await profile_text(context, form_from_talent(context), title_key="profile.title")
    labels = [
        (context.t(f"profile.edit_{field}"), f"{EDIT_PREFIX}{field}") for field in PROFILE_FIELDS
    ]
    rows = [labels[i : i + 2] for i in range(0, len(labels), 2)]
    teams_text, team_rows = await teams_part(context)
    if teams_text:
        text = f"{text}\n\n{teams_text}"
    await send(update, context, text, markup=inline(rows + team_rows))


def form_from_talent(context: BotContext) -> ProfileForm:
    """A form holding the viewer's stored profile."""
    talent = context.viewer.talent
    assert talent is not None
    return ProfileForm(
        language=context.viewer.locale,
        name=talent.name,
        phone=talent.phone,
        expertise=set(talent.expertise),
        title=talent.title,
        region=talent.region,
        station_id=talent.station_id,
        station_chosen=True,
        stay_from=talent.stay_from,
        stay_to=talent.stay_to,
    )


def edit_changes(form: ProfileForm) -> dict[str, Any]:
    """The columns a profile edit of ``form.editing`` changes."""
    field = form.editing
    if field == "expertise":
        return {"expertise": sorted_fields(form)}
    if field == "station":
        return {"station_id": form.station_id}
    if field == "stay":
        return {"stay_from": form.stay_from, "stay_to": form.stay_to}
    return {field: getattr(form, field)}


def setup(application: Application) -> None:
    """Register /profile; the edit buttons open the registration dialog."""
    application.add_handler(
        CommandHandler("profile", show_profile, filters=filters.ChatType.PRIVATE)
    )
