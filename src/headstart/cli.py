"""The ``headstart`` command: serve, worker, demo."""

from __future__ import annotations

import asyncio
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from prometheus_client import start_http_server
from rich.console import Console

from headstart.api.app import create_app
from headstart.bootstrap import build_runtime
from headstart.commands import eta as eta_commands
from headstart.commands import history as history_commands
from headstart.commands import serve as serve_commands
from headstart.commands import simulate as simulate_commands
from headstart.config import Settings
from headstart.domain.estimate import is_peak
from headstart.observability.exposition import metrics_registry
from headstart.observability.logs import configure_logging
from headstart.workers.runner import nats_reachable, serve_worker
from headstart.workers.tracking_streams import Topology

app = typer.Typer(help="Head Start: sell inventory that is still on its way to the warehouse.")
app.add_typer(history_commands.app, name="history", help="Generate and check shipment histories.")
app.add_typer(eta_commands.app, name="eta", help="Fit and evaluate the in-stock time model.")
app.command(name="simulate")(simulate_commands.simulate)
app.command(name="serve")(serve_commands.serve)
console = Console()


@app.command()
def worker(
    json_logs: Annotated[bool, typer.Option(help="log JSON lines, not readable lines")] = False,
    metrics_port: Annotated[
        int, typer.Option(help="serve this worker's /metrics on this port (0: none)")
    ] = 0,
    metrics_host: Annotated[str, typer.Option(help="interface of --metrics-port")] = "127.0.0.1",
) -> None:
    """Apply tracking events from NATS JetStream and run the scheduler (R9a, R12, R9/R10).

    Run as many as you like: they share one durable consumer.

    SIGTERM or SIGINT stops after the batch in hand.

    Reads HEADSTART_DATABASE_URL and HEADSTART_NATS_URL (empty or 'none': the scheduler
    only), and HEADSTART_NATS_* and HEADSTART_SCHEDULER_INTERVAL_SECONDS (see README).
    """
    configure_logging(json=json_logs, standard_library=True)
    runtime = build_runtime(Settings())
    if metrics_port:
        # Unauthenticated, unlike the API's /metrics: keep it on loopback or a private network.
        start_http_server(metrics_port, addr=metrics_host, registry=metrics_registry(runtime))
    try:
        asyncio.run(serve_worker(runtime))
    finally:
        runtime.engine.dispose()


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    database: Annotated[Path, typer.Option(help="SQLite file, recreated")] = Path(
        "headstart-demo.db"
    ),
    start: Annotated[
        datetime | None,
        typer.Option(help="sandbox start instant (default: now, or next March 1 in peak season)"),
    ] = None,
    speed: Annotated[
        float,
        typer.Option(help="live simulation: simulated hours per real second (0: no simulation)"),
    ] = 1.0,
) -> None:
    """A sandbox server on SQLite with a seeded marketplace, and keys and curls to try it."""
    from headstart.sim.demo_seed import seed

    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    operator_key = os.environ.get("HEADSTART_OPERATOR_KEY") or f"hs_op_{secrets.token_urlsafe(18)}"
    settings = Settings(
        database_url=f"sqlite:///{database}",
        operator_key=operator_key,
        sandbox=True,
        run_worker_in_process=True,  # the scheduler (and NATS consumer) beside the API
    )
    runtime = build_runtime(settings)
    start_at = demo_start(datetime.now(UTC), start)
    with console.status("Seeding the demo marketplace..."):
        keys = seed(runtime, operator_key, start_at)
    base = f"http://{host}:{port}"
    seller_key = keys.sellers[keys.seller_id]
    console.print(
        f"\n[bold green]Head Start demo[/] at [link={base}/docs]{base}[/] (API docs: {base}/docs)\n"
    )
    console.print(f"operator key:    {keys.operator}")
    console.print(f"storefront key:  {keys.storefront}")
    for seller_id, key in keys.sellers.items():
        console.print(f"seller {seller_id}: {key}")
    console.print(
        f"\nPages (sign in with a key above): shop {base}/shop, seller {base}/seller, "
        f"operator {base}/operator",
        soft_wrap=True,
    )
    console.print("\nTry:", style="bold")
    console.print(
        f"  curl -s '{base}/v1/offers/{keys.head_start_sku}?region=us-west'", soft_wrap=True
    )
    console.print(
        f"  curl -s -X POST {base}/v1/orders -H 'Authorization: Bearer {keys.storefront}' "
        "-H 'Content-Type: application/json' -H 'Idempotency-Key: demo-1' "
        f'-d \'{{"sku": "{keys.head_start_sku}", "quantity": 1, "region": "us-west", '
        '"buyer_ref": "you"}\'',
        soft_wrap=True,
    )
    console.print(
        f"  curl -s '{base}/v1/reports/inventory?seller_id={keys.seller_id}' "
        f"-H 'Authorization: Bearer {seller_key}'",
        soft_wrap=True,
    )
    pace = (
        f"runs {speed:g} simulated hour(s) per real second (--speed)"
        if speed > 0
        else "runs in real time"
    )
    console.print(f"\nThe sandbox clock starts at {start_at.isoformat()} and {pace}.")
    if speed > 0:
        from headstart.services.sandbox import move_clock
        from headstart.sim.market.live import start_live

        move_clock(runtime.uow(), runtime.estimators, rate=speed * 3600)
        start_live(runtime)
        console.print(
            "Live simulation: buyers, sellers, carriers and FC receiving move the marketplace.",
            soft_wrap=True,
        )
    console.print(
        f"The scheduler runs in-process every {settings.scheduler_interval_seconds:g} s "
        "(R9a consent window, R12 silent shipments, R9/R10 sweeps)."
    )
    if asyncio.run(nats_reachable(settings)):
        subject = Topology.from_settings(settings).tracking_subject("<fc>")
        console.print(
            f"Tracking events: NATS JetStream at {settings.nats_url}, subject {subject}, "
            "consumed in-process; or POST /v1/tracking-events.",
            soft_wrap=True,
        )
    else:
        console.print(
            f"NATS is not reachable at {settings.nats_url}: tracking events arrive over HTTP "
            "only (POST /v1/tracking-events).",
            soft_wrap=True,
        )
    console.print()
    uvicorn.run(
        create_app(runtime),
        host=host,
        port=port,
        log_level="warning",
        log_config=serve_commands.redacted_uvicorn_logging(),
    )


def demo_start(now: datetime, requested: datetime | None) -> datetime:
    """The demo's sandbox start: in peak season (mid-October to December) the published
    receiving figures (up to 30 days) leave the prior too unsure to promise anything within
    the 21-day horizon, so the demo starts on the next March 1 instead."""
    if requested is not None:
        return requested if requested.tzinfo else requested.replace(tzinfo=UTC)
    if is_peak(now):
        return now.replace(year=now.year + 1, month=3, day=1)
    return now


if __name__ == "__main__":
    app()
