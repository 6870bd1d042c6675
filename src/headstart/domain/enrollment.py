"""Seller-level enrollment and opt-out (R1).

Enrollment is a list of periods ``[start, end)``: a shipment participates when
its ``created_at`` falls in one. Opting out closes the open period 72 hours
after the confirmation, so shipments created before then keep participating.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from headstart.domain.errors import Conflict

OPT_OUT_NOTICE = timedelta(hours=72)  # R1


class EnrollmentState(StrEnum):
    NOT_ENROLLED = "not_enrolled"
    ENROLLED = "enrolled"
    OPT_OUT_REQUESTED = "opt_out_requested"
    OPTED_OUT = "opted_out"


@dataclass(frozen=True)
class EnrollmentPeriod:
    start: datetime
    end: datetime | None = None

    def covers(self, created_at: datetime) -> bool:
        return self.start <= created_at and (self.end is None or created_at < self.end)


@dataclass(frozen=True)
class Enrollment:
    periods: tuple[EnrollmentPeriod, ...] = ()
    opt_out_confirmed_at: datetime | None = None

    @property
    def enrolled_at(self) -> datetime | None:
        return self.periods[-1].start if self.periods else None

    @property
    def effective_for_shipments_created_from(self) -> datetime | None:
        """R1: shipments created at or after this instant do not participate."""
        if self.periods and self.periods[-1].end is not None:
            return self.periods[-1].end
        return None

    def state_at(self, now: datetime) -> EnrollmentState:
        if not self.periods:
            return EnrollmentState.NOT_ENROLLED
        end = self.periods[-1].end
        if end is None:
            return EnrollmentState.ENROLLED
        return EnrollmentState.OPT_OUT_REQUESTED if now < end else EnrollmentState.OPTED_OUT

    def covers(self, created_at: datetime) -> bool:
        """R1: does the seller's enrollment cover a shipment created at ``created_at``?"""
        return any(period.covers(created_at) for period in self.periods)

    def enroll(self, now: datetime) -> Enrollment:
        """Start (or restart) enrollment; covers shipments created from ``now`` on."""
        if self.state_at(now) is EnrollmentState.ENROLLED:
            raise Conflict("seller is already enrolled")
        return Enrollment(
            periods=(*self.periods, EnrollmentPeriod(start=now)), opt_out_confirmed_at=None
        )

    def opt_out(self, now: datetime) -> Enrollment:
        """Confirm an opt-out at once; it takes effect for shipments created 72 h later."""
        if self.state_at(now) is not EnrollmentState.ENROLLED:
            raise Conflict("only an enrolled seller can opt out", {"state": self.state_at(now)})
        last = replace(self.periods[-1], end=now + OPT_OUT_NOTICE)
        return Enrollment(periods=(*self.periods[:-1], last), opt_out_confirmed_at=now)

    def to_dict(self) -> dict[str, object]:
        return {
            "periods": [
                [p.start.isoformat(), p.end.isoformat() if p.end else None] for p in self.periods
            ],
            "opt_out_confirmed_at": (
                self.opt_out_confirmed_at.isoformat() if self.opt_out_confirmed_at else None
            ),
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Enrollment:
        raw_periods = data.get("periods") or []
        assert isinstance(raw_periods, list)
        periods = tuple(
            EnrollmentPeriod(
                start=datetime.fromisoformat(start),
                end=datetime.fromisoformat(end) if end else None,
            )
            for start, end in raw_periods
        )
        confirmed = data.get("opt_out_confirmed_at")
        return cls(
            periods=periods,
            opt_out_confirmed_at=datetime.fromisoformat(confirmed)
            if isinstance(confirmed, str)
            else None,
        )
