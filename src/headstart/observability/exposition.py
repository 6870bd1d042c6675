"""The text a Prometheus scrape of ``GET /metrics`` gets.

Two sources: the counters and histograms every process keeps (summed over processes
in multiprocess mode), and gauges of shared state read from the database at scrape
time, by whichever process answers, so they never disagree between processes.
"""

from __future__ import annotations

from collections.abc import Iterator

import structlog
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from headstart.bootstrap import Runtime
from headstart.observability.metrics import is_multiprocess
from headstart.services.monitoring import estimate_coverage, outbox_backlog

log = structlog.get_logger("headstart.metrics")


class DatabaseGauges(Collector):
    """Outbox backlog and estimate coverage, read when scraped (one short read-only query
    each); ``headstart_database_up`` is 0 when the database did not answer."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "headstart_database_up", "Whether the database answered this scrape's queries"
        )
        try:
            with self.runtime.reader() as uow:
                backlog = outbox_backlog(uow.session)
                coverage = estimate_coverage(uow.session)
        except SQLAlchemyError as error:
            log.warning("metrics_database_unavailable", error=type(error).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        pending = GaugeMetricFamily(
            "headstart_outbox_pending",
            "Notifications (R15) waiting for the outbox sender, by kind",
            labels=["kind"],
        )
        for kind, count in sorted(backlog.items()):
            pending.add_metric([kind], count)
        yield pending
        yield GaugeMetricFamily(
            "headstart_estimate_coverage_target",
            "The promise quantile q (R4) the coverage should reach",
            value=coverage.target,
        )
        ratio = GaugeMetricFamily(
            "headstart_estimate_coverage_ratio",
            "Share of the newest outcomes in stock by their promised quantile (weighted)",
        )
        if coverage.ratio is not None:
            ratio.add_metric([], coverage.ratio)
        yield ratio
        yield GaugeMetricFamily(
            "headstart_estimate_coverage_outcomes",
            "Outcomes the coverage ratio is computed over (the newest, at most 1000)",
            value=coverage.outcomes_in_window,
        )
        yield GaugeMetricFamily(
            "headstart_estimate_outcomes_recorded",
            "Estimate outcomes recorded so far (calibration_outcomes)",
            value=coverage.outcomes_recorded,
        )


class _ThisProcess(Collector):
    """The process-wide default registry (our metrics, and this process's CPU, memory,
    GC), forwarded into a registry built per scrape."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def metrics_registry(runtime: Runtime) -> CollectorRegistry:
    """Every collector a scrape reads; each reads afresh on every scrape."""
    registry = CollectorRegistry(auto_describe=False)
    if is_multiprocess():
        MultiProcessCollector(registry)  # every process's files, this one's included
    else:
        registry.register(_ThisProcess())
    registry.register(DatabaseGauges(runtime))
    return registry


def scrape(runtime: Runtime) -> bytes:
    """The exposition text (built per scrape, as the multiprocess documentation does)."""
    return generate_latest(metrics_registry(runtime))
