"""Figures read from the database when ``GET /metrics`` is scraped (issue 8).

They describe shared state (the outbox, the estimates' outcomes), so any one process
answers them for all, and each query stays cheap: an indexed count of pending rows,
and the newest outcomes only, never a whole table.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from headstart.domain.estimate import InStockEstimate
from headstart.domain.estimate.errors import InvalidEstimateInput
from headstart.services.estimation import IN_STOCK
from headstart.services.policy import load_policy
from headstart.store.tables import CalibrationOutcomeRow, EstimateSnapshotRow, OutboxRow

# Recent enough to show a shift (peak season) within days, large enough to be stable.
COVERAGE_WINDOW = 1000


@dataclass(frozen=True)
class Coverage:
    """How often shipments came into stock by the quantile they were promised at (section 4).

    ``ratio`` is weighted like the online calibration (each shipment counts once over
    its snapshots) over the newest ``window`` outcomes; None before any outcome.
    """

    target: float  # the policy's q (R4)
    ratio: float | None
    outcomes_in_window: int
    outcomes_recorded: int  # shipments' in-stock outcomes, one per snapshot


def outbox_backlog(session: Session) -> dict[str, int]:
    """Pending notifications by kind (R15): what the outbox sender still has to send."""
    rows = session.execute(
        select(OutboxRow.kind, func.count())
        .where(OutboxRow.state == "pending")
        .group_by(OutboxRow.kind)
    )
    return {kind: int(count) for kind, count in rows}


def estimate_coverage(session: Session, window: int = COVERAGE_WINDOW) -> Coverage:
    policy = load_policy(session)
    rows = session.execute(
        select(
            CalibrationOutcomeRow.in_stock_at,
            CalibrationOutcomeRow.weight,
            EstimateSnapshotRow.estimate,
        )
        .join(EstimateSnapshotRow, EstimateSnapshotRow.id == CalibrationOutcomeRow.snapshot_id)
        .where(CalibrationOutcomeRow.kind == IN_STOCK)  # not the overdue ones told early
        .order_by(CalibrationOutcomeRow.id.desc())
        .limit(window)
    ).all()
    recorded = session.scalar(select(func.count()).where(CalibrationOutcomeRow.kind == IN_STOCK))
    covered = total = 0.0
    for in_stock_at, weight, stored in rows:
        try:
            estimate = InStockEstimate.from_dict(stored)
        except InvalidEstimateInput:
            continue  # made on another level grid: not comparable
        # The quantile its lot was promised at: q, or the wider one on thin history (R4).
        level = policy.q if estimate.basis == "history" else policy.fallback_q
        total += weight
        if in_stock_at <= estimate.quantile(level):
            covered += weight
    return Coverage(
        target=policy.q,
        ratio=covered / total if total > 0 else None,
        outcomes_in_window=len(rows),
        outcomes_recorded=int(recorded or 0),
    )
