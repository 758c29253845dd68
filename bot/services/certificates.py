"""Service certificates (服务证明): a season of a talent's service, and checking a code."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from bot.clock import Clock
from bot.services.errors import InvalidInput
from bot.services.reports import Period, ReportService
from bot.services.rewards import new_code, normalise_code
from storage.models import Talent
from storage.reports import Certificate, ServiceLine

CERT_PREFIX = "cert-"
# 12 characters of the voucher alphabet: about 59 bits, and still easy to type from paper.
CERT_CODE_LENGTH = 12


@dataclass(frozen=True, slots=True)
class Issued:
    """A certificate as issued, with the activities it lists."""

    certificate: Certificate
    lines: list[ServiceLine]
    period: Period


class CertificateService:
    def __init__(self, *, reports: ReportService, clock: Clock) -> None:
        self.reports = reports
        self.clock = clock

    async def service(self, talent_id: int, period: Period) -> list[ServiceLine]:
        """A talent's check-ins in a period, with the hours that count."""
        start, end = period.bounds(self.reports.tz)
        return await self.reports.reports.service(talent_id, start=start, end=end)

    async def seasons(self, talent_id: int) -> list[Period]:
        """This season and the last, those in which the talent served, newest first."""
        this = self.reports.season()
        last = self.reports.season(this.first.replace(year=this.first.year - 1))
        return [season for season in (this, last) if await self.service(talent_id, season)]

    async def issue(self, talent: Talent, period: Period) -> Issued:
        """Issue a certificate of the talent's service in a season, with a fresh code."""
        lines = await self.service(talent.id, period)
        if not lines:
            raise InvalidInput("certificates.nothing")
        for _ in range(5):
            try:
                certificate = await self.reports.reports.issue(
                    code=new_code(CERT_CODE_LENGTH),
                    talent_id=talent.id,
                    station_id=talent.station_id,
                    period=(period.first, period.last),
                    activities=len(lines),
                    hours_centi=sum(line.hours_centi for line in lines),
                    now=self.clock.now(),
                )
                return Issued(certificate, lines, period)
            except sqlite3.IntegrityError as exc:
                # Two equal codes in 2^59 is rare, but a retry costs nothing.
                if "failed: certificates.code" not in str(exc):
                    raise
        raise RuntimeError("could not find a free certificate code")

    async def verify(self, typed: str) -> Certificate | None:
        """The certificate with this code (as scanned or typed), or None: not genuine."""
        code = normalise_code(typed, CERT_CODE_LENGTH)
        if code is None:
            return None
        return await self.reports.reports.certificate(code)
