"""Broadcasts and their deliveries, reminders, and notification opt-outs.

Both deliveries and reminders are messages that go out in bulk with a row each, moved through
the same states: pending -> sending -> sent (or unreachable, failed, dropped). A row is marked
"sending" right before its request and settled right after, so a crash leaves at most the rows
in flight to be sent again.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from storage.database import Database, utc_text
from storage.models import Audience, Broadcast, Delivery, Progress, Reminder
from storage.presses import Press, spend

# Tables whose rows are bulk messages; a constant, never user input, goes into the SQL.
_MESSAGE_TABLES = ("deliveries", "reminders")


class MessageRows:
    """State changes shared by every table of bulk messages."""

    table: str

    def __init__(self, db: Database) -> None:
        self.db = db
        assert self.table in _MESSAGE_TABLES

    async def mark_sending(self, row_id: int, *, now: datetime) -> bool:
        """Claim a pending row right before its request; False when it is no longer pending."""
        # One statement is a transaction of its own (its trigger included): one round trip to
        # the database thread instead of three, twice per message of a broadcast.
        changed = await self.db.execute_rowcount(
            f"UPDATE {self.table} SET status = 'sending', attempts = attempts + 1,"
            " updated_at = :now WHERE id = :id AND status = 'pending'",
            {"id": row_id, "now": utc_text(now)},
        )
        return changed == 1

    async def settle(
        self,
        row_id: int,
        status: str,
        *,
        now: datetime,
        error: str | None = None,
        retry_at: datetime | None = None,
        message_id: int | None = None,
    ) -> None:
        """Record the outcome of a request: sent, unreachable, failed, or pending for a retry."""
        extra = ""
        params: dict[str, Any] = {
            "id": row_id,
            "status": status,
            "now": utc_text(now),
            "error": error[:500] if error else None,
        }
        if self.table == "deliveries":
            extra = ", next_attempt_at = :retry_at, message_id = coalesce(:message_id, message_id)"
            params.update(retry_at=utc_text(retry_at) if retry_at else None, message_id=message_id)
        elif status == "sent":
            extra = ", sent_at = :now"
        elif retry_at is not None:
            extra = ", due_at = :retry_at"
            params["retry_at"] = utc_text(retry_at)
        await self.db.execute_rowcount(
            f"UPDATE {self.table} SET status = :status, last_error = :error,"
            f" updated_at = :now{extra} WHERE id = :id",
            params,
        )

    async def recover_in_flight(self, *, now: datetime) -> int:
        """After a crash, put rows that were in flight back in the queue; return how many."""
        async with self.db.transaction() as tx:
            return await tx.execute_rowcount(
                f"UPDATE {self.table} SET status = 'pending', updated_at = :now"
                " WHERE status = 'sending'",
                {"now": utc_text(now)},
            )


def audience_sql(audience: Audience) -> tuple[str, dict[str, Any]]:
    """The talents an audience selects: registered, reachable, not opted out of its topic."""
    clauses = [
        "t.registered_at IS NOT NULL",
        "t.reachable = 1",
        "NOT EXISTS (SELECT 1 FROM notification_optouts o"
        " WHERE o.talent_id = t.id AND o.topic = :topic)",
    ]
    params: dict[str, Any] = {"topic": audience.topic}
    if audience.station_ids is not None:
        clauses.append("t.station_id IN (SELECT value FROM json_each(:stations))")
        params["stations"] = json.dumps(list(audience.station_ids))
    if audience.expertise is not None:
        clauses.append(
            "EXISTS (SELECT 1 FROM talent_expertise e"
            " WHERE e.talent_id = t.id AND e.field = :expertise)"
        )
        params["expertise"] = audience.expertise
    if audience.present_on is not None:
        clauses.append("t.stay_from <= :day AND t.stay_to >= :day")
        params["day"] = audience.present_on.isoformat()
    if audience.language is not None:
        clauses.append("t.language = :language")
        params["language"] = audience.language
    if audience.activity_id is not None:
        clauses.append(
            "EXISTS (SELECT 1 FROM signups s WHERE s.talent_id = t.id"
            " AND s.activity_id = :activity AND s.status IN ('going', 'waitlist'))"
        )
        params["activity"] = audience.activity_id
    if audience.team_id is not None:
        clauses.append(
            "EXISTS (SELECT 1 FROM team_members m WHERE m.talent_id = t.id AND m.team_id = :team)"
        )
        params["team"] = audience.team_id
    return "SELECT t.id, t.telegram_id FROM talents t WHERE " + " AND ".join(clauses), params


class BroadcastRepository(MessageRows):
    table = "deliveries"

    async def count_audience(self, audience: Audience) -> int:
        """How many talents an audience reaches now."""
        sql, params = audience_sql(audience)
        return await self.db.fetch_value(f"SELECT count(*) FROM ({sql})", params)

    async def create(
        self,
        audience: Audience,
        *,
        text: str | None,
        entities: list[dict] | None,
        photo_file_id: str | None,
        created_by: int,
        author_locale: str,
        now: datetime,
        buttons: list[list[dict[str, str]]] | None = None,
        press: Press | None = None,
    ) -> Broadcast:
        """Store a broadcast and one pending delivery per recipient, in one transaction."""
        select, params = audience_sql(audience)
        async with self.db.transaction() as tx:
            await spend(tx, press, now=now)
            broadcast_id = await tx.execute(
                "INSERT INTO broadcasts (topic, audience, text, entities, photo_file_id,"
                " created_by, author_locale, created_at, buttons) VALUES (:topic, :audience,"
                " :text, :entities, :photo, :by, :locale, :now, :buttons)",
                {
                    "topic": audience.topic,
                    "audience": audience.model_dump_json(),
                    "text": text,
                    "entities": json.dumps(entities) if entities is not None else None,
                    "photo": photo_file_id,
                    "by": created_by,
                    "locale": author_locale,
                    "now": utc_text(now),
                    "buttons": json.dumps(buttons) if buttons else None,
                },
            )
            params.update(broadcast=broadcast_id, now=utc_text(now))
            total = await tx.execute_rowcount(
                "INSERT INTO deliveries (broadcast_id, talent_id, chat_id, updated_at)"
                f" SELECT :broadcast, id, telegram_id, :now FROM ({select}) ORDER BY id",
                params,
            )
            await tx.execute(
                "UPDATE broadcasts SET total = :total WHERE id = :id",
                {"total": total, "id": broadcast_id},
            )
        broadcast = await self.get(broadcast_id)
        assert broadcast is not None
        return broadcast

    async def get(self, broadcast_id: int) -> Broadcast | None:
        """One broadcast, or None."""
        row = await self.db.fetch_one("SELECT * FROM broadcasts WHERE id = ?", (broadcast_id,))
        return None if row is None else Broadcast(**dict(row))

    async def running(self) -> list[Broadcast]:
        """Broadcasts still sending."""
        rows = await self.db.fetch_all(
            "SELECT * FROM broadcasts WHERE status = 'running' ORDER BY id"
        )
        return [Broadcast(**dict(row)) for row in rows]

    async def set_progress_message(self, broadcast_id: int, chat_id: int, message_id: int) -> None:
        """Remember the message that shows a broadcast's progress."""
        await self.db.execute(
            "UPDATE broadcasts SET progress_chat_id = ?, progress_message_id = ? WHERE id = ?",
            (chat_id, message_id, broadcast_id),
        )

    async def queue(self, *, now: datetime, limit: int) -> list[Delivery]:
        """The next pending deliveries of running broadcasts whose time has come, in order."""
        rows = await self.db.fetch_all(
            "SELECT d.* FROM broadcasts b"
            " JOIN deliveries d ON d.broadcast_id = b.id AND d.status = 'pending'"
            " WHERE b.status = 'running'"
            " AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= :now)"
            " ORDER BY b.id, d.id LIMIT :limit",
            {"now": utc_text(now), "limit": limit},
        )
        return [Delivery(**dict(row)) for row in rows]

    async def next_retry_at(self) -> datetime | None:
        """The earliest moment a delivery waiting for a retry may go."""
        value = await self.db.fetch_value(
            "SELECT min(d.next_attempt_at) FROM broadcasts b JOIN deliveries d"
            " ON d.broadcast_id = b.id AND d.status = 'pending'"
            " WHERE b.status = 'running' AND d.next_attempt_at IS NOT NULL"
        )
        return datetime.fromisoformat(value) if value else None

    async def progress(self, broadcast_id: int) -> Progress:
        """Counts of a broadcast's deliveries by state: kept by triggers while the rows exist (one
        small read), and on the broadcast's row once housekeeping deleted them."""
        kept = await self.db.fetch_one(
            "SELECT total, sent_count AS sent, unreachable_count AS unreachable,"
            " failed_count AS failed, cancelled_count AS cancelled"
            " FROM broadcasts WHERE id = ? AND purged_at IS NOT NULL",
            (broadcast_id,),
        )
        if kept is not None:
            return Progress(**dict(kept))
        rows = await self.db.fetch_all(
            "SELECT status, n FROM delivery_counts WHERE broadcast_id = ?", (broadcast_id,)
        )
        counts = {row[0]: row[1] for row in rows}
        return Progress(total=sum(counts.values()), **counts)

    async def finish(self, broadcast_id: int, *, now: datetime) -> bool:
        """Mark a running broadcast finished once nothing is left; True when it just finished."""
        async with self.db.transaction() as tx:
            left = await tx.fetch_one(
                "SELECT coalesce(sum(n), 0) FROM delivery_counts WHERE broadcast_id = ?"
                " AND status IN ('pending', 'sending')",
                (broadcast_id,),
            )
            if left is not None and left[0]:
                return False
            changed = await tx.execute_rowcount(
                "UPDATE broadcasts SET status = 'finished', finished_at = :now"
                " WHERE id = :id AND status = 'running'",
                {"id": broadcast_id, "now": utc_text(now)},
            )
        return changed == 1

    async def cancel(self, broadcast_id: int, *, by: int, now: datetime) -> bool:
        """Stop a running broadcast: what has not gone yet never will."""
        async with self.db.transaction() as tx:
            changed = await tx.execute_rowcount(
                "UPDATE broadcasts SET status = 'cancelled', cancelled_by = :by,"
                " finished_at = :now WHERE id = :id AND status = 'running'",
                {"id": broadcast_id, "by": by, "now": utc_text(now)},
            )
            if changed:
                await tx.execute(
                    "UPDATE deliveries SET status = 'cancelled', updated_at = :now"
                    " WHERE broadcast_id = :id AND status = 'pending'",
                    {"id": broadcast_id, "now": utc_text(now)},
                )
        return changed == 1


class ReminderRepository(MessageRows):
    table = "reminders"

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
        now: datetime,
        topic: str = "reminders",
    ) -> None:
        """Create a reminder, or move it; a moved reminder goes out again at its new time."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO reminders (talent_id, subject, subject_id, kind, due_at, expires_at,"
                " text_key, params, topic, created_at, updated_at) VALUES (:talent, :subject,"
                " :subject_id, :kind, :due, :expires, :key, :params, :topic, :now, :now)"
                " ON CONFLICT (subject, subject_id, talent_id, kind) DO UPDATE SET"
                " status = CASE WHEN reminders.due_at = excluded.due_at"
                "   AND reminders.status != 'cancelled' THEN reminders.status ELSE 'pending' END,"
                " attempts = CASE WHEN reminders.due_at = excluded.due_at"
                "   THEN reminders.attempts ELSE 0 END,"
                " due_at = excluded.due_at, expires_at = excluded.expires_at,"
                " text_key = excluded.text_key, params = excluded.params,"
                " topic = excluded.topic, updated_at = excluded.updated_at",
                {
                    "talent": talent_id,
                    "subject": subject,
                    "subject_id": subject_id,
                    "kind": kind,
                    "due": utc_text(due_at),
                    "expires": utc_text(expires_at),
                    "key": text_key,
                    "params": json.dumps(params, ensure_ascii=False, default=_json_default),
                    "topic": topic,
                    "now": utc_text(now),
                },
            )

    async def cancel(
        self,
        *,
        subject: str,
        subject_id: int,
        now: datetime,
        talent_id: int | None = None,
    ) -> int:
        """Cancel the pending reminders of a subject (for one talent, or for all)."""
        async with self.db.transaction() as tx:
            return await tx.execute_rowcount(
                "UPDATE reminders SET status = 'cancelled', updated_at = :now"
                " WHERE subject = :subject AND subject_id = :subject_id AND status = 'pending'"
                " AND (:talent IS NULL OR talent_id = :talent)",
                {
                    "subject": subject,
                    "subject_id": subject_id,
                    "talent": talent_id,
                    "now": utc_text(now),
                },
            )

    async def drop_expired(self, *, now: datetime) -> int:
        """Drop pending reminders whose moment has passed (the bot was down); return how many."""
        async with self.db.transaction() as tx:
            return await tx.execute_rowcount(
                "UPDATE reminders SET status = 'dropped', last_error = 'expired',"
                " updated_at = :now WHERE status = 'pending' AND expires_at <= :now",
                {"now": utc_text(now)},
            )

    async def due(self, *, now: datetime, limit: int) -> list[Reminder]:
        """Pending reminders due now, with what is needed to send them."""
        rows = await self.db.fetch_all(
            "SELECT r.*, t.telegram_id, t.language FROM reminders r"
            " JOIN talents t ON t.id = r.talent_id"
            " WHERE r.status = 'pending' AND r.due_at <= :now AND r.expires_at > :now"
            " ORDER BY r.due_at, r.id LIMIT :limit",
            {"now": utc_text(now), "limit": limit},
        )
        return [Reminder(**dict(row)) for row in rows]

    async def of_subject(self, subject: str, subject_id: int) -> list[Reminder]:
        """Every reminder of a subject, for inspection."""
        rows = await self.db.fetch_all(
            "SELECT r.*, t.telegram_id, t.language FROM reminders r"
            " JOIN talents t ON t.id = r.talent_id"
            " WHERE r.subject = ? AND r.subject_id = ? ORDER BY r.due_at, r.id",
            (subject, subject_id),
        )
        return [Reminder(**dict(row)) for row in rows]

    async def wants_reminders(self, talent_id: int, topic: str) -> bool:
        """Whether the talent can be reached and has not turned ``topic`` off."""
        row = await self.db.fetch_one(
            "SELECT t.reachable AND t.registered_at IS NOT NULL AND NOT EXISTS ("
            " SELECT 1 FROM notification_optouts o WHERE o.talent_id = t.id AND o.topic = ?)"
            " FROM talents t WHERE t.id = ?",
            (topic, talent_id),
        )
        return bool(row and row[0])


class PreferenceRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def optouts(self, talent_id: int) -> set[str]:
        """The topics a talent turned off."""
        rows = await self.db.fetch_all(
            "SELECT topic FROM notification_optouts WHERE talent_id = ?", (talent_id,)
        )
        return {row[0] for row in rows}

    async def set_enabled(
        self, talent_id: int, topic: str, enabled: bool, *, now: datetime
    ) -> None:
        """Turn a topic on (no row) or off (a row)."""
        async with self.db.transaction() as tx:
            if enabled:
                await tx.execute(
                    "DELETE FROM notification_optouts WHERE talent_id = ? AND topic = ?",
                    (talent_id, topic),
                )
            else:
                await tx.execute(
                    "INSERT INTO notification_optouts (talent_id, topic, created_at)"
                    " VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    (talent_id, topic, utc_text(now)),
                )


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return {"$datetime": utc_text(value)}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    raise TypeError(f"cannot store {type(value).__name__} in reminder parameters")


def load_params(raw: str) -> dict[str, Any]:
    """Reminder parameters as stored, with dates and times restored."""

    def restore(value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            if "$datetime" in value:
                return datetime.fromisoformat(value["$datetime"])
            if "$date" in value:
                return date.fromisoformat(value["$date"])
        return value

    return {key: restore(value) for key, value in json.loads(raw).items()}
