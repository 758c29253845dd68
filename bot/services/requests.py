"""Requests from institutions: a station asks for experts, talents apply, coordinators choose.

A request is an activity whose ``request`` column is set: once a talent is accepted they hold an
ordinary place (a signup), so reminders, check-in, hours, points and reports need nothing new.
"""

from __future__ import annotations

from bot.clock import Clock
from bot.services.activities import ActivityService
from bot.services.errors import InvalidInput, NotAllowed
from bot.services.people import Viewer
from bot.services.profile import clean_text
from storage.models import Activity, Application
from storage.presses import Press
from storage.requests import ApplyOutcome, DecideOutcome, RequestRepository

# What institutions ask for; "surgery" exists only as a request.
REQUEST_KINDS = ("clinic", "surgery", "lecture", "mentoring")
NOTE_MAX = 300


def parse_note(text: str | None) -> str:
    """A short note to the coordinators: who the talent is, what they can offer."""
    return clean_text(text, max_len=NOTE_MAX)


class RequestService:
    def __init__(
        self, *, requests: RequestRepository, activities: ActivityService, clock: Clock
    ) -> None:
        self.requests = requests
        self.activities = activities
        self.clock = clock

    async def request(self, activity_id: int) -> Activity | None:
        """The activity, if it is a request."""
        activity = await self.activities.activities.get(activity_id)
        return activity if activity is not None and activity.request is not None else None

    async def managed(self, actor: Viewer, activity_id: int) -> Activity:
        """The request, if ``actor`` coordinates its station (or is an admin)."""
        activity = await self.activities.managed(actor, activity_id)
        if activity.request is None:
            raise NotAllowed
        return activity

    async def apply(self, talent: Viewer, activity_id: int, note: str) -> ApplyOutcome:
        """Offer to serve; only registered talents may."""
        if not talent.registered or talent.talent is None:
            raise NotAllowed
        return await self.requests.apply(
            activity_id, talent.talent.id, parse_note(note) if note else "", now=self.clock.now()
        )

    async def applicants(
        self, actor: Viewer, activity_id: int
    ) -> tuple[Activity, list[Application]]:
        """The request and its applications, for its coordinators."""
        activity = await self.managed(actor, activity_id)
        return activity, await self.requests.of_request(activity_id)

    async def decide(
        self, actor: Viewer, application_id: int, *, accept: bool, press: Press | None
    ) -> tuple[DecideOutcome, Application]:
        """Accept or decline one application. A second press of the same button raises
        AlreadyDone; nobody decides on their own application."""
        application = await self.requests.get(application_id)
        if application is None:
            raise NotAllowed
        activity = await self.managed(actor, application.activity_id)
        if actor.talent is not None and actor.talent.id == application.talent_id:
            raise NotAllowed
        outcome = await self.requests.decide(
            application_id, accept=accept, by=actor.telegram_id, now=self.clock.now(), press=press
        )
        if outcome == DecideOutcome.ACCEPTED:
            await self.activities.moved_up(activity.id, application.talent_id)
        return outcome, application

    async def close(self, actor: Viewer, activity_id: int, *, press: Press | None) -> list[int]:
        """Take no more applications; returns the talents whose application was not decided."""
        await self.managed(actor, activity_id)
        closed = await self.requests.close(
            activity_id, by=actor.telegram_id, now=self.clock.now(), press=press
        )
        if closed is None:
            raise InvalidInput("request.already_closed")
        return closed

    async def open_requests(self, actor: Viewer) -> list[tuple[Activity, int]]:
        """The requests of the actor's stations not over yet, with their undecided counts."""
        if not actor.is_coordinator:
            raise NotAllowed
        found = []
        for activity_id, pending in await self.requests.open_of_stations(
            self.activities.stations_for(actor), now=self.clock.now()
        ):
            activity = await self.activities.activities.get(activity_id)
            assert activity is not None
            found.append((activity, pending))
        return found
