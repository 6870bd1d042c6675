"""One generated history shared by the history tests: drawing it takes about a second."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from headstart.domain.estimate import ClosedShipment
from headstart.sim.history import SyntheticHistory, synthesize_history

START = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="session")
def year_of_history() -> SyntheticHistory:
    """4,000 shipments over 12 months from 2025-01-01, seed 7 (the issue's settings, smaller)."""
    return synthesize_history(4000, 7, START)


@pytest.fixture(scope="session")
def year_of_shipments(year_of_history: SyntheticHistory) -> list[ClosedShipment]:
    return list(year_of_history.shipments())
