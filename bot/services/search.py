"""Finding a talent by name or phone: for a hand check-in, or an admin's points adjustment.

Every search goes through here, so the rules hold for both: a coordinator finds only the
talents of their own stations (and those signed up for the activity at hand), admins anyone;
a phone matches only on exactly its last four digits, and results show it masked; and a user
may search at most ``per_minute`` times a minute, so the search cannot be used to list the
city's talents or to rebuild someone's number digit by digit.
"""

from __future__ import annotations

import re
from collections import deque
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.services.activities import ActivityService
from bot.services.errors import InvalidInput, NotAllowed
from bot.services.people import Viewer
from storage.models import Talent
from storage.talents import TalentRepository

QUERY_MAX = 64
RESULTS = 8
SEARCHES_PER_MINUTE = 10
WINDOW = timedelta(minutes=1)
LAST_FOUR = 4


def parse_query(text: str | None) -> tuple[str | None, str | None]:
    """A typed query as (part of a name, None) or (None, the phone's last four digits).

    Anything made of digits is a phone query and must be exactly four digits: a longer tail
    would let a caller confirm more of a number than the masked results show.
    """
    query = re.sub(r"\s+", " ", text or "").strip()
    if not query or len(query) > QUERY_MAX:
        raise InvalidInput("points.nobody")
    if re.fullmatch(r"[\d\s+()\-]+", query):
        digits = re.sub(r"\D", "", query)
        if len(digits) != LAST_FOUR:
            raise InvalidInput("points.last_four")
        return None, digits
    return query, None


class SearchLimit:
    """At most ``limit`` searches per user in any ``window``, on the injectable clock.

    Kept in memory: it guards against a burst of guesses, which a restart does not help with,
    and only coordinators and admins search, so the map stays small.
    """

    def __init__(self, *, limit: int, window: timedelta) -> None:
        self.limit = limit
        self.window = window
        self._recent: dict[int, deque[datetime]] = {}

    def allow(self, user_id: int, now: datetime) -> bool:
        """Count a search by ``user_id`` if it is within the limit; False when it is not."""
        recent = self._recent.setdefault(user_id, deque())
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        if len(recent) >= self.limit:
            return False
        recent.append(now)
        return True


class TalentSearch:
    def __init__(
        self,
        *,
        talents: TalentRepository,
        activities: ActivityService,
        clock: Clock,
        per_minute: int = SEARCHES_PER_MINUTE,
    ) -> None:
        self.talents = talents
        self.activities = activities
        self.clock = clock
        self.limit = SearchLimit(limit=per_minute, window=WINDOW)

    async def _scope(
        self, actor: Viewer, activity_id: int | None
    ) -> tuple[list[int] | None, int | None]:
        """The stations (None: all) and the activity whose talents ``actor`` may look up."""
        if activity_id is not None:
            await self.activities.managed(actor, activity_id)
        if actor.is_admin:
            return None, activity_id
        if not actor.is_coordinator:
            raise NotAllowed
        return sorted(set(actor.stations_where_coordinator())), activity_id

    async def find(
        self, actor: Viewer, query: str | None, *, activity_id: int | None = None
    ) -> list[Talent]:
        """Registered talents ``actor`` may look up whose name contains the query, or whose
        phone ends with its four digits.

        Raises:
            InvalidInput: the query cannot be searched for, or the user searched too often.
            NotAllowed: the user is no coordinator, or does not manage the activity.
        """
        stations, activity_id = await self._scope(actor, activity_id)
        name, last_four = parse_query(query)
        if not self.limit.allow(actor.telegram_id, self.clock.now()):
            raise InvalidInput("points.too_many_searches")
        return await self.talents.search(
            name=name,
            last_four=last_four,
            station_ids=stations,
            activity_id=activity_id,
            limit=RESULTS,
        )

    async def may_pick(
        self, actor: Viewer, talent_id: int, *, activity_id: int | None = None
    ) -> bool:
        """Whether ``talent_id`` is someone ``actor``'s search could have offered."""
        try:
            stations, activity_id = await self._scope(actor, activity_id)
        except NotAllowed:
            return False
        return await self.talents.in_scope(
            talent_id, station_ids=stations, activity_id=activity_id
        )
