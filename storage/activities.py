"""Activities and signups. Every change of who is going is one transaction."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from storage.database import Database, Transaction, utc_text
from storage.models import Activity, Signup
from storage.presses import Press, spend

EDITABLE_COLUMNS = frozenset(
    {"kind", "title", "description", "place", "starts_at", "ends_at", "capacity", "points",
     "expertise", "station_id", "request", "team_id"}
)  # fmt: skip
_WITH_COUNTS = (
    "SELECT a.*,"
    " (SELECT count(*) FROM signups s WHERE s.activity_id = a.id AND s.status = 'going') AS going,"
    " (SELECT count(*) FROM signups s WHERE s.activity_id = a.id AND s.status = 'waitlist')"
    " AS waiting FROM activities a"
)


class SignupOutcome(StrEnum):
    SIGNED_UP = "signed_up"
    WAITLISTED = "waitlisted"
    FULL = "full"
    ALREADY = "already"
    ALREADY_WAITING = "already_waiting"
    STARTED = "started"
    CLOSED = "closed"  # a draft, cancelled or finished activity
    TEAM_ONLY = "team_only"  # open to one team's members, and the talent is not one
    UNKNOWN = "unknown"


class LeaveOutcome(StrEnum):
    LEFT = "left"
    NOT_SIGNED_UP = "not_signed_up"
    UNKNOWN = "unknown"


def _params(values: dict[str, Any]) -> dict[str, Any]:
    return {k: utc_text(v) if isinstance(v, datetime) else v for k, v in values.items()}


class ActivityRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self, values: dict[str, Any], *, by: int, now: datetime, press: Press | None = None
    ) -> Activity:
        """Store a new activity (a draft) and return it."""
        unknown = set(values) - EDITABLE_COLUMNS
        if unknown:
            raise ValueError(f"not activity columns: {sorted(unknown)}")
        columns = ", ".join(values)
        names = ", ".join(f":{key}" for key in values)
        async with self.db.transaction() as tx:
            await spend(tx, press, now=now)
            activity_id = await tx.execute(
                f"INSERT INTO activities ({columns}, created_by, created_at, updated_at)"
                f" VALUES ({names}, :by, :now, :now)",
                {**_params(values), "by": by, "now": utc_text(now)},
            )
        activity = await self.get(activity_id)
        assert activity is not None
        return activity

    async def update(
        self, activity_id: int, changes: dict[str, Any], *, by: int, now: datetime
    ) -> Activity | None:
        """Change some fields of an activity that is not cancelled or finished."""
        unknown = set(changes) - EDITABLE_COLUMNS
        if unknown:
            raise ValueError(f"not activity columns: {sorted(unknown)}")
        assignments = ", ".join(f"{key} = :{key}" for key in changes)
        async with self.db.transaction() as tx:
            changed = await tx.execute_rowcount(
                f"UPDATE activities SET {assignments}, updated_by = :by, updated_at = :now"
                " WHERE id = :id AND status IN ('draft', 'published')",
                {**_params(changes), "by": by, "now": utc_text(now), "id": activity_id},
            )
        return await self.get(activity_id) if changed else None

    async def set_status(
        self,
        activity_id: int,
        status: str,
        *,
        by: int,
        now: datetime,
        expect: tuple[str, ...],
        press: Press | None = None,
    ) -> bool:
        """Move an activity from one of ``expect`` to ``status``; False if it was elsewhere."""
        stamp = {"published": ", published_at = :now", "cancelled": ", cancelled_at = :now"}
        async with self.db.transaction() as tx:
            await spend(tx, press, now=now)
            changed = await tx.execute_rowcount(
                f"UPDATE activities SET status = :status, updated_by = :by, updated_at = :now"
                f"{stamp.get(status, '')} WHERE id = :id"
                " AND status IN (SELECT value FROM json_each(:expect))",
                {
                    "status": status,
                    "by": by,
                    "now": utc_text(now),
                    "id": activity_id,
                    "expect": _json_list(expect),
                },
            )
        return changed == 1

    async def get(self, activity_id: int) -> Activity | None:
        """One activity with its counts of going and waiting talents."""
        row = await self.db.fetch_one(f"{_WITH_COUNTS} WHERE a.id = ?", (activity_id,))
        return None if row is None else Activity(**dict(row))

    async def of_stations(
        self, station_ids: list[int] | None, *, since: datetime, limit: int = -1
    ) -> list[Activity]:
        """Activities of these stations (None: all, city-wide included) not over yet; all of
        them unless ``limit`` says how many."""
        if station_ids is None:
            rows = await self.db.fetch_all(
                f"{_WITH_COUNTS} WHERE a.ends_at > ? AND a.status != 'finished'"
                " ORDER BY a.starts_at LIMIT ?",
                (utc_text(since), limit),
            )
        else:
            rows = await self.db.fetch_all(
                f"{_WITH_COUNTS} WHERE a.ends_at > ? AND a.status != 'finished'"
                " AND a.station_id IN (SELECT value FROM json_each(?))"
                " ORDER BY a.starts_at LIMIT ?",
                (utc_text(since), _json_list(station_ids), limit),
            )
        return [Activity(**dict(row)) for row in rows]

    async def upcoming(
        self,
        *,
        now: datetime,
        station_id: int | None,
        kind: str | None,
        offset: int,
        limit: int,
        every_station: bool = False,
        talent_id: int | None = None,
    ) -> tuple[list[Activity], int]:
        """Published activities not started yet, of one station (or all of them), city-wide, open
        requests, and those open to one team only of the teams ``talent_id`` is in."""
        where = (
            " WHERE a.status = 'published' AND a.starts_at > :now"
            # An open request asks the whole city, like its announcement.
            " AND (a.team_id IS NULL"
            " AND (:every OR a.station_id IS NULL OR a.station_id = :station"
            " OR a.request = 'open')"
            " OR a.team_id IN (SELECT m.team_id FROM team_members m WHERE m.talent_id = :talent))"
            " AND (:kind IS NULL OR a.kind = :kind)"
        )
        params = {
            "now": utc_text(now),
            "station": station_id,
            "every": every_station,
            "kind": kind,
            "talent": talent_id,
        }
        total = await self.db.fetch_value(f"SELECT count(*) FROM activities a{where}", params)
        rows = await self.db.fetch_all(
            f"{_WITH_COUNTS}{where} ORDER BY a.starts_at, a.id LIMIT :limit OFFSET :offset",
            {**params, "limit": limit, "offset": offset},
        )
        return [Activity(**dict(row)) for row in rows], total

    # -- signups ------------------------------------------------------------------------------

    async def signups(self, activity_id: int) -> list[Signup]:
        """Who is going and who is waiting, in order."""
        rows = await self.db.fetch_all(
            "SELECT s.*, t.name, t.telegram_id FROM signups s JOIN talents t ON t.id = s.talent_id"
            " WHERE s.activity_id = ? AND s.status IN ('going', 'waitlist')"
            " ORDER BY s.status, s.position, s.id",
            (activity_id,),
        )
        return [Signup(**dict(row)) for row in rows]

    async def signup_of(self, activity_id: int, talent_id: int) -> Signup | None:
        """The talent's signup for an activity, in any state."""
        row = await self.db.fetch_one(
            "SELECT * FROM signups WHERE activity_id = ? AND talent_id = ?",
            (activity_id, talent_id),
        )
        return None if row is None else Signup(**dict(row))

    async def of_talent(self, talent_id: int, *, now: datetime) -> list[tuple[Signup, Activity]]:
        """The talent's signups and waitlist places for activities not over yet."""
        rows = await self.db.fetch_all(
            "SELECT s.* FROM signups s JOIN activities a ON a.id = s.activity_id"
            " WHERE s.talent_id = ? AND s.status IN ('going', 'waitlist') AND a.ends_at > ?"
            " ORDER BY a.starts_at",
            (talent_id, utc_text(now)),
        )
        found = []
        for row in rows:
            signup = Signup(**dict(row))
            activity = await self.get(signup.activity_id)
            assert activity is not None
            found.append((signup, activity))
        return found

    async def waitlist_position(self, activity_id: int, talent_id: int) -> int | None:
        """1 for the first on the waitlist; None when not waiting."""
        return await self.db.fetch_value(
            "SELECT 1 + count(*) FROM signups w JOIN signups me"
            " ON me.activity_id = w.activity_id AND me.talent_id = :talent"
            " AND me.status = 'waitlist'"
            " WHERE w.activity_id = :activity AND w.status = 'waitlist'"
            " AND (w.position < me.position OR (w.position = me.position AND w.id < me.id))",
            {"activity": activity_id, "talent": talent_id},
        )

    async def sign_up(
        self, activity_id: int, talent_id: int, *, now: datetime, waitlist: bool
    ) -> SignupOutcome:
        """Take a place, or (when asked) a place on the waitlist, in one transaction."""
        async with self.db.transaction() as tx:
            activity = await tx.fetch_one(
                "SELECT status, starts_at, capacity, request, team_id FROM activities"
                " WHERE id = ?",
                (activity_id,),
            )
            if activity is None:
                return SignupOutcome.UNKNOWN
            if activity["team_id"] is not None and not await tx.fetch_one(
                "SELECT 1 FROM team_members WHERE team_id = ? AND talent_id = ?",
                (activity["team_id"], talent_id),
            ):
                return SignupOutcome.TEAM_ONLY
            # A request's places are given by its coordinators (storage/requests.py), not taken.
            if activity["status"] != "published" or activity["request"] is not None:
                return SignupOutcome.CLOSED
            if datetime.fromisoformat(activity["starts_at"]) <= now:
                return SignupOutcome.STARTED
            current = await tx.fetch_one(
                "SELECT status FROM signups WHERE activity_id = ? AND talent_id = ?",
                (activity_id, talent_id),
            )
            if current is not None and current["status"] == "going":
                return SignupOutcome.ALREADY
            if current is not None and current["status"] == "waitlist":
                return SignupOutcome.ALREADY_WAITING
            going = await _count(tx, activity_id, "going")
            capacity = activity["capacity"]
            if capacity == 0 or going < capacity:
                await _put(tx, activity_id, talent_id, "going", 0, now)
                return SignupOutcome.SIGNED_UP
            if not waitlist:
                return SignupOutcome.FULL
            last = await tx.fetch_one(
                "SELECT coalesce(max(position), 0) FROM signups"
                " WHERE activity_id = ? AND status = 'waitlist'",
                (activity_id,),
            )
            await _put(tx, activity_id, talent_id, "waitlist", last[0] + 1, now)
            return SignupOutcome.WAITLISTED

    async def leave(
        self, activity_id: int, talent_id: int, *, now: datetime, press: Press | None = None
    ) -> tuple[LeaveOutcome, int | None]:
        """Give up a place (promoting the first on the waitlist) or a waitlist place.

        Returns the outcome and, when someone was promoted, their talent id.
        """
        async with self.db.transaction() as tx:
            await spend(tx, press, now=now)
            current = await tx.fetch_one(
                "SELECT s.status, a.status AS activity_status, a.capacity FROM signups s"
                " JOIN activities a ON a.id = s.activity_id"
                " WHERE s.activity_id = ? AND s.talent_id = ?",
                (activity_id, talent_id),
            )
            if current is None or current["status"] == "cancelled":
                return LeaveOutcome.NOT_SIGNED_UP, None
            await tx.execute(
                "UPDATE signups SET status = 'cancelled', updated_at = :now"
                " WHERE activity_id = :activity AND talent_id = :talent",
                {"now": utc_text(now), "activity": activity_id, "talent": talent_id},
            )
            promoted = None
            if current["status"] == "going" and current["activity_status"] == "published":
                promoted = await _promote(tx, activity_id, current["capacity"], now)
        return LeaveOutcome.LEFT, promoted

    async def fill_from_waitlist(self, activity_id: int, *, now: datetime) -> list[int]:
        """After capacity grew, move waiting talents up while places are free."""
        promoted = []
        async with self.db.transaction() as tx:
            row = await tx.fetch_one(
                "SELECT capacity FROM activities WHERE id = ?", (activity_id,)
            )
            while row is not None:
                talent = await _promote(tx, activity_id, row["capacity"], now)
                if talent is None:
                    break
                promoted.append(talent)
        return promoted

    async def going_talents(self, activity_id: int) -> list[int]:
        """Talent ids with a place."""
        rows = await self.db.fetch_all(
            "SELECT talent_id FROM signups WHERE activity_id = ? AND status = 'going'",
            (activity_id,),
        )
        return [row[0] for row in rows]


async def _count(tx: Transaction, activity_id: int, status: str) -> int:
    row = await tx.fetch_one(
        "SELECT count(*) FROM signups WHERE activity_id = ? AND status = ?", (activity_id, status)
    )
    return row[0]


async def _put(
    tx: Transaction, activity_id: int, talent_id: int, status: str, position: int, now: datetime
) -> None:
    await tx.execute(
        "INSERT INTO signups (activity_id, talent_id, status, position, created_at, updated_at)"
        " VALUES (:activity, :talent, :status, :position, :now, :now)"
        " ON CONFLICT (activity_id, talent_id) DO UPDATE SET status = excluded.status,"
        " position = excluded.position, updated_at = excluded.updated_at",
        {
            "activity": activity_id,
            "talent": talent_id,
            "status": status,
            "position": position,
            "now": utc_text(now),
        },
    )


async def _promote(tx: Transaction, activity_id: int, capacity: int, now: datetime) -> int | None:
    """Give the first waiting talent the free place, if there is one."""
    if capacity and await _count(tx, activity_id, "going") >= capacity:
        return None
    first = await tx.fetch_one(
        "SELECT talent_id FROM signups WHERE activity_id = ? AND status = 'waitlist'"
        " ORDER BY position, id LIMIT 1",
        (activity_id,),
    )
    if first is None:
        return None
    await tx.execute(
        "UPDATE signups SET status = 'going', position = 0, updated_at = :now"
        " WHERE activity_id = :activity AND talent_id = :talent",
        {"now": utc_text(now), "activity": activity_id, "talent": first[0]},
    )
    return first[0]


def _json_list(values: object) -> str:
    import json

    return json.dumps(list(values))  # type: ignore[call-overload]
