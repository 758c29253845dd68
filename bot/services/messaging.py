"""Broadcasts, reminders and notification settings: the rules, free of Telegram."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from bot.clock import Clock
from bot.services.errors import InvalidInput, NotAllowed
from bot.services.kinds import TOPIC_NEWS, TOPIC_POINTS, TOPIC_SIGNED_UP, TOPICS
from bot.services.people import Viewer
from bot.services.profile import EXPERTISE
from bot.services.teams import TeamService
from storage.activities import ActivityRepository
from storage.models import Audience, Broadcast, Progress
from storage.outbox import BroadcastRepository, PreferenceRepository, ReminderRepository
from storage.presses import Press
from storage.stations import StationRepository

TEXT_MAX = 4096  # Telegram's limit for a message
CAPTION_MAX = 1024  # and for a photo's caption
# A notice that could not go out within this long (the bot was down) is dropped: by then the
# talent has seen the change in /points, and a late "your points changed" would only confuse.
NOTICE_USEFUL_FOR = timedelta(days=3)


@dataclass(frozen=True, slots=True)
class Draft:
    """What a broadcast says: a text, or a photo with an optional caption."""

    text: str | None = None
    entities: list[dict[str, Any]] | None = None
    photo_file_id: str | None = None


def check_draft(draft: Draft) -> Draft:
    """Refuse an empty or over-long message before anyone is asked to confirm it."""
    text = draft.text or ""
    if draft.photo_file_id is None and not text.strip():
        raise InvalidInput("input.empty")
    limit = CAPTION_MAX if draft.photo_file_id else TEXT_MAX
    # Telegram counts UTF-16 code units, which is what its clients limit too.
    length = len(text.encode("utf-16-le")) // 2
    if length > limit:
        raise InvalidInput("input.too_long", max=limit, length=length)
    return draft


class BroadcastService:
    def __init__(
        self,
        *,
        broadcasts: BroadcastRepository,
        stations: StationRepository,
        activities: ActivityRepository,
        clock: Clock,
        teams: TeamService,
    ) -> None:
        self.broadcasts = broadcasts
        self.stations = stations
        self.activities = activities
        self.clock = clock
        self.teams = teams
        # Set by the outbox so that a new broadcast starts going out at once.
        self.on_queued: Callable[[], None] = lambda: None

    @staticmethod
    def may_broadcast(actor: Viewer) -> bool:
        """Coordinators (to their stations) and admins (to any or all) may broadcast."""
        return actor.is_coordinator

    @staticmethod
    def stations_of(actor: Viewer) -> list[int] | None:
        """The stations ``actor`` may address; None means every station (admins)."""
        if actor.is_admin:
            return None
        return sorted(set(actor.stations_where_coordinator()))

    def audience(
        self,
        actor: Viewer,
        *,
        station_id: int | None,
        expertise: str | None,
        in_city_on: date | None,
        topic: str = TOPIC_NEWS,
    ) -> Audience:
        """Build an audience, refusing stations the actor does not coordinate."""
        if not self.may_broadcast(actor):
            raise NotAllowed
        allowed = self.stations_of(actor)
        if station_id is None and allowed is not None:
            raise NotAllowed  # only admins address every station at once
        if station_id is not None and allowed is not None and station_id not in allowed:
            raise NotAllowed
        if expertise is not None and expertise not in EXPERTISE:
            raise InvalidInput("common.stale_button")
        if topic not in TOPICS:
            raise InvalidInput("common.stale_button")
        return Audience(
            topic=topic,
            station_ids=None if station_id is None else (station_id,),
            expertise=expertise,
            present_on=in_city_on,
        )

    async def signed_up_audience(self, actor: Viewer, activity_id: int) -> Audience:
        """The talents signed up for (or waiting for) an activity the actor manages."""
        activity = await self.activities.get(activity_id)
        if activity is None or not self.may_broadcast(actor):
            raise NotAllowed
        if not actor.is_admin and (
            activity.station_id is None or not actor.may_coordinate(activity.station_id)
        ):
            raise NotAllowed
        return Audience(topic=TOPIC_SIGNED_UP, activity_id=activity.id)

    async def count(self, audience: Audience) -> int:
        """How many talents the audience reaches now."""
        return await self.broadcasts.count_audience(audience)

    async def start(
        self, actor: Viewer, audience: Audience, draft: Draft, *, press: Press | None = None
    ) -> Broadcast:
        """Queue the broadcast for every recipient; the outbox sends it."""
        # The audience is checked again: it may come from a form the user could have tampered.
        if audience.team_id is not None:
            # A team's leaders may message it without being coordinators.
            audience = await self.teams.audience(actor, audience.team_id, topic=TOPIC_NEWS)
        elif not self.may_broadcast(actor):
            raise NotAllowed
        elif audience.activity_id is not None:
            audience = await self.signed_up_audience(actor, audience.activity_id)
        else:
            station = audience.station_ids[0] if audience.station_ids else None
            self.audience(
                actor,
                station_id=station,
                expertise=audience.expertise,
                in_city_on=audience.present_on,
                topic=audience.topic,
            )
        draft = check_draft(draft)
        broadcast = await self.broadcasts.create(
            audience,
            text=draft.text,
            # An empty list, not None: the text is the coordinator's, never parsed as HTML.
            entities=draft.entities or [],
            photo_file_id=draft.photo_file_id,
            created_by=actor.telegram_id,
            author_locale=actor.locale,
            now=self.clock.now(),
            press=press,
        )
        self.on_queued()
        return broadcast

    async def cancel(self, actor: Viewer, broadcast_id: int) -> bool:
        """Stop a running broadcast; its author or an admin may."""
        broadcast = await self.broadcasts.get(broadcast_id)
        if broadcast is None:
            return False
        if not (actor.is_admin or broadcast.created_by == actor.telegram_id):
            raise NotAllowed
        return await self.broadcasts.cancel(
            broadcast_id, by=actor.telegram_id, now=self.clock.now()
        )

    async def progress(self, broadcast_id: int) -> Progress:
        """Counts of a broadcast's deliveries."""
        return await self.broadcasts.progress(broadcast_id)


class ReminderService:
    """Stored reminders and personal notices: other features schedule and cancel them; the
    outbox sends them, through the bulk lane, in each talent's language at the time."""

    def __init__(self, *, reminders: ReminderRepository, clock: Clock) -> None:
        self.reminders = reminders
        self.clock = clock
        # Set by the outbox so that a notice goes out at once, not at the next periodic look.
        self.on_queued: Callable[[], None] = lambda: None

    async def schedule(
        self,
        *,
        talent_id: int,
        subject: str,
        subject_id: int,
        kind: str,
        due_at: datetime,
        expires_at: datetime,
        text_key: str,
        params: dict[str, Any],
    ) -> None:
        """Remind a talent at ``due_at``; useless (and dropped) from ``expires_at`` on.

        Scheduling the same (subject, talent, kind) again moves the reminder.
        """
        if expires_at <= due_at:
            raise ValueError("a reminder must expire after it is due")
        await self.reminders.schedule(
            talent_id=talent_id,
            subject=subject,
            subject_id=subject_id,
            kind=kind,
            due_at=due_at,
            expires_at=expires_at,
            text_key=text_key,
            params=params,
            now=self.clock.now(),
        )

    async def notify(
        self,
        talent_id: int,
        *,
        subject: str,
        subject_id: int,
        kind: str,
        text_key: str,
        params: dict[str, Any],
        topic: str = TOPIC_POINTS,
    ) -> None:
        """Tell one talent something now (a stored row, so a restart loses none), unless they
        turned ``topic`` off in /settings; ``(subject, subject_id, kind)`` names the event, so
        telling it again replaces a notice not sent yet instead of adding one."""
        now = self.clock.now()
        await self.reminders.schedule(
            talent_id=talent_id,
            subject=subject,
            subject_id=subject_id,
            kind=kind,
            due_at=now,
            expires_at=now + NOTICE_USEFUL_FOR,
            text_key=text_key,
            params=params,
            now=now,
            topic=topic,
        )
        self.on_queued()

    async def cancel(self, *, subject: str, subject_id: int, talent_id: int | None = None) -> int:
        """Cancel pending reminders of a subject, for one talent or all; return how many."""
        return await self.reminders.cancel(
            subject=subject, subject_id=subject_id, talent_id=talent_id, now=self.clock.now()
        )


class PreferenceService:
    """What a talent wants to hear about."""

    def __init__(self, *, preferences: PreferenceRepository, clock: Clock) -> None:
        self.preferences = preferences
        self.clock = clock

    async def enabled(self, talent_id: int) -> dict[str, bool]:
        """Every topic with whether it is on, in menu order."""
        off = await self.preferences.optouts(talent_id)
        return {topic: topic not in off for topic in TOPICS}

    async def toggle(self, talent_id: int, topic: str) -> bool:
        """Switch a topic; return whether it is on now."""
        if topic not in TOPICS:
            raise InvalidInput("common.stale_button")
        now_on = topic in await self.preferences.optouts(talent_id)
        await self.preferences.set_enabled(talent_id, topic, now_on, now=self.clock.now())
        return now_on
