"""What the start of receiving says about its end (section 4, at the FC).

Once receiving has started, the time the receipt waited for it is known. History
shows what share of a receipt's whole time at the FC that wait takes (the dock and
the labour it waited for: a share, not a fixed time). So a receipt that waited ``w``
hours is likelier to take ``R`` in all the likelier a share ``w / R`` is. Draws of
``R`` made from the receiving pools (the load the receipt met, the time it has
already spent) are weighed by that likelihood, f(w / R) / R, and resampled: the
pools' own answer, narrowed by what the start adds. Without ``w``, or without a
history of starts, the draws stand as they are.
"""

from __future__ import annotations

import numpy as np

from headstart.domain.estimate.pools import Array

# Share pools: ``S|<mode>`` and ``S|all``, the wait for receiving over the time to in stock.
SHARE_ALL = "S|all"
_BINS = 20
# A share the history never showed is not impossible, only unlikely: this part of the
# density is spread evenly over (0, 1), so draws are never all weighed to nothing.
_FLOOR = 0.005


def share_key(mode: str) -> str:
    return f"S|{mode}"


def start_share(delivered: float, started: float, in_stock: float) -> float | None:
    """The wait's share of a closed receipt's time at the FC (epoch seconds), if it has one."""
    if not delivered <= started <= in_stock or in_stock <= delivered:
        return None
    return (started - delivered) / (in_stock - delivered)


def given_start(remaining: Array, spent: float, waited: float, shares: Array) -> Array:
    """``remaining`` (hours to in stock of a receipt ``spent`` hours at the FC) resampled by
    the likelihood of its wait of ``waited`` hours for receiving to start, under the
    history's ``shares``. The same number of draws, ascending."""
    if waited <= 0.0 or shares.size == 0 or remaining.size == 0:
        return remaining
    density, _ = np.histogram(shares, bins=_BINS, range=(0.0, 1.0), density=True)
    density = (1.0 - _FLOOR) * density + _FLOOR
    total = np.maximum(spent + remaining, 1e-9)
    share = waited / total
    inside = share < 1.0
    weights = np.where(
        inside, density[np.minimum((share * _BINS).astype(np.int64), _BINS - 1)] / total, 0.0
    )
    if not np.isfinite(weights).all() or weights.sum() <= 0.0:
        return remaining
    order = np.argsort(remaining, kind="stable")
    cumulative = np.cumsum(weights[order])
    levels = (np.arange(remaining.size) + 0.5) / remaining.size * cumulative[-1]
    picked = np.minimum(np.searchsorted(cumulative, levels), remaining.size - 1)
    out: Array = remaining[order][picked]
    return out
