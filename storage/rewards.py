"""Rewards and vouchers. Redeeming, using, cancelling and expiring are each one transaction."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from storage.database import Database, Transaction, utc_text
from storage.models import Reward, Voucher
from storage.points import balance_in
from storage.presses import Press, spend

REWARD_COLUMNS = frozenset(
    {"name_zh", "name_en", "description_zh", "description_en", "station_id", "cost", "stock",
     "per_talent_limit", "valid_days", "active"}
)  # fmt: skip
_VOUCHER = (
    "SELECT v.*, t.name AS talent_name, t.telegram_id, r.name_zh AS reward_zh,"
    " r.name_en AS reward_en FROM vouchers v JOIN talents t ON t.id = v.talent_id"
    " JOIN rewards r ON r.id = v.reward_id"
)


class RedeemOutcome(StrEnum):
    REDEEMED = "redeemed"
    NO_STOCK = "no_stock"
    TOO_FEW_POINTS = "too_few_points"
    LIMIT = "limit"
    RETIRED = "retired"


class UseOutcome(StrEnum):
    USED = "used"
    ALREADY_USED = "already_used"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class RewardRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, values: dict[str, Any], *, by: int, now: datetime) -> Reward:
        """Put a reward in the catalog."""
        unknown = set(values) - REWARD_COLUMNS
        if unknown:
            raise ValueError(f"not reward columns: {sorted(unknown)}")
        columns = ", ".join(values)
        names = ", ".join(f":{key}" for key in values)
        reward_id = await self.db.execute(
            f"INSERT INTO rewards ({columns}, created_by, created_at) VALUES ({names}, :by, :now)",
            {**values, "by": by, "now": utc_text(now)},
        )
        reward = await self.get(reward_id)
        assert reward is not None
        return reward

    async def update(
        self, reward_id: int, changes: dict[str, Any], *, by: int, now: datetime
    ) -> Reward | None:
        """Change some fields of a reward."""
        unknown = set(changes) - REWARD_COLUMNS
        if unknown:
            raise ValueError(f"not reward columns: {sorted(unknown)}")
        assignments = ", ".join(f"{key} = :{key}" for key in changes)
        await self.db.execute(
            f"UPDATE rewards SET {assignments}, updated_by = :by, updated_at = :now"
            " WHERE id = :id",
            {**changes, "by": by, "now": utc_text(now), "id": reward_id},
        )
        return await self.get(reward_id)

    async def get(self, reward_id: int) -> Reward | None:
        """One reward, retired or not."""
        row = await self.db.fetch_one("SELECT * FROM rewards WHERE id = ?", (reward_id,))
        return None if row is None else Reward(**dict(row))

    async def catalog(self, *, active_only: bool) -> list[Reward]:
        """The rewards, cheapest first."""
        rows = await self.db.fetch_all(
            "SELECT * FROM rewards WHERE (:all OR active = 1) ORDER BY active DESC, cost, id",
            {"all": int(not active_only)},
        )
        return [Reward(**dict(row)) for row in rows]

    async def redeem(
        self,
        reward_id: int,
        talent_id: int,
        *,
        code: str,
        now: datetime,
        press: Press | None = None,
    ) -> tuple[RedeemOutcome, Voucher | None, int]:
        """Pay, take one from stock and issue a voucher, all or nothing; returns the balance."""
        async with self.db.transaction() as tx:
            await spend(tx, press, now=now)
            reward = await tx.fetch_one("SELECT * FROM rewards WHERE id = ?", (reward_id,))
            balance = await balance_in(tx, talent_id)
            if reward is None or not reward["active"]:
                return RedeemOutcome.RETIRED, None, balance
            if reward["stock"] <= 0:
                return RedeemOutcome.NO_STOCK, None, balance
            if balance < reward["cost"]:
                return RedeemOutcome.TOO_FEW_POINTS, None, balance
            if reward["per_talent_limit"]:
                held = await tx.fetch_one(
                    "SELECT count(*) FROM vouchers WHERE reward_id = ? AND talent_id = ?"
                    " AND status IN ('valid', 'used')",
                    (reward_id, talent_id),
                )
                if held[0] >= reward["per_talent_limit"]:
                    return RedeemOutcome.LIMIT, None, balance
            await tx.execute(
                "UPDATE rewards SET stock = stock - 1 WHERE id = ? AND stock > 0", (reward_id,)
            )
            voucher_id = await tx.execute(
                "INSERT INTO vouchers (reward_id, talent_id, code, cost, created_at, valid_until)"
                " VALUES (:reward, :talent, :code, :cost, :now, :until)",
                {
                    "reward": reward_id,
                    "talent": talent_id,
                    "code": code,
                    "cost": reward["cost"],
                    "now": utc_text(now),
                    "until": utc_text(now + timedelta(days=reward["valid_days"])),
                },
            )
            await tx.execute(
                "INSERT INTO ledger (talent_id, delta, kind, reason, ref, by_whom, created_at,"
                " idempotency_key) VALUES (?, ?, 'redeem', NULL, ?, NULL, ?, ?)",
                (talent_id, -reward["cost"], f"voucher:{voucher_id}", utc_text(now),
                 f"redeem:{code}"),
            )  # fmt: skip
            balance = await balance_in(tx, talent_id)
        voucher = await self.voucher(code)
        return RedeemOutcome.REDEEMED, voucher, balance

    async def voucher(self, code: str) -> Voucher | None:
        """A voucher by its code."""
        row = await self.db.fetch_one(f"{_VOUCHER} WHERE v.code = ?", (code,))
        return None if row is None else Voucher(**dict(row))

    async def voucher_by_id(self, voucher_id: int) -> Voucher | None:
        """A voucher by its id."""
        row = await self.db.fetch_one(f"{_VOUCHER} WHERE v.id = ?", (voucher_id,))
        return None if row is None else Voucher(**dict(row))

    async def vouchers_of(self, talent_id: int) -> list[Voucher]:
        """A talent's vouchers, newest first."""
        rows = await self.db.fetch_all(
            f"{_VOUCHER} WHERE v.talent_id = ? ORDER BY v.id DESC", (talent_id,)
        )
        return [Voucher(**dict(row)) for row in rows]

    async def use(
        self, code: str, *, by: int, now: datetime, press: Press | None = None
    ) -> UseOutcome:
        """Mark a valid voucher used, once."""
        async with self.db.transaction() as tx:
            await spend(tx, press, now=now)
            changed = await tx.execute_rowcount(
                "UPDATE vouchers SET status = 'used', used_at = :now, used_by = :by"
                " WHERE code = :code AND status = 'valid' AND valid_until > :now",
                {"code": code, "by": by, "now": utc_text(now)},
            )
            if changed:
                return UseOutcome.USED
            row = await tx.fetch_one(
                "SELECT status, valid_until FROM vouchers WHERE code = ?", (code,)
            )
        status = row["status"] if row else "cancelled"
        if status == "used":
            return UseOutcome.ALREADY_USED
        if status == "cancelled":
            return UseOutcome.CANCELLED
        return UseOutcome.EXPIRED

    async def close(
        self,
        voucher_id: int,
        status: str,
        *,
        by: int | None,
        now: datetime,
        press: Press | None = None,
    ) -> bool:
        """Cancel or expire a valid voucher: refund and return the stock, exactly once."""
        async with self.db.transaction() as tx:
            await spend(tx, press, now=now)
            return await _close(tx, voucher_id, status, by=by, now=now)

    async def expire_due(self, *, now: datetime) -> list[Voucher]:
        """Expire every valid voucher past its date; return them, expired."""
        async with self.db.transaction() as tx:
            rows = await tx.fetch_all(
                "SELECT id FROM vouchers WHERE status = 'valid' AND valid_until <= ?",
                (utc_text(now),),
            )
            expired = []
            for row in rows:
                if await _close(tx, row[0], "expired", by=None, now=now):
                    expired.append(row[0])
        if not expired:
            return []
        found = await self.db.fetch_all(
            f"{_VOUCHER} WHERE v.id IN (SELECT value FROM json_each(?)) ORDER BY v.id",
            (json.dumps(expired),),
        )
        return [Voucher(**dict(row)) for row in found]

    async def used_in(self, station_id: int, *, start: datetime, end: datetime) -> list[dict]:
        """Vouchers of a partner's rewards used in [start, end), for settlement."""
        rows = await self.db.fetch_all(
            "SELECT v.code, v.used_at, v.cost, r.name_zh, r.name_en, t.name AS talent"
            " FROM vouchers v JOIN rewards r ON r.id = v.reward_id"
            " JOIN talents t ON t.id = v.talent_id"
            " WHERE r.station_id = :station AND v.status = 'used'"
            " AND v.used_at >= :start AND v.used_at < :end ORDER BY v.used_at, v.id",
            {"station": station_id, "start": utc_text(start), "end": utc_text(end)},
        )
        return [{**row, "used_at": datetime.fromisoformat(row["used_at"])} for row in rows]


async def _close(
    tx: Transaction, voucher_id: int, status: str, *, by: int | None, now: datetime
) -> bool:
    changed = await tx.execute_rowcount(
        "UPDATE vouchers SET status = :status, closed_at = :now, closed_by = :by"
        " WHERE id = :id AND status = 'valid'",
        {"status": status, "now": utc_text(now), "by": by, "id": voucher_id},
    )
    if not changed:
        return False
    voucher = await tx.fetch_one(
        "SELECT reward_id, talent_id, cost, code FROM vouchers WHERE id = ?", (voucher_id,)
    )
    await tx.execute("UPDATE rewards SET stock = stock + 1 WHERE id = ?", (voucher["reward_id"],))
    await tx.execute(
        "INSERT INTO ledger (talent_id, delta, kind, reason, ref, by_whom, created_at,"
        " idempotency_key) VALUES (?, ?, 'refund', ?, ?, ?, ?, ?)"
        " ON CONFLICT (idempotency_key) DO NOTHING",
        (voucher["talent_id"], voucher["cost"], status, f"voucher:{voucher_id}", by,
         utc_text(now), f"refund:{voucher['code']}"),
    )  # fmt: skip
    return True
