"""Offers kept per process between the changes that make them stale (issue 8).

An offer (R18) is a function of the database and the clock. The database side: every
commit that changes a row an offer reads is heard through ``OfferChangeFeed`` (PostgreSQL
NOTIFY, SQLite's data version), and an offer is answered from here only after the feed
has caught up with every commit before the request (``catch_up``), so a request never
sees an offer older than a change committed before it began, in this process or any
other. An entry is stamped with the last change heard before its transaction began;
any later change to its SKU (or to everything) drops it.

The clock side: an entry holds from the instant it was computed until the first moment
its answer could change with time alone (``valid_until``): an FC's local midnight or
cut-off (R7), a lot coming within the horizon (R4), at most ``MAX_AGE``; a sandbox clock
set back makes every entry computed "later" miss.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from headstart.domain.calendar import FulfillmentCenter
from headstart.domain.policy import Policy
from headstart.domain.supply import InboundLot
from headstart.store.offer_notifications import OfferChangeFeed, watch_offer_changes

# ``valid_until`` foresees every way time alone changes an offer; should one be missed,
# it is seen within MAX_AGE, spread over up to twice that by SKU so that offers kept
# together are not all read again together.
MAX_AGE = timedelta(seconds=60)
ON_THE_FLY_AGE = timedelta(seconds=1)  # an estimate made now moves with now
MAX_ENTRIES = 50_000

OfferKey = tuple[str, str | None, int]  # sku, region asked for, quantity


@dataclass(frozen=True, slots=True)
class _Entry:
    view: dict[str, Any]
    stamp: int
    computed_at: datetime
    valid_until: datetime


@dataclass(frozen=True, slots=True)
class _Inputs:
    policy: Policy
    fcs: dict[str, FulfillmentCenter]
    stamp: int


class OfferCache:
    """One per process. Without a feed (an in-memory database) it keeps nothing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._feed: OfferChangeFeed | None = None
        self._heard = 0  # changes heard so far
        self._everything_at = 0  # the change that last changed everything
        self._sku_at: dict[str, int] = {}  # the change that last changed each SKU
        self._entries: dict[str, dict[tuple[str | None, int], _Entry]] = {}
        self._size = 0
        self._inputs: _Inputs | None = None

    @classmethod
    def for_engine(cls, engine: Engine) -> OfferCache:
        cache = cls()
        cache.attach(watch_offer_changes(engine, cache.skus_changed, cache.everything_changed))
        return cache

    def attach(self, feed: OfferChangeFeed | None) -> None:
        self._feed = feed

    def start(self) -> None:
        if self._feed is not None:
            self._feed.start()

    def close(self) -> None:
        if self._feed is not None:
            self._feed.close()
            self._feed = None

    # ------------------------------------------------------------------ the feed's side

    def skus_changed(self, skus: Iterable[str]) -> None:
        with self._lock:
            self._heard += 1
            for sku in skus:
                self._sku_at[sku] = self._heard
                self._size -= len(self._entries.pop(sku, {}))

    def everything_changed(self) -> None:
        with self._lock:
            self._heard += 1
            self._everything_at = self._heard
            self._sku_at.clear()
            self._entries.clear()
            self._size = 0
            self._inputs = None

    # ------------------------------------------------------------------ the reader's side

    def catch_up(self) -> int | None:
        """Call before the transaction that reads: a stamp for what it computes, or None
        when nothing kept may be trusted (nor anything computed kept)."""
        feed = self._feed
        if feed is None or not feed.catch_up():
            return None
        with self._lock:
            return self._heard

    def offer(self, key: OfferKey, now: datetime) -> dict[str, Any] | None:
        with self._lock:
            entry = self._entries.get(key[0], {}).get(key[1:])
            if entry is None or not self._is_current(key[0], entry.stamp):
                return None
        if not entry.computed_at <= now < entry.valid_until:
            return None
        return {**entry.view, "reasons": list(entry.view["reasons"])}

    def keep_offer(
        self, stamp: int, key: OfferKey, view: dict[str, Any], now: datetime, until: datetime
    ) -> None:
        with self._lock:
            if not self._is_current(key[0], stamp):
                return  # changed while it was computed
            if self._size >= MAX_ENTRIES:
                self._entries.clear()
                self._size = 0
            at_sku = self._entries.setdefault(key[0], {})
            self._size += key[1:] not in at_sku
            at_sku[key[1:]] = _Entry({**view, "reasons": list(view["reasons"])}, stamp, now, until)

    def inputs(self) -> tuple[Policy, dict[str, FulfillmentCenter]] | None:
        """The policy and FCs (only a change to everything changes them)."""
        with self._lock:
            inputs = self._inputs
            if inputs is None or inputs.stamp < self._everything_at:
                return None
            return inputs.policy, inputs.fcs

    def keep_inputs(self, stamp: int, policy: Policy, fcs: dict[str, FulfillmentCenter]) -> None:
        with self._lock:
            if stamp >= self._everything_at:
                self._inputs = _Inputs(policy, fcs, stamp)

    def _is_current(self, sku: str, stamp: int) -> bool:
        return stamp >= self._everything_at and stamp >= self._sku_at.get(sku, 0)


def valid_until(
    now: datetime,
    fcs: Iterable[FulfillmentCenter],
    lots: Iterable[InboundLot],
    policy: Policy,
    *,
    sku: str = "",
) -> datetime:
    """The first instant an offer computed at ``now`` could change with time alone."""
    until = now + MAX_AGE * (1 + zlib.crc32(sku.encode()) / 2**32)
    for fc in fcs:
        zone = fc.zone
        today = now.astimezone(zone).date()
        until = min(until, fc.end_of_local_day(today))  # R7: "today" moves on
        cutoff = datetime.combine(today, fc.cutoff_local_time, tzinfo=zone)
        if cutoff <= now:
            cutoff = datetime.combine(today + timedelta(days=1), fc.cutoff_local_time, tzinfo=zone)
        until = min(until, cutoff)  # R7: same-day shipping ends
    horizon = timedelta(days=policy.horizon_days)
    for lot in lots:
        if lot.estimate.computed_at >= now:
            until = min(until, now + ON_THE_FLY_AGE)
        comes_within = lot.estimate.quantile(lot.quantile) - horizon
        if comes_within > now:
            until = min(until, comes_within)  # R4: the lot starts to count
    return until
