"""Confirm buttons that act once: a press's key is spent inside the transaction that acts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.database import Database, Transaction, utc_text


class AlreadyDone(Exception):
    """This button was pressed before; nothing was done again (and nothing was changed)."""


@dataclass(frozen=True, slots=True)
class Press:
    """One press of a confirm button: the random key its data carried, what it does, who."""

    key: str
    action: str
    by: int


async def spend(tx: Transaction, press: Press | None, *, now: datetime) -> None:
    """Record ``press`` in ``tx``; raise ``AlreadyDone`` (rolling ``tx`` back) if it was spent.

    Called first in the transaction that acts, so the action and the spent key commit
    together: a press that fails half-way leaves its button usable, and two presses of one
    button act once however they interleave. None (a call not from a button) spends nothing.
    """
    if press is None:
        return
    added = await tx.execute_rowcount(
        "INSERT INTO button_presses (key, action, by_whom, created_at)"
        " VALUES (:key, :action, :by, :now) ON CONFLICT (key) DO NOTHING",
        {"key": press.key, "action": press.action, "by": press.by, "now": utc_text(now)},
    )
    if not added:
        raise AlreadyDone(press.action)


class PressRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def spent(self, key: str) -> bool:
        """Whether a button with this key has acted already."""
        return bool(
            await self.db.fetch_value("SELECT count(*) FROM button_presses WHERE key = ?", (key,))
        )
