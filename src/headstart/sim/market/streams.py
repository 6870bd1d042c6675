"""Seeded random streams, one per purpose (and per key), so that the decisions head
start changes never shift the draws of anything else.

A run with head start and its paired run without it consume the demand streams
identically (every day draws every SKU's arrivals, bought or not); streams whose
use depends on decisions (a shipment's transit, its shortfall) are keyed by the
seller and the shipment's number, so the k-th shipment of a seller draws the same
numbers in both runs.
"""

from __future__ import annotations

import hashlib
import random

import numpy as np


def _purpose_key(purpose: str) -> int:
    return int.from_bytes(hashlib.sha256(purpose.encode()).digest()[:8], "big")


def numpy_stream(seed: int, purpose: str, *keys: int) -> np.random.Generator:
    """A numpy generator for ``purpose`` (and ``keys``), independent of every other."""
    return np.random.default_rng(np.random.SeedSequence([seed, _purpose_key(purpose), *keys]))


def python_stream(seed: int, purpose: str, *keys: int) -> random.Random:
    """A ``random.Random`` (what the history generator's drawing functions take)."""
    return random.Random(f"headstart-market:{seed}:{purpose}:{':'.join(map(str, keys))}")
