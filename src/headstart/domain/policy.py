"""The operator's policy knobs, with the defaults DESIGN.md gives."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Policy:
    q: float = 0.97  # R4: quantile a lot's in-stock time is promised at
    q_low: float = 0.90  # R9: below this probability a promise is at risk (hysteresis)
    horizon_days: int = 21  # R4: H
    fallback_q: float = 0.99  # R4: the wider quantile used when history is thin
    default_shrink: Decimal = Decimal("0.05")  # R5
    shrink_prior_units: int = 200  # R5: weight of the default against observed shortfall
    max_slip_days: int = 14  # R10: past the first promise
    consent_slip_days: int = 30  # R9a: silence is consent only up to this first slip
    admit_own_carrier: bool = False  # R2a
    unvalidated_tracking_grace_hours: int = 24  # R2a
    min_on_time_rate: float = 0.90  # R4: suppression threshold
    on_time_window: int = 50  # R4: the last N head-start promises judged

    def __post_init__(self) -> None:
        if not 0.5 <= self.q_low <= self.q < 1:
            raise ValueError("policy needs 0.5 <= q_low <= q < 1")
        if not self.q <= self.fallback_q < 1:
            raise ValueError("policy needs q <= fallback_q < 1")
        if self.horizon_days < 1 or self.max_slip_days < 0 or self.consent_slip_days < 0:
            raise ValueError("horizon must be at least one day and slips non-negative")
        if not Decimal(0) <= self.default_shrink < Decimal(1):
            raise ValueError("default_shrink must be in [0, 1)")

    def to_dict(self) -> dict[str, object]:
        values = asdict(self)
        values["default_shrink"] = str(self.default_shrink)
        return values

    @classmethod
    def from_dict(cls, values: dict[str, object]) -> Policy:
        known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__}
        if "default_shrink" in known:
            known["default_shrink"] = Decimal(str(known["default_shrink"]))
        return cls(**known)  # type: ignore[arg-type]
