"""A synthetic history of closed shipments, drawn from the published figures.

``generate_history`` yields ``ClosedShipment`` records, sorted by ``shipped_at``,
that ``headstart.history.jsonl.write_history`` writes as the JSON Lines of
DESIGN.md section 4. ``synthesize_history`` returns the same shipments together
with what only the generator knows (the ocean regime of each week, customs
exams, shortfalls), for summaries and tests.

How it is drawn, in order (every number in ``parameters.py``):

1. the world, week by week: the ocean regime chain and the volume surges
   (``conditions.py``);
2. the shipments: day, mode, lane, program, carrier, seller, units
   (``arrivals.py``);
3. transit to the FC with its milestones and the carrier's ETAs
   (``transit.py`` for parcel, LTL, FTL and air; ``ocean.py``);
4. receiving at the FC, which slows in peak and with the FC's backlog, and
   shortfalls (``receiving.py``).

What the records hold: every event type of DESIGN.md section 5 that a mode
passes, in time order; ``carrier_eta`` on an event is always the carrier's
estimate of *delivery at the FC* as of that event (none once delivered, and about
10% of events carry none); ``delivered_at`` is the ``delivered`` event;
``in_stock_at`` is when receiving completed. The generator's internals (regimes,
vessels, exams, sellers) are not in the records: a model must learn from what a
real history would show.

Everything is deterministic by ``seed``: each part draws from its own stream, so
the regimes and surges of a seed do not change with the number of shipments.
Instants are UTC, rounded to the minute.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from headstart.domain.estimate import MODES, ClosedShipment, HistoryEvent
from headstart.sim.history.arrivals import DAYS_PER_WEEK, draft_shipments
from headstart.sim.history.conditions import Season, draw_regimes, draw_surge, regime_weeks
from headstart.sim.history.draft import Draft
from headstart.sim.history.ocean import OceanTransit
from headstart.sim.history.parameters import DEFAULTS, GeneratorParameters
from headstart.sim.history.receiving import receive_bulk, short_ship_bulk
from headstart.sim.history.transit import AirTransit, DomesticTransit

# Ocean shipments sent on the last day close months later: the regime chain runs on.
_TAIL_WEEKS = 26
# Events whose whole point is the ETA keep it; any other may lack one.
_ETA_EVENTS = frozenset({"delayed", "eta_update"})
_MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class HistorySummary:
    """What a generated history holds, including what the JSONL does not show."""

    shipments: int
    by_mode: Mapping[str, int]
    shipped_in_peak: int
    shipped_in_peak_by_mode: Mapping[str, int]
    delivered_in_peak: int
    regime_weeks: Mapping[str, int]  # weeks of the history period in each ocean regime
    customs_exams: int
    short_shipments: int
    units_short: int


@dataclass(frozen=True)
class SyntheticHistory:
    """The drawn history: its summary, the weekly ocean regimes, and the shipments."""

    start: datetime
    seed: int
    weekly_regimes: tuple[str, ...]  # from ``start``, covering the period and its tail
    # (a, b) of receiving.py's log R = a + b x + noise, fitted per season to the figures
    receiving_fit: Mapping[str, tuple[float, float]]
    summary: HistorySummary
    _drafts: tuple[Draft, ...]
    # The ocean timetable (``OceanTransit.timetable``): sailing phase per route, and the
    # scheduled days of each vessel drawn; for the oracle, which resamples what is not past.
    sailing_phases: Mapping[tuple[str, bool, bool], float] = field(default_factory=dict)
    vessel_schedules: Mapping[tuple[str, bool, bool, int], float] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self._drafts)

    def drafts(self) -> tuple[Draft, ...]:
        """The shipments as drawn (times in days since ``start``, not rounded; ``hidden``)."""
        return self._drafts

    def shipments(self) -> Iterator[ClosedShipment]:
        """The closed shipments, sorted by ``shipped_at``; built as they are consumed."""
        for index, draft in enumerate(self._drafts):
            yield _closed(draft, self.start, f"SIM{self.seed}-{index + 1:06d}")


def synthesize_history(
    shipments: int,
    seed: int,
    start: datetime,
    parameters: GeneratorParameters = DEFAULTS,
) -> SyntheticHistory:
    """Draw ``shipments`` closed shipments sent over ``history.days`` days from ``start``."""
    if shipments < 0:
        raise ValueError("shipments cannot be negative")
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("start must be timezone-aware")
    start = start.astimezone(UTC)
    p = parameters
    days = int(p.value("history.days"))
    period_weeks = math.ceil(days / DAYS_PER_WEEK)
    weeks = period_weeks + _TAIL_WEEKS

    def stream(name: str) -> random.Random:
        return random.Random(f"headstart-history:{seed}:{name}")

    regimes = draw_regimes(p, stream("regimes"), weeks)
    surge_rng = stream("surges")
    network = draw_surge(p, surge_rng, weeks, "network")
    fc_surges = {fc: draw_surge(p, surge_rng, weeks, "fc") for fc in p.names("fc", "share")}
    drafts = draft_shipments(shipments, p, stream("shipments"), start, network, fc_surges)
    season = Season(p, start)
    rng = stream("legs")
    domestic, air = DomesticTransit(p), AirTransit(p)
    ocean = OceanTransit(p, stream("vessels"), regimes)
    for draft in drafts:
        if draft.mode == "ocean":
            ocean.plan(draft, rng)
        elif draft.mode == "air":
            air.plan(draft, rng)
        else:
            domestic.plan(draft, rng, season.is_peak(draft.shipped))
    fitted = receive_bulk(drafts, p, stream("receiving"), season)
    short_ship_bulk(drafts, p, stream("shortfalls"))
    _finish_events(drafts, p.value("eta.missing_share"), stream("eta"))
    phases, schedules = ocean.timetable()
    return SyntheticHistory(
        start=start,
        seed=seed,
        weekly_regimes=tuple(regimes),
        receiving_fit={"off_peak": fitted[False], "peak": fitted[True]},
        summary=_summarize(drafts, regimes[:period_weeks], season),
        _drafts=tuple(drafts),
        sailing_phases=phases,
        vessel_schedules=schedules,
    )


def generate_history(
    shipments: int,
    seed: int,
    start: datetime,
    parameters: GeneratorParameters = DEFAULTS,
) -> Iterator[ClosedShipment]:
    """``shipments`` closed shipments sorted by ``shipped_at``, deterministic by ``seed``."""
    yield from synthesize_history(shipments, seed, start, parameters).shipments()


def _finish_events(drafts: Sequence[Draft], missing_share: float, rng: random.Random) -> None:
    """Time order, and some ETAs the carrier never sent."""
    for d in drafts:
        d.events.sort(key=lambda event: event[1])
        d.events[:] = [
            (
                kind,
                at,
                None
                if eta is not None and kind not in _ETA_EVENTS and rng.random() < missing_share
                else eta,
            )
            for kind, at, eta in d.events
        ]


def _summarize(drafts: Sequence[Draft], period: Sequence[str], season: Season) -> HistorySummary:
    return HistorySummary(
        shipments=len(drafts),
        by_mode={mode: sum(1 for d in drafts if d.mode == mode) for mode in MODES},
        shipped_in_peak=sum(1 for d in drafts if season.is_peak(d.shipped)),
        shipped_in_peak_by_mode={
            mode: sum(1 for d in drafts if d.mode == mode and season.is_peak(d.shipped))
            for mode in MODES
        },
        delivered_in_peak=sum(1 for d in drafts if season.is_peak(d.delivered)),
        regime_weeks=regime_weeks(period),
        customs_exams=sum(1 for d in drafts if d.customs_exam),
        short_shipments=sum(1 for d in drafts if d.received < d.quantity),
        units_short=sum(d.quantity - d.received for d in drafts),
    )


def _closed(d: Draft, start: datetime, shipment_id: str) -> ClosedShipment:
    def at(day: float) -> datetime:
        return start + _MINUTE * round(day * 1440)

    return ClosedShipment(
        mode=d.mode,
        carrier_program=d.carrier_program,
        origin=d.origin,
        destination_fc=d.fc,
        shipped_at=at(d.shipped),
        delivered_at=at(d.delivered),
        in_stock_at=at(d.in_stock),
        quantity_shipped=d.quantity,
        quantity_received=d.received,
        shipment_id=shipment_id,
        carrier=d.carrier,
        created_at=at(d.created),
        events=tuple(
            HistoryEvent(kind, at(day), None if eta is None else at(eta))
            for kind, day, eta in d.events
        ),
    )
