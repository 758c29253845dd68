"""Messages about activities to the talents they concern, in each talent's language.

Each notice is a broadcast per language (so every talent reads it in theirs), sent by the outbox
through the bulk lane like any broadcast.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.i18n import fmt_span
from bot.services import Services
from bot.services.kinds import TOPIC_SIGNED_UP, announce_topic
from bot.settings import SUPPORTED_LOCALES
from storage.models import Activity, Audience

VIEW_PREFIX = "act:view:"


class Notices:
    def __init__(self, services: Services, wake: Callable[[], None]) -> None:
        self.services = services
        self.wake = wake

    async def announce(self, activity: Activity) -> int:
        """Tell the talents an activity fits: station, expertise, in the city that day.

        An institution's request asks every talent of the city with the expertise, whatever
        their own station: a hospital has few talents of its own.
        """
        day = activity.starts_at.astimezone(self.services.settings.tz).date()
        # A request asks the whole city; a team's activity goes to its members, wherever they are.
        everywhere = (
            activity.station_id is None
            or activity.request is not None
            or activity.team_id is not None
        )

        def audience(locale: str) -> Audience:
            return Audience(
                topic=announce_topic(activity.kind),
                station_ids=None if everywhere else (activity.station_id,),
                team_id=activity.team_id,
                expertise=activity.expertise,
                present_on=day,
                language=locale,
            )

        key = "request.announcement" if activity.request else "activity.announcement"
        return await self._send(activity, key, audience)

    async def changed(self, activity: Activity) -> int:
        """Tell the talents signed up (or waiting) that the time or place changed."""
        return await self._send(activity, "activity.changed", self._signed_up(activity))

    async def cancelled(self, activity: Activity) -> int:
        """Tell the talents signed up (or waiting) that it will not take place."""
        return await self._send(
            activity, "activity.cancelled_notice", self._signed_up(activity), button=False
        )

    @staticmethod
    def _signed_up(activity: Activity) -> Callable[[str], Audience]:
        def audience(locale: str) -> Audience:
            return Audience(topic=TOPIC_SIGNED_UP, activity_id=activity.id, language=locale)

        return audience

    async def _send(
        self,
        activity: Activity,
        key: str,
        audience: Callable[[str], Audience],
        *,
        button: bool = True,
    ) -> int:
        services = self.services
        station = None
        if activity.station_id is not None:
            station = await services.stations.get(activity.station_id)
        total = 0
        for locale in SUPPORTED_LOCALES:
            t = services.translator
            text = t(
                locale,
                key,
                kind=t(locale, f"kind.{activity.kind}"),
                title=activity.title,
                when=fmt_span(activity.starts_at, activity.ends_at, locale, services.settings.tz),
                place=activity.place,
                station=station.name(locale) if station else t(locale, "activity.city_wide"),
                description=activity.description,
            )
            buttons = None
            if button:
                label = t(
                    locale, "request.view_button" if activity.request else "activity.view_button"
                )
                buttons = [[{"text": label, "callback_data": f"{VIEW_PREFIX}{activity.id}"}]]
            broadcast = await services.broadcast_rows.create(
                audience(locale),
                text=text,
                entities=None,
                photo_file_id=None,
                created_by=activity.created_by,
                author_locale=locale,
                now=services.clock.now(),
                buttons=buttons,
            )
            total += broadcast.total
        self.wake()
        return total
