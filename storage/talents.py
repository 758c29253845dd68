"""Talents and their fields of expertise."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from storage.database import Database, Transaction, utc_text
from storage.models import Role, Talent

# Columns a profile edit may set; anything else is refused before it reaches SQL.
PROFILE_COLUMNS = frozenset(
    {"name", "phone", "title", "region", "station_id", "stay_from", "stay_to", "language"}
)


async def ensure_talent(tx: Transaction, telegram_id: int, *, now: datetime) -> int:
    """Inside ``tx``, return the talent id for this user, creating the row if needed."""
    await tx.execute(
        "INSERT INTO talents (telegram_id, created_at, updated_at) VALUES (:tg, :now, :now)"
        " ON CONFLICT (telegram_id) DO NOTHING",
        {"tg": telegram_id, "now": utc_text(now)},
    )
    row = await tx.fetch_one("SELECT id FROM talents WHERE telegram_id = ?", (telegram_id,))
    assert row is not None
    return row[0]


class TalentRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def by_telegram_id(self, telegram_id: int) -> Talent | None:
        """Return the talent with this Telegram user id, registered or not."""
        talent, _ = await self.with_roles(telegram_id)
        return talent

    async def with_roles(self, telegram_id: int) -> tuple[Talent | None, list[Role]]:
        """The talent and their roles in one query: every update starts by asking this."""
        row = await self.db.fetch_one(
            f"SELECT t.*, {_EXPERTISE},"
            " (SELECT json_group_array(json_object('id', r.id, 'talent_id', r.talent_id,"
            " 'station_id', r.station_id, 'role', r.role, 'granted_by', r.granted_by,"
            " 'granted_at', r.granted_at)) FROM roles r WHERE r.talent_id = t.id) AS roles_json"
            " FROM talents t WHERE t.telegram_id = ?",
            (telegram_id,),
        )
        if row is None:
            return None, []
        values = dict(row)
        roles = [Role(**role) for role in json.loads(values.pop("roles_json") or "[]")]
        return _talent(values), sorted(roles, key=lambda r: (r.station_id, r.role))

    async def get(self, talent_id: int) -> Talent | None:
        """Return one talent by our own id."""
        row = await self.db.fetch_one(
            f"SELECT t.*, {_EXPERTISE} FROM talents t WHERE t.id = ?", (talent_id,)
        )
        return None if row is None else _talent(dict(row))

    async def ensure(self, telegram_id: int, *, now: datetime) -> Talent:
        """Return the talent row for this user, creating an unregistered one if needed."""
        async with self.db.transaction() as tx:
            talent_id = await ensure_talent(tx, telegram_id, now=now)
        talent = await self.get(talent_id)
        assert talent is not None
        return talent

    async def set_language(self, telegram_id: int, language: str, *, now: datetime) -> None:
        """Store the user's language choice, creating their row if needed."""
        async with self.db.transaction() as tx:
            await ensure_talent(tx, telegram_id, now=now)
            await tx.execute(
                "UPDATE talents SET language = :lang, updated_at = :now WHERE telegram_id = :tg",
                {"lang": language, "now": utc_text(now), "tg": telegram_id},
            )

    async def register(
        self,
        telegram_id: int,
        *,
        language: str,
        name: str,
        phone: str | None,
        expertise: Iterable[str],
        title: str | None,
        region: str,
        station_id: int | None,
        stay_from: date,
        stay_to: date,
        consent_at: datetime,
        now: datetime,
    ) -> Talent:
        """Store a completed registration in one transaction and return the talent."""
        async with self.db.transaction() as tx:
            talent_id = await ensure_talent(tx, telegram_id, now=now)
            await tx.execute(
                "UPDATE talents SET language = :language, name = :name, phone = :phone,"
                " title = :title, region = :region, station_id = :station_id,"
                " stay_from = :stay_from, stay_to = :stay_to, consent_at = :consent_at,"
                " registered_at = coalesce(registered_at, :now), reachable = 1,"
                " updated_at = :now WHERE id = :id",
                {
                    "id": talent_id,
                    "language": language,
                    "name": name,
                    "phone": phone,
                    "title": title,
                    "region": region,
                    "station_id": station_id,
                    "stay_from": stay_from.isoformat(),
                    "stay_to": stay_to.isoformat(),
                    "consent_at": utc_text(consent_at),
                    "now": utc_text(now),
                },
            )
            await self._replace_expertise(tx, talent_id, expertise)
        talent = await self.get(talent_id)
        assert talent is not None
        return talent

    async def update_profile(
        self, talent_id: int, changes: dict[str, Any], *, now: datetime
    ) -> Talent:
        """Change some profile columns (and expertise, under the key ``expertise``)."""
        changes = dict(changes)
        expertise = changes.pop("expertise", None)
        unknown = set(changes) - PROFILE_COLUMNS
        if unknown:
            raise ValueError(f"not profile columns: {sorted(unknown)}")
        params: dict[str, Any] = {
            key: value.isoformat() if isinstance(value, date) else value
            for key, value in changes.items()
        }
        async with self.db.transaction() as tx:
            if params:
                assignments = ", ".join(f"{key} = :{key}" for key in params)
                params.update(id=talent_id, now=utc_text(now))
                await tx.execute(
                    f"UPDATE talents SET {assignments}, updated_at = :now WHERE id = :id", params
                )
            if expertise is not None:
                await self._replace_expertise(tx, talent_id, expertise)
        talent = await self.get(talent_id)
        assert talent is not None
        return talent

    async def forget_unregistered(self, telegram_id: int) -> bool:
        """Delete the row of someone who never registered; True when there was one to delete.

        Choosing a language before declining the privacy notice stores a row, and declining
        must leave nothing behind. A row that holds a role (an invitation was used), or that
        anything else points at, stays.
        """
        try:
            deleted = await self.db.execute_rowcount(
                "DELETE FROM talents WHERE telegram_id = ? AND registered_at IS NULL"
                " AND NOT EXISTS (SELECT 1 FROM roles r WHERE r.talent_id = talents.id)",
                (telegram_id,),
            )
        except sqlite3.IntegrityError:
            return False  # a foreign key still needs the row
        return deleted == 1

    async def set_reachable(self, telegram_id: int, reachable: bool, *, now: datetime) -> bool:
        """Mark whether the bot can write to this user; return True when the flag changed."""
        async with self.db.transaction() as tx:
            changed = await tx.execute_rowcount(
                "UPDATE talents SET reachable = :r, updated_at = :now"
                " WHERE telegram_id = :tg AND reachable != :r",
                {"r": int(reachable), "now": utc_text(now), "tg": telegram_id},
            )
        return changed == 1

    async def search(
        self,
        *,
        name: str | None,
        last_four: str | None,
        station_ids: list[int] | None,
        activity_id: int | None,
        limit: int,
    ) -> list[Talent]:
        """Registered talents in scope (see ``_SCOPE``) whose name contains ``name``, or whose
        phone ends with the digits ``last_four``."""
        pattern = None
        if name is not None:
            escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = f"%{escaped}%"
        rows = await self.db.fetch_all(
            f"SELECT t.*, {_EXPERTISE} FROM talents t WHERE t.registered_at IS NOT NULL"
            f" AND {_SCOPE}"
            " AND ((:name IS NOT NULL AND t.name LIKE :name ESCAPE '\\')"
            " OR (:four IS NOT NULL AND t.phone LIKE '%' || :four))"
            " ORDER BY t.name, t.id LIMIT :limit",
            {
                **_scope_params(station_ids, activity_id),
                "name": pattern,
                "four": last_four,
                "limit": limit,
            },
        )
        return [_talent(dict(row)) for row in rows]

    async def in_scope(
        self, talent_id: int, *, station_ids: list[int] | None, activity_id: int | None
    ) -> bool:
        """Whether a registered talent is in the scope ``search`` looks in."""
        return bool(
            await self.db.fetch_value(
                "SELECT count(*) FROM talents t WHERE t.id = :talent"
                f" AND t.registered_at IS NOT NULL AND {_SCOPE}",
                {**_scope_params(station_ids, activity_id), "talent": talent_id},
            )
        )

    async def display_names(self, telegram_ids: Iterable[int]) -> dict[int, str | None]:
        """For each Telegram id, the name staff should see: the talent profile's, else the
        Telegram first name remembered for them, else None; in one query."""
        ids = sorted(set(telegram_ids))
        if not ids:
            return {}
        rows = await self.db.fetch_all(
            "SELECT j.value, coalesce(nullif(t.name, ''), n.first_name)"
            " FROM json_each(:ids) j LEFT JOIN talents t ON t.telegram_id = j.value"
            " LEFT JOIN telegram_names n ON n.telegram_id = j.value",
            {"ids": json.dumps(ids)},
        )
        return {row[0]: row[1] for row in rows}

    async def remember_first_name(
        self, telegram_id: int, first_name: str, *, now: datetime
    ) -> None:
        """Keep the Telegram first name of someone without a name in a profile."""
        await self.db.execute(
            "INSERT INTO telegram_names (telegram_id, first_name, seen_at) VALUES (?, ?, ?)"
            " ON CONFLICT (telegram_id) DO UPDATE SET first_name = excluded.first_name,"
            " seen_at = excluded.seen_at",
            (telegram_id, first_name, utc_text(now)),
        )

    async def count_registered(self) -> int:
        """Return how many talents finished registration."""
        return await self.db.fetch_value(
            "SELECT count(*) FROM talents WHERE registered_at IS NOT NULL"
        )

    @staticmethod
    async def _replace_expertise(tx: Transaction, talent_id: int, fields: Iterable[str]) -> None:
        await tx.execute("DELETE FROM talent_expertise WHERE talent_id = ?", (talent_id,))
        await tx.executemany(
            "INSERT INTO talent_expertise (talent_id, field) VALUES (?, ?)",
            [(talent_id, field) for field in sorted(set(fields))],
        )


# Expertise comes along in the same query, in the catalog-independent alphabetical order.
_EXPERTISE = (
    "(SELECT group_concat(field, ',') FROM (SELECT field FROM talent_expertise e"
    " WHERE e.talent_id = t.id ORDER BY field)) AS expertise_csv"
)

# Whom a search may find: everyone (admins), or the talents of some stations and those signed
# up for (or waiting for) the activity at hand.
_SCOPE = (
    "(:everyone OR t.station_id IN (SELECT value FROM json_each(:stations))"
    " OR EXISTS (SELECT 1 FROM signups s WHERE s.activity_id = :activity"
    " AND s.talent_id = t.id AND s.status IN ('going', 'waitlist')))"
)


def _scope_params(station_ids: list[int] | None, activity_id: int | None) -> dict[str, Any]:
    return {
        "everyone": int(station_ids is None),
        "stations": json.dumps(station_ids or []),
        "activity": activity_id,
    }


def _talent(values: dict[str, Any]) -> Talent:
    csv = values.pop("expertise_csv", None)
    return Talent(**values, expertise=tuple(csv.split(",")) if csv else ())
