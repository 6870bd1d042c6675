"""The estimate a promise rests on: a distribution of in-stock time, not a point (section 4).

It is stored as remaining hours after ``computed_at`` at fixed probability
levels, so any quantile (R4, R7: the q-quantile; R9: probability by a promised
date) is answered by interpolation without the model that produced it, and the
record kept beside every promise (R17) is small and JSON-safe.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from headstart.domain.estimate.errors import InvalidEstimateInput
from headstart.domain.estimate.instants import after_hours, hours_between, to_utc

# 1%..99% in steps of 1%, then the far tail: a 97% promise needs resolution up there.
LEVELS: tuple[float, ...] = (*(i / 100 for i in range(1, 100)), 0.995, 0.999)
BASES: tuple[str, ...] = ("history", "prior")

_T = TypeVar("_T")


@dataclass(frozen=True)
class InStockEstimate:
    """Remaining hours until in stock, after ``computed_at``, at each of ``LEVELS``."""

    computed_at: datetime
    model_version: str
    basis: str
    history_count: int
    hours: tuple[float, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "computed_at", to_utc("computed_at", self.computed_at))
        object.__setattr__(self, "hours", tuple(float(h) for h in self.hours))
        if self.basis not in BASES:
            raise InvalidEstimateInput(f"basis must be one of {BASES}, not {self.basis!r}")
        if self.history_count < 0:
            raise InvalidEstimateInput("history_count cannot be negative")
        if len(self.hours) != len(LEVELS):
            raise InvalidEstimateInput(f"hours needs {len(LEVELS)} values, one per level")
        if not all(math.isfinite(h) and h >= 0.0 for h in self.hours):
            raise InvalidEstimateInput("hours must be finite and non-negative")
        if any(b < a for a, b in zip(self.hours, self.hours[1:], strict=False)):
            raise InvalidEstimateInput("hours must not decrease as the level rises")

    def quantile(self, p: float) -> datetime:
        """The instant by which the shipment is in stock with probability ``p``.

        Linear between grid levels; below 1% and above 99.9% the end values hold,
        because nothing in the model speaks for extrapolating its tails.
        """
        if not 0.0 < p < 1.0:
            raise InvalidEstimateInput(f"p must lie strictly between 0 and 1, not {p}")
        return after_hours(self.computed_at, self._hours_at(p))

    def _hours_at(self, p: float) -> float:
        i = bisect_left(LEVELS, p)
        if i == 0:
            return self.hours[0]
        if i == len(LEVELS):
            return self.hours[-1]
        lo, hi = LEVELS[i - 1], LEVELS[i]
        h_lo, h_hi = self.hours[i - 1], self.hours[i]
        return h_lo + (h_hi - h_lo) * (p - lo) / (hi - lo)

    def probability_in_stock_by(self, t: datetime) -> float:
        """Probability of being in stock by ``t`` (R9: at risk when below q_low).

        The inverse of ``quantile``: piecewise linear through the grid, from 0 at
        ``computed_at`` up to the first level, and 1 beyond the last. A time before
        ``computed_at`` gets 0; ``computed_at`` itself gets the mass the grid puts
        at zero hours (only when ``hours[0] == 0``).
        """
        h = hours_between(self.computed_at, to_utc("t", t))
        if h < 0.0:
            return 0.0
        i = bisect_right(self.hours, h)  # grid points with hours <= h
        if i == 0:
            # 0 <= h < hours[0]: ramp from certainty of "not yet" at computed_at.
            return LEVELS[0] * h / self.hours[0]
        if i == len(self.hours):
            return LEVELS[-1] if h == self.hours[-1] else 1.0
        h_lo, h_hi = self.hours[i - 1], self.hours[i]  # h_lo <= h < h_hi
        lo, hi = LEVELS[i - 1], LEVELS[i]
        return min(1.0, max(0.0, lo + (hi - lo) * (h - h_lo) / (h_hi - h_lo)))

    @property
    def p50(self) -> datetime:
        return self.quantile(0.50)

    @property
    def p90(self) -> datetime:
        return self.quantile(0.90)

    @property
    def p97(self) -> datetime:
        """The default promise quantile (R4: q = 0.97)."""
        return self.quantile(0.97)

    @property
    def p99(self) -> datetime:
        return self.quantile(0.99)

    def to_dict(self) -> dict[str, object]:
        """A JSON-safe record (ISO 8601 with offset) kept beside promises (R17)."""
        return {
            "computed_at": self.computed_at.isoformat(),
            "model_version": self.model_version,
            "basis": self.basis,
            "history_count": self.history_count,
            "levels": list(LEVELS),
            "hours": list(self.hours),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, object]) -> InStockEstimate:
        """Rebuild a stored estimate; refuses one made on a different level grid."""
        try:
            computed_at = datetime.fromisoformat(_typed(d, "computed_at", str))
            levels = d.get("levels", list(LEVELS))
            if not isinstance(levels, list) or tuple(float(v) for v in levels) != LEVELS:
                raise InvalidEstimateInput("stored estimate uses a different level grid")
            hours = _typed(d, "hours", list)
            return cls(
                computed_at=computed_at,
                model_version=_typed(d, "model_version", str),
                basis=_typed(d, "basis", str),
                history_count=_typed(d, "history_count", int),
                hours=tuple(float(h) for h in hours),
            )
        except (TypeError, ValueError) as error:
            if isinstance(error, InvalidEstimateInput):
                raise
            raise InvalidEstimateInput(f"malformed stored estimate: {error}") from error


def _typed(d: Mapping[str, object], key: str, kind: type[_T]) -> _T:
    value = d.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InvalidEstimateInput(f"{key} must be a {kind.__name__}", {"field": key})
    return value
