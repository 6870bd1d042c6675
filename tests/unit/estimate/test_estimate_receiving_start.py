"""What the start of receiving says about its end: the wait's share of the time at the FC."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from headstart.domain.estimate import HistoryEvent
from headstart.domain.estimate.milestone_codec import milestone_from_dict, milestone_to_dict
from headstart.domain.estimate.milestone_fit import fit_milestone_model
from headstart.domain.estimate.receiving_start import given_start, start_share
from headstart.domain.estimate.stages import progress_at
from tests.unit.estimate.history_builders import DAY, parcel_history

# Receipts that waited 30-80% of their time at the FC for receiving to start.
SHARES = np.random.default_rng(1).uniform(0.3, 0.8, 2000)
# Hours to in stock beyond 10 already spent, as the receiving pools might draw them.
REMAINING = np.sort(np.exp(np.log(15.0) + 0.6 * np.random.default_rng(2).standard_normal(1000)))


def test_a_closed_receipt_s_wait_is_a_share_of_its_time_at_the_fc() -> None:
    assert start_share(0.0, 30.0, 100.0) == pytest.approx(0.3)
    assert start_share(0.0, 120.0, 100.0) is None  # started after it was in stock
    assert start_share(50.0, 50.0, 50.0) is None  # no time at the FC


def test_a_long_wait_for_receiving_to_start_means_a_long_receipt() -> None:
    # Ten hours after delivery, one receipt waited 9 h for receiving to start, another 6 h
    slow = given_start(REMAINING, spent=10.0, waited=9.0, shares=SHARES)
    quick = given_start(REMAINING, spent=10.0, waited=6.0, shares=SHARES)

    # Then the 9 h wait says 11-30 h in all (a share of 0.3-0.8): 1-20 h left
    assert np.quantile(slow, 0.03) >= 1.0 and np.quantile(slow, 0.97) <= 21.0
    # and the 6 h wait at most 20 h in all: at most 10 h left
    assert np.quantile(quick, 0.97) <= 10.5
    assert np.median(quick) < np.median(slow)


def test_a_wait_no_share_explains_leaves_the_pools_answer_little_changed() -> None:
    # A 2 h wait ten hours ago would be a share under 0.2, which the history never showed
    odd = given_start(REMAINING, spent=10.0, waited=2.0, shares=SHARES)

    assert np.quantile(odd, 0.97) > 0.5 * np.quantile(REMAINING, 0.97)


def test_without_a_wait_or_a_history_of_starts_the_draws_stand() -> None:
    assert given_start(REMAINING, 10.0, 0.0, SHARES) is REMAINING
    assert given_start(REMAINING, 10.0, 5.0, np.zeros(0)) is REMAINING


@given(
    spent=st.floats(0.0, 500.0),
    waited=st.floats(0.0, 500.0),
    scale=st.floats(0.01, 1000.0),
)
def test_resampling_keeps_the_count_and_draws_only_what_the_pools_drew(
    spent: float, waited: float, scale: float
) -> None:
    draws = REMAINING * scale
    out = given_start(draws, spent, waited, SHARES)

    assert out.size == draws.size
    assert np.isin(out, draws).all()


def _with_starts(share: float):  # type: ignore[no-untyped-def]
    """The parcel history with receiving starting ``share`` of the way to in stock."""
    out = []
    for s in parcel_history(200):
        assert s.delivered_at is not None
        start = s.delivered_at + (s.in_stock_at - s.delivered_at) * share
        events = (*s.events, HistoryEvent("receiving_started", start))
        out.append(replace(s, events=events))
    return out


def test_r9_a_receiving_start_narrows_the_estimate_by_the_share_its_history_waited() -> None:
    # Given a history where receiving always started halfway to in stock
    history = _with_starts(0.5)
    model = fit_milestone_model(history)
    new = history[150]
    assert new.delivered_at is not None
    start = next(e.occurred_at for e in new.events if e.type == "receiving_started")
    at = start + timedelta(minutes=1)

    estimate = model.estimate(progress_at(new, at), at)

    # Then the receipt ends about as long after the start as it waited for it
    waited = (start - new.delivered_at) / DAY
    left = [(t - at) / DAY for t in (estimate.p50, estimate.p97)]
    assert waited * 0.8 <= left[0] and left[1] <= waited * 1.25 + 0.1
    # and the shares are stored with the model, so the stored model answers the same
    stored = milestone_from_dict(json.loads(json.dumps(milestone_to_dict(model))))
    assert stored.estimate(progress_at(new, at), at).hours == estimate.hours
