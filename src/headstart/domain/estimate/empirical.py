"""The core release's in-stock time model: published prior, shrunk toward observed history.

Per (mode, season) group the model holds one weighted sample of durations:
``prior_samples`` draws from the published figures carrying ``prior_weight``
pseudo-observations in total, plus every closed shipment of that mode shipped in
the same season at weight one. With n shipments the history thus carries
n / (n + prior_weight) of the mass: hierarchical shrinkage, not a cliff
(section 4). Season is part of the group because peak receiving is several
times slower (PARAMETERS.md); off-peak history must not talk a December
shipment into an off-peak promise. Lane, carrier program and milestones other
than delivery are left to the milestone model that replaces this one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from headstart.domain.estimate.distribution import LEVELS, InStockEstimate
from headstart.domain.estimate.errors import InvalidEstimateInput
from headstart.domain.estimate.groups import Observation, fit_group
from headstart.domain.estimate.instants import hours_between, to_utc
from headstart.domain.estimate.prior import PRIOR_VERSION, is_peak
from headstart.domain.estimate.progress import MODES, ClosedShipment, ShipmentProgress

_DEFAULTS: dict[str, object] = {
    "seed": 0,
    "prior_samples": 4000,
    "min_history": 30,
    "prior_weight": 200,
    "unvalidated_widening": 1.25,
    "unvalidated_grace_hours": 24.0,
}


class EmpiricalEstimator:
    """Implements ``InStockEstimator``; fitted once at construction, then read-only.

    The carrier's ETA is used only as a lower bound on the remaining transit:
    carriers' ETAs run early, so an ETA can push an estimate later but never
    pull it earlier. At each level the remaining time is at least the time to
    the ETA plus that level's receiving time (a bound the true quantile of
    "transit no sooner than the ETA" always meets).
    """

    def __init__(
        self,
        history: Sequence[ClosedShipment] = (),
        *,
        seed: int = 0,
        prior_samples: int = 4000,
        min_history: int = 30,
        prior_weight: int = 200,
        unvalidated_widening: float = 1.25,
        unvalidated_grace: timedelta = timedelta(hours=24),
    ) -> None:
        if prior_samples < 1 or prior_weight <= 0 or min_history < 0:
            raise InvalidEstimateInput(
                "prior_samples and prior_weight must be positive, min_history non-negative"
            )
        if unvalidated_widening < 1.0:
            raise InvalidEstimateInput("unvalidated_widening cannot narrow an estimate")
        self._min_history = min_history
        self._widening = unvalidated_widening
        self._grace_hours = unvalidated_grace.total_seconds() / 3600.0
        observations = [Observation.of(shipment) for shipment in history]
        self._groups = {
            (mode, peak): fit_group(
                seed,
                mode,
                peak,
                prior_samples,
                prior_weight,
                [o for o in observations if o.mode == mode and o.peak == peak],
            )
            for mode in MODES
            for peak in (False, True)
        }
        settings: dict[str, object] = {
            "seed": seed,
            "prior_samples": prior_samples,
            "min_history": min_history,
            "prior_weight": prior_weight,
            "unvalidated_widening": unvalidated_widening,
            "unvalidated_grace_hours": self._grace_hours,
        }
        self._version = _version(observations, settings)

    @property
    def version(self) -> str:
        """``prior-1`` for the bare prior, else ``prior-1+history-<n>-<digest>``.

        The digest covers every observed duration and every setting, in an
        order-independent way, so the version changes exactly when the fit does.
        """
        return self._version

    def estimate(self, progress: ShipmentProgress, now: datetime) -> InStockEstimate:
        """Remaining in-stock time, conditioned on the time already spent (section 4).

        Delivered (or checked in): the receiving time still to come, given the
        time since delivery. Otherwise: transit plus receiving, given the time
        since shipping, bounded below by the carrier's ETA. A shipment not yet
        shipped waits until ``shipped_at`` first. Season follows ``shipped_at``.
        """
        now = to_utc("now", now)
        group = self._groups[(progress.mode, is_peak(progress.shipped_at))]
        arrived = progress.arrived_at
        start = arrived if arrived is not None else progress.shipped_at
        wait = max(0.0, hours_between(now, start))
        if arrived is not None:
            hours = group.receiving.remaining(hours_between(arrived, now), LEVELS)
        else:
            hours = group.total.remaining(hours_between(progress.shipped_at, now), LEVELS)
            if progress.carrier_eta is not None and progress.carrier_eta > now:
                to_eta = hours_between(now, progress.carrier_eta)
                hours = tuple(
                    max(h, to_eta + r) for h, r in zip(hours, group.receiving_grid, strict=True)
                )
        factor = 1.0
        unvalidated_for = hours_between(progress.shipped_at, now)
        if not progress.tracking_validated and unvalidated_for >= self._grace_hours:
            # R2a: ids still unvalidated a day after shipping lower the confidence.
            factor = self._widening
        count = group.history_count
        return InStockEstimate(
            computed_at=now,
            model_version=self._version,
            basis="history" if count >= self._min_history and count > 0 else "prior",
            history_count=count,
            hours=tuple(wait + h * factor for h in hours),
        )


def _version(observations: Sequence[Observation], settings: dict[str, object]) -> str:
    if not observations and settings == _DEFAULTS:
        return PRIOR_VERSION
    lines = sorted(
        f"{o.mode}|{o.peak}|{o.transit_hours!r}|{o.receiving_hours!r}" for o in observations
    )
    lines += [f"{key}={value!r}" for key, value in sorted(settings.items())]
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()[:8]
    return f"{PRIOR_VERSION}+history-{len(observations)}-{digest}"
