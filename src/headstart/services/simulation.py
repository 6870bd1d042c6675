"""What the marketplace simulator needs beyond the API's use cases.

- ``set_clock``: move the sandbox clock without running the sweeps, as the clock of a
  live sandbox runs on between two scheduler ticks (the simulator sweeps once per
  simulated day with ``sandbox.move_clock``).
- ``install_estimator``: store an in-stock model fitted elsewhere (on an imported or
  generated history) as the one in use, as ``refit_model`` stores one fitted on the
  database's own closed shipments.
"""

from __future__ import annotations

from datetime import datetime

from headstart.domain.errors import InvalidRequest
from headstart.domain.estimate.calibrated import CalibratedEstimator
from headstart.store.tables import EstimatorModelRow, SettingRow
from headstart.store.uow import SANDBOX_CLOCK_KEY, UnitOfWork


def set_clock(uow: UnitOfWork, now: datetime, *, rate: float = 0.0) -> None:
    """Set the sandbox clock to ``now`` (never backwards); the sweeps are not run."""
    with uow:
        current = uow.now()
        row = uow.session.get(SettingRow, SANDBOX_CLOCK_KEY)
        if row is not None and now < current:
            raise InvalidRequest(
                "the clock never runs backwards",
                {"now": current.isoformat(), "requested": now.isoformat()},
            )
        value = {"now": now.isoformat(), "set_at": uow.real_now().isoformat(), "rate": rate}
        uow.session.merge(SettingRow(key=SANDBOX_CLOCK_KEY, value=value))
        uow.commit()


def install_estimator(uow: UnitOfWork, estimator: CalibratedEstimator, history_count: int) -> str:
    """Store ``estimator`` as the model in use; returns its version."""
    with uow:
        uow.session.add(
            EstimatorModelRow(
                version=estimator.version,
                fitted_at=uow.now(),
                history_count=history_count,
                outcomes_upto=0,
                body=estimator.to_dict(),
            )
        )
        uow.commit()
    return estimator.version
