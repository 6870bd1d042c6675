"""The per-process offer cache (issue 8): kept between changes, never past its time."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from headstart.services.offer_cache import MAX_AGE, ON_THE_FLY_AGE, OfferCache, valid_until
from tests.unit.domain.builders import (
    MON,
    POLICY,
    estimate_between,
    fc_los_angeles,
    fc_new_york,
    local,
    lot,
    utc,
)

LAX = fc_los_angeles(cutoff_local_time=time(14, 0))
NOW = local(LAX, MON, time(9, 0))  # Monday 09:00 in Los Angeles, 12:00 in New York
LATER = NOW + timedelta(seconds=10)
KEY = ("SKU-1", "us-west", 1)
OTHER = ("SKU-2", "us-west", 1)


class FakeFeed:
    """Caught up unless told it lost its connection."""

    def __init__(self) -> None:
        self.connected = True
        self.closed = False

    def start(self) -> None:
        pass

    def catch_up(self) -> bool:
        return self.connected

    def close(self) -> None:
        self.closed = True


def view(sku: str = "SKU-1", available: int = 38) -> dict[str, Any]:
    return {"sku": sku, "available_quantity": available, "reasons": []}


def cache_with_feed() -> tuple[OfferCache, FakeFeed]:
    cache, feed = OfferCache(), FakeFeed()
    cache.attach(feed)
    return cache, feed


def kept(cache: OfferCache, key: tuple[str, str | None, int] = KEY, sku: str = "SKU-1") -> None:
    stamp = cache.catch_up()
    assert stamp is not None
    cache.keep_offer(stamp, key, view(sku), NOW, NOW + MAX_AGE)


def test_an_offer_kept_is_answered_until_something_changes() -> None:
    cache, _ = cache_with_feed()
    kept(cache)

    assert cache.catch_up() is not None
    assert cache.offer(KEY, LATER) == view()


def test_an_answer_is_a_copy_the_caller_may_change() -> None:
    cache, _ = cache_with_feed()
    kept(cache)

    cache.offer(KEY, LATER)["reasons"].append("changed by the caller")  # type: ignore[index]

    assert cache.offer(KEY, LATER) == view()


def test_a_change_to_the_sku_forgets_its_offers_only() -> None:
    cache, _ = cache_with_feed()
    kept(cache)
    kept(cache, OTHER, "SKU-2")

    cache.skus_changed(["SKU-1"])

    assert cache.offer(KEY, LATER) is None
    assert cache.offer(OTHER, LATER) == view("SKU-2")


def test_a_change_to_everything_forgets_every_offer_and_the_policy() -> None:
    cache, _ = cache_with_feed()
    kept(cache)
    stamp = cache.catch_up()
    assert stamp is not None
    cache.keep_inputs(stamp, POLICY, {"LAX1": LAX})

    cache.everything_changed()

    assert cache.offer(KEY, LATER) is None
    assert cache.inputs() is None


def test_an_offer_computed_while_its_sku_changed_is_not_kept() -> None:
    # given a request that caught up, then a commit heard before its answer is kept
    cache, _ = cache_with_feed()
    stamp = cache.catch_up()
    assert stamp is not None
    cache.skus_changed(["SKU-1"])

    # when the answer (read in a snapshot that may predate the commit) is kept
    cache.keep_offer(stamp, KEY, view(), NOW, NOW + MAX_AGE)

    # then it is not: the next request reads the database
    assert cache.offer(KEY, LATER) is None


def test_nothing_is_kept_or_answered_while_the_feed_cannot_catch_up() -> None:
    cache, feed = cache_with_feed()
    feed.connected = False

    assert cache.catch_up() is None


def test_without_a_feed_nothing_is_kept() -> None:
    assert OfferCache().catch_up() is None


def test_an_offer_is_not_answered_past_its_time_nor_before_it_was_computed() -> None:
    cache, _ = cache_with_feed()
    stamp = cache.catch_up()
    assert stamp is not None
    cache.keep_offer(stamp, KEY, view(), NOW, NOW + timedelta(minutes=1))

    assert cache.offer(KEY, NOW + timedelta(minutes=1)) is None
    assert cache.offer(KEY, NOW - timedelta(seconds=1)) is None  # a sandbox clock set back
    assert cache.offer(KEY, NOW + timedelta(seconds=59)) == view()


def test_close_closes_the_feed() -> None:
    cache, feed = cache_with_feed()

    cache.close()

    assert feed.closed
    assert cache.catch_up() is None


# ---------------------------------------------------------------- valid_until


def test_an_offer_lasts_at_most_max_age() -> None:
    assert valid_until(NOW, [LAX], [], POLICY) == NOW + MAX_AGE


def test_offers_kept_together_are_spread_over_up_to_twice_max_age() -> None:
    untils = {valid_until(NOW, [LAX], [], POLICY, sku=f"SKU-{n}") for n in range(100)}

    assert len(untils) == 100
    assert all(NOW + MAX_AGE <= until < NOW + 2 * MAX_AGE for until in untils)


def test_an_offer_ends_at_the_fcs_cutoff() -> None:
    # R7: shipping today ends at 14:00 in Los Angeles
    before_cutoff = local(LAX, MON, time(13, 59, 30))

    assert valid_until(before_cutoff, [LAX], [], POLICY) == local(LAX, MON, time(14, 0))


def test_an_offer_ends_at_the_fcs_local_midnight() -> None:
    # after the cut-off, "today" at the FC still ends at its midnight (R7)
    late = local(LAX, MON, time(23, 59, 50))

    assert valid_until(late, [LAX], [], POLICY) == local(LAX, MON + timedelta(days=1), time(0))


def test_an_offer_ends_at_the_earliest_boundary_of_any_fc() -> None:
    new_york = fc_new_york(cutoff_local_time=time(14, 0))
    at = local(new_york, MON, time(13, 59, 45))  # 10:59:45 in Los Angeles

    assert valid_until(at, [LAX, new_york], [], POLICY) == local(new_york, MON, time(14, 0))


def test_an_offer_ends_when_a_lot_comes_within_the_horizon() -> None:
    # R4: a lot 97% sure in stock 21 days and 20 seconds from now starts to count in 20 s
    horizon = timedelta(days=POLICY.horizon_days)
    hours = (horizon + timedelta(seconds=20)) / timedelta(hours=1)
    estimate = estimate_between(NOW - timedelta(hours=1), hours + 1, hours + 1)  # a point
    far = lot(LAX, estimate, 10, NOW)
    assert not far.counted

    assert valid_until(NOW, [LAX], [far], POLICY) == NOW + timedelta(seconds=20)


def test_an_offer_resting_on_an_estimate_made_now_lasts_a_moment() -> None:
    fresh = lot(LAX, estimate_between(NOW, 24, 48), 10, NOW)

    assert valid_until(NOW, [LAX], [fresh], POLICY) == NOW + ON_THE_FLY_AGE


def test_valid_until_reads_instants_in_utc_too() -> None:
    at = datetime(2025, 6, 2, 20, 59, 30, tzinfo=UTC)  # 13:59:30 in Los Angeles

    assert valid_until(at, [LAX], [], POLICY) == utc(2025, 6, 2, 21, 0)
