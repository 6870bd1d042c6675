"""Fulfillment centers and their operating calendars (R7).

Instants stay in UTC; a date only exists in an FC's own time zone, so every
conversion from an instant to a date goes through ``FulfillmentCenter.local_date``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = frozenset(range(5))  # Monday..Friday
# The instants Head Start accepts from callers. Promises and estimates add days and
# hours to them; at year 1 or 9999 that overflows Python's datetime (a 5xx), and
# nothing real happens before the Unix epoch or after 2200.
EARLIEST_INSTANT = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_INSTANT = datetime(2200, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class FulfillmentCenter:
    code: str
    time_zone: str
    region: str
    handling_days: int
    cutoff_local_time: time
    holidays: frozenset[date] = frozenset()
    outbound_transit_days: dict[str, int] = field(default_factory=dict)
    operating_weekdays: frozenset[int] = WEEKDAYS

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def local_date(self, instant: datetime) -> date:
        """The calendar date at the FC when ``instant`` happens."""
        return instant.astimezone(self.zone).date()

    def end_of_local_day(self, day: date) -> datetime:
        """The first instant after ``day`` ends at the FC (DST-safe)."""
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.zone)

    def is_operating_day(self, day: date) -> bool:
        return day.weekday() in self.operating_weekdays and day not in self.holidays

    def next_operating_day(self, day: date) -> date:
        """The first operating day on or after ``day``."""
        for offset in range(366):
            candidate = day + timedelta(days=offset)
            if self.is_operating_day(candidate):
                return candidate
        raise ValueError(f"FC {self.code} has no operating day within a year of {day}")

    def serves(self, region: str) -> bool:
        return region in self.outbound_transit_days

    def is_before_cutoff(self, instant: datetime) -> bool:
        local = instant.astimezone(self.zone)
        return local.time() < self.cutoff_local_time
