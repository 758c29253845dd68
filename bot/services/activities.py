"""Activities and volunteer calls: the rules of creating, publishing, editing and joining them."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.i18n import ungroup
from bot.services.errors import InvalidInput, NotAllowed
from bot.services.kinds import ACTIVITY_KINDS
from bot.services.messaging import ReminderService
from bot.services.people import Viewer
from bot.services.profile import EXPERTISE, clean_text
from bot.services.teams import TeamService
from bot.timeparse import Reading, parse_duration, read_clock, read_moment
from storage.activities import ActivityRepository, LeaveOutcome, SignupOutcome
from storage.models import Activity, ActivityStatus
from storage.presses import Press
from storage.stations import StationRepository

TITLE_MAX = 100
PLACE_MAX = 100
DESCRIPTION_MAX = 2000
CAPACITY_MAX = 10_000
POINTS_MAX = 1_000
LONGEST = timedelta(days=7)
REMINDER_SUBJECT = "activity"
# Changing these tells the talents who signed up; a better description does not.
NOTIFY_FIELDS = frozenset({"starts_at", "ends_at", "place"})


@dataclass(slots=True)
class ActivityDraft:
    """An activity being written, field by field."""

    station_id: int | None = None
    city_wide: bool = False
    kind: str | None = None
    title: str | None = None
    description: str = ""
    place: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    capacity: int = 0
    points: int = 0
    expertise: str | None = None
    request: str | None = None  # "open" for a request from an institution
    team_id: int | None = None  # set: open to this team's members only

    def values(self) -> dict[str, Any]:
        """The columns of the activity."""
        return {
            "station_id": None if self.city_wide else self.station_id,
            "kind": self.kind,
            "title": self.title,
            "description": self.description,
            "place": self.place,
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "capacity": self.capacity,
            "points": self.points,
            "expertise": self.expertise,
            "request": self.request,
            "team_id": self.team_id,
        }


# -- the rules of each field ------------------------------------------------------------------


def parse_kind(value: str | None) -> str:
    """One of the activity kinds."""
    if value not in ACTIVITY_KINDS:
        raise InvalidInput("common.stale_button")
    return value


def parse_title(text: str | None) -> str:
    """A title that fits a list line and a button."""
    return clean_text(text, max_len=TITLE_MAX)


def parse_place(text: str | None) -> str:
    """Where it happens."""
    return clean_text(text, max_len=PLACE_MAX)


def parse_description(text: str | None) -> str:
    """A few lines about it; line breaks are kept."""
    if text is None:
        raise InvalidInput("input.need_text")
    lines = [clean_text(line, max_len=DESCRIPTION_MAX) if line.strip() else "" for line in
             text.strip().splitlines()]  # fmt: skip
    cleaned = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    if not cleaned:
        raise InvalidInput("input.empty")
    if len(cleaned) > DESCRIPTION_MAX:
        raise InvalidInput("input.too_long", max=DESCRIPTION_MAX, length=len(cleaned))
    return cleaned


def parse_count(text: str | None, *, maximum: int) -> int:
    """A whole number from 0 to ``maximum``."""
    value = ungroup((text or "").strip())
    if not re.fullmatch(r"\d{1,6}", value):
        raise InvalidInput("activity.bad_number", max=maximum)
    number = int(value)
    if number > maximum:
        raise InvalidInput("activity.bad_number", max=maximum)
    return number


def parse_start(text: str | None, *, tz: ZoneInfo, now: datetime) -> Reading[datetime | date]:
    """A start typed as date and time, in the future; a ``date`` alone still needs its time."""
    reading = read_moment(text or "", tz=tz, now=now)
    if reading is None:
        raise InvalidInput("activity.bad_moment")
    if isinstance(reading.value, datetime):
        check_future(reading.value, now=now)
    elif reading.value < now.astimezone(tz).date():
        raise InvalidInput("activity.in_past")
    return reading


def start_on_day(
    day: str, clock_text: str | None, *, tz: ZoneInfo, now: datetime, sure: bool = True
) -> Reading[datetime]:
    """A start from a day (picked with a button, or typed alone) and a typed time of day."""
    at = read_clock(clock_text or "")
    if at is None:
        raise InvalidInput("activity.bad_clock")
    moment = datetime.combine(datetime.fromisoformat(day).date(), at.value, tzinfo=tz)
    return Reading(check_future(moment, now=now), sure=sure and at.sure)


def check_future(moment: datetime, *, now: datetime) -> datetime:
    """A start that has not passed yet (checked again when a guess is confirmed)."""
    if moment <= now:
        raise InvalidInput("activity.in_past")
    return moment


def parse_end(text: str | None, *, start: datetime, tz: ZoneInfo, now: datetime) -> datetime:
    """An end as a duration (``2h``), a time on the start's day (``11:30``) or a full moment."""
    value = text or ""
    duration = parse_duration(value)
    if duration is not None:
        end = start + duration
    else:
        at = read_clock(value)
        if at is not None:
            end = datetime.combine(start.astimezone(tz).date(), at.value, tzinfo=tz)
            if not at.sure and end - timedelta(hours=12) > start:
                end -= timedelta(
                    hours=12
                )  # a bare "5点" ends at the first 5 o'clock after the start
        else:
            moment = read_moment(value, tz=tz, now=now)
            if moment is None or not isinstance(moment.value, datetime):
                raise InvalidInput("activity.bad_end")
            end = moment.value
    return check_times(start, end)


def check_times(start: datetime, end: datetime) -> datetime:
    """An end after the start, and not days later."""
    if end <= start:
        raise InvalidInput("activity.end_before_start")
    if end - start > LONGEST:
        raise InvalidInput("activity.too_long", days=LONGEST.days)
    return end


def parse_expertise(value: str | None) -> str | None:
    """A field of expertise, or None for anyone."""
    if value in (None, "any"):
        return None
    if value not in EXPERTISE:
        raise InvalidInput("common.stale_button")
    return value


# -- the service ------------------------------------------------------------------------------


Notify = Callable[..., Awaitable[int]]


class ActivityService:
    def __init__(
        self,
        *,
        activities: ActivityRepository,
        stations: StationRepository,
        reminders: ReminderService,
        clock: Clock,
        reminder_offsets: tuple[timedelta, ...],
        teams: TeamService,
    ) -> None:
        self.teams = teams
        self.activities = activities
        self.stations = stations
        self.reminders = reminders
        self.clock = clock
        self.reminder_offsets = reminder_offsets
        # Set by the application: turns an event into messages to the talents it concerns.
        self.announce: Notify = _nobody
        self.tell_change: Notify = _nobody
        self.tell_cancelled: Notify = _nobody

    # -- who may do what -------------------------------------------------------------------------

    @staticmethod
    def may_create(actor: Viewer) -> bool:
        """Coordinators for their stations, admins for any station or the whole city."""
        return actor.is_coordinator

    @staticmethod
    def stations_for(actor: Viewer) -> list[int] | None:
        """Stations ``actor`` may create activities for; None: any, and city-wide (admins)."""
        return None if actor.is_admin else sorted(set(actor.stations_where_coordinator()))

    @staticmethod
    def may_manage(actor: Viewer, activity: Activity) -> bool:
        """The activity's station's coordinators and admins; city-wide calls are admins' own."""
        if actor.is_admin:
            return True
        return activity.station_id is not None and actor.may_coordinate(activity.station_id)

    async def managed(self, actor: Viewer, activity_id: int) -> Activity:
        """The activity, if ``actor`` may manage it."""
        activity = await self.activities.get(activity_id)
        if activity is None or not self.may_manage(actor, activity):
            raise NotAllowed
        return activity

    def check_station(self, actor: Viewer, station_id: int | None) -> None:
        """Refuse a station (None: city-wide) the actor may not create activities for."""
        allowed = self.stations_for(actor)
        if not self.may_create(actor) or (
            allowed is not None and (station_id is None or station_id not in allowed)
        ):
            raise NotAllowed

    # -- coordinators ----------------------------------------------------------------------------

    async def create(
        self, actor: Viewer, draft: ActivityDraft, *, press: Press | None = None
    ) -> Activity:
        """Save a complete draft (not yet published)."""
        values = draft.values()
        if values["team_id"] is not None:
            # Open to one team: one the actor runs or leads, and at the team's own station.
            team = await self.teams.run_or_led(actor, values["team_id"])
            if team.station_id != values["station_id"]:
                raise NotAllowed
        else:
            self.check_station(actor, values["station_id"])
        if any(values[key] in (None, "") for key in ("kind", "title", "place", "starts_at")):
            raise InvalidInput("activity.incomplete")
        assert draft.starts_at and draft.ends_at
        check_times(draft.starts_at, draft.ends_at)
        return await self.activities.create(
            values, by=actor.telegram_id, now=self.clock.now(), press=press
        )

    async def publish(
        self, actor: Viewer, activity_id: int, *, press: Press | None = None
    ) -> tuple[Activity, int]:
        """Publish a draft and announce it; returns it and how many talents are told. A team's
        leaders may publish the team's own activities."""
        activity = await self.activities.get(activity_id)
        if activity is None:
            raise NotAllowed
        if activity.team_id is not None:
            await self.teams.run_or_led(actor, activity.team_id)
            if not self.may_manage(actor, activity) and activity.created_by != actor.telegram_id:
                raise NotAllowed  # a leader publishes what they wrote, not staff's drafts
        else:
            activity = await self.managed(actor, activity_id)
        if activity.starts_at <= self.clock.now():
            raise InvalidInput("activity.in_past")
        if not await self.activities.set_status(
            activity_id, "published", by=actor.telegram_id, now=self.clock.now(),
            expect=("draft",), press=press,
        ):  # fmt: skip
            raise InvalidInput("activity.not_draft")
        published = await self.activities.get(activity_id)
        assert published is not None
        return published, await self.announce(published)

    async def edit(
        self, actor: Viewer, activity_id: int, changes: dict[str, Any]
    ) -> tuple[Activity, int, list[int]]:
        """Change fields. Returns the activity, how many talents are told of the change, and
        the talents who moved up from the waitlist because places were added."""
        activity = await self.managed(actor, activity_id)
        if activity.status not in (ActivityStatus.DRAFT, ActivityStatus.PUBLISHED):
            raise InvalidInput("activity.closed")
        starts = changes.get("starts_at", activity.starts_at)
        ends = changes.get("ends_at", activity.ends_at)
        if "starts_at" in changes and "ends_at" not in changes:
            # Moving the start keeps the length, as people expect of a calendar.
            ends = starts + (activity.ends_at - activity.starts_at)
            changes["ends_at"] = ends
        check_times(starts, ends)
        if "station_id" in changes:
            self.check_station(actor, changes["station_id"])
        updated = await self.activities.update(
            activity_id, changes, by=actor.telegram_id, now=self.clock.now()
        )
        if updated is None:
            raise InvalidInput("activity.closed")
        promoted: list[int] = []
        if "capacity" in changes:
            promoted = await self.activities.fill_from_waitlist(activity_id, now=self.clock.now())
            for talent_id in promoted:
                await self._schedule_reminders(updated, talent_id)
        told = 0
        moved = {key for key in NOTIFY_FIELDS if key in changes} and any(
            getattr(activity, key) != getattr(updated, key) for key in NOTIFY_FIELDS
        )
        if moved and updated.status == ActivityStatus.PUBLISHED:
            if updated.starts_at != activity.starts_at:
                for talent_id in await self.activities.going_talents(activity_id):
                    await self._schedule_reminders(updated, talent_id)
            told = await self.tell_change(updated)
        refreshed = await self.activities.get(activity_id)
        assert refreshed is not None
        return refreshed, told, promoted

    async def cancel(
        self, actor: Viewer, activity_id: int, *, press: Press | None = None
    ) -> tuple[Activity, int]:
        """Cancel an activity: no more signups, no reminders, and everyone signed up is told."""
        await self.managed(actor, activity_id)
        if not await self.activities.set_status(
            activity_id, "cancelled", by=actor.telegram_id, now=self.clock.now(),
            expect=("draft", "published"), press=press,
        ):  # fmt: skip
            raise InvalidInput("activity.closed")
        await self.reminders.cancel(subject=REMINDER_SUBJECT, subject_id=activity_id)
        activity = await self.activities.get(activity_id)
        assert activity is not None
        return activity, await self.tell_cancelled(activity)

    # -- talents ---------------------------------------------------------------------------------

    async def upcoming(
        self, talent: Viewer, *, kind: str | None, page: int, per_page: int = 5
    ) -> tuple[list[Activity], int]:
        """Published activities the talent can join, a page at a time, and how many there are.

        A talent who has not chosen a station yet sees every station's, so as to find one.
        """
        station = talent.talent.station_id if talent.talent else None
        return await self.activities.upcoming(
            now=self.clock.now(),
            station_id=station,
            every_station=station is None,
            talent_id=talent.talent.id if talent.talent else None,
            kind=kind,
            offset=max(0, page) * per_page,
            limit=per_page,
        )

    @staticmethod
    def may_see(viewer: Viewer, activity: Activity) -> bool:
        """Talents see published activities; coordinators also their own drafts."""
        if activity.status != ActivityStatus.DRAFT:
            return True
        return ActivityService.may_manage(viewer, activity)

    async def closed_to_team(self, viewer: Viewer, activity: Activity) -> bool:
        """Whether the activity is open to one team only and ``viewer`` is neither in it nor
        one who manages the activity."""
        if activity.team_id is None or self.may_manage(viewer, activity):
            return False
        talent = viewer.talent
        return (
            talent is None
            or await self.teams.teams.membership(activity.team_id, talent.id) is None
        )

    async def sign_up(self, talent_id: int, activity_id: int, *, waitlist: bool) -> SignupOutcome:
        """Take a place (or a waitlist place) and schedule the reminders."""
        outcome = await self.activities.sign_up(
            activity_id, talent_id, now=self.clock.now(), waitlist=waitlist
        )
        if outcome == SignupOutcome.SIGNED_UP:
            activity = await self.activities.get(activity_id)
            assert activity is not None
            await self._schedule_reminders(activity, talent_id)
        return outcome

    async def leave(
        self, talent_id: int, activity_id: int, *, press: Press | None = None
    ) -> tuple[LeaveOutcome, int | None]:
        """Give up a place or a waitlist place; the first waiting talent moves up. A second
        ``press`` of the same confirm button raises AlreadyDone."""
        outcome, promoted = await self.activities.leave(
            activity_id, talent_id, now=self.clock.now(), press=press
        )
        if outcome == LeaveOutcome.LEFT:
            await self.reminders.cancel(
                subject=REMINDER_SUBJECT, subject_id=activity_id, talent_id=talent_id
            )
        if promoted is not None:
            activity = await self.activities.get(activity_id)
            assert activity is not None
            await self._schedule_reminders(activity, promoted)
        return outcome, promoted

    async def moved_up(self, activity_id: int, talent_id: int) -> None:
        """A talent got a place from the waitlist in some other way: give them their reminders."""
        activity = await self.activities.get(activity_id)
        if activity is not None:
            await self._schedule_reminders(activity, talent_id)

    async def _schedule_reminders(self, activity: Activity, talent_id: int) -> None:
        now = self.clock.now()
        # Start clean: a reminder whose new moment is already past must not fire at its old one.
        await self.reminders.cancel(
            subject=REMINDER_SUBJECT, subject_id=activity.id, talent_id=talent_id
        )
        for offset in self.reminder_offsets:
            due = activity.starts_at - offset
            if due <= now:
                continue  # a reminder for a moment already past would only repeat the signup
            await self.reminders.schedule(
                talent_id=talent_id,
                subject=REMINDER_SUBJECT,
                subject_id=activity.id,
                kind=f"{int(offset.total_seconds() // 60)}m",
                due_at=due,
                expires_at=activity.starts_at,
                text_key="reminder.activity",
                params={
                    "title": activity.title,
                    "starts_at": activity.starts_at,
                    "place": activity.place,
                },
            )


async def _nobody(*_: object) -> int:
    return 0
