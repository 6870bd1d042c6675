"""The report as one HTML file with inline SVG charts (no script, no external files)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

WIDTH, HEIGHT, PAD = 760, 220, 40


def _polyline(values: Sequence[float], top: float, color: str) -> str:
    if not values:
        return ""
    step = (WIDTH - 2 * PAD) / max(len(values) - 1, 1)
    points = " ".join(
        f"{PAD + i * step:.1f},{HEIGHT - PAD - (v / top) * (HEIGHT - 2 * PAD):.1f}"
        for i, v in enumerate(values)
    )
    return f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{points}"/>'


def line_chart(title: str, series: dict[str, Sequence[float]], colors: Sequence[str]) -> str:
    top = max((max(v) for v in series.values() if v), default=1) or 1
    lines = "".join(
        _polyline(values, top, color)
        for values, color in zip(series.values(), colors, strict=False)
    )
    # An HTML legend under the chart: series names are long and would overlap in the SVG.
    legend = " ".join(
        f'<span style="color:{color}">&#9644; {html.escape(name)}</span>'
        for name, color in zip(series, colors, strict=False)
    )
    axis = (
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" '
        f'y2="{HEIGHT - PAD}" stroke="#999"/>'
        f'<text x="4" y="{PAD}" font-size="11">{top:g}</text>'
        f'<text x="4" y="{HEIGHT - PAD}" font-size="11">0</text>'
        f'<text x="{WIDTH - PAD - 30}" y="{HEIGHT - 10}" font-size="11">day</text>'
    )
    return (
        f"<figure><figcaption>{html.escape(title)}</figcaption>"
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" role="img" '
        f'aria-label="{html.escape(title)}">{axis}{lines}</svg><p>{legend}</p></figure>'
    )


def bar_chart(title: str, bars: dict[str, float], target: float | None = None) -> str:
    if not bars:
        return ""
    width = (WIDTH - 2 * PAD) / len(bars)
    body = []
    for i, (name, value) in enumerate(bars.items()):
        h = value * (HEIGHT - 2 * PAD)
        x = PAD + i * width
        body.append(
            f'<rect x="{x + 4:.1f}" y="{HEIGHT - PAD - h:.1f}" width="{width - 8:.1f}" '
            f'height="{h:.1f}" fill="#3b7dd8"/>'
            f'<text x="{x + 6:.1f}" y="{HEIGHT - PAD + 14}" font-size="11">'
            f"{html.escape(name)}</text>"
            f'<text x="{x + 6:.1f}" y="{HEIGHT - PAD - h - 4:.1f}" font-size="11">'
            f"{value:.1%}</text>"
        )
    if target is not None:
        y = HEIGHT - PAD - target * (HEIGHT - 2 * PAD)
        body.append(
            f'<line x1="{PAD}" y1="{y:.1f}" x2="{WIDTH - PAD}" y2="{y:.1f}" stroke="#c00" '
            f'stroke-dasharray="4"/><text x="{WIDTH - PAD - 70}" y="{y - 4:.1f}" '
            f'font-size="11" fill="#c00">target {target:.0%}</text>'
        )
    return (
        f"<figure><figcaption>{html.escape(title)}</figcaption>"
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" role="img" '
        f'aria-label="{html.escape(title)}">{"".join(body)}</svg></figure>'
    )


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p>None.</p>"
    head = "".join(f"<th>{html.escape(str(k))}</th>" for k in rows[0])
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(', '.join(map(str, v)) if isinstance(v, list) else str(v))}</td>"
            for v in row.values()
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(report: dict[str, Any]) -> str:
    c, headline, runs = report["config"], report["headline"], report["runs"]
    states = report["series"]["sku_states"]
    by_mode = {
        mode: row["on_time_rate"]
        for mode, row in runs["head_start"]["on_time_by_mode"].items()
        if row["on_time_rate"] is not None
    }
    charts = [
        line_chart(
            "Units sold per day",
            report["series"]["units_sold"],
            ("#3b7dd8", "#999999"),
        ),
        line_chart(
            "SKUs not in stock per day: buyable from incoming stock, and not buyable",
            {
                "head start: buyable from incoming stock": [d[1] for d in states["head_start"]],
                "head start: not buyable": [d[2] for d in states["head_start"]],
                "without: not buyable": [d[1] + d[2] for d in states["without_head_start"]],
            },
            ("#2a9d5c", "#c0392b", "#999999"),
        ),
        bar_chart("Head-start on-time-to-promise by mode", by_mode, target=0.97),
    ]
    headline_rows = [{"measure": k, "value": v} for k, v in headline.items()]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Head Start simulation, seed {c["seed"]}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}}
table{{border-collapse:collapse;font-size:13px;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:3px 6px;text-align:left}}
figure{{margin:1.5em 0}}figcaption{{font-weight:600}}</style></head><body>
<h1>What head start earns and what it costs</h1>
<p>{c["days"]} days from {html.escape(c["start"])}, {c["sellers"]} sellers, {c["skus"]} SKUs,
seed {c["seed"]}; every number is paired with the same marketplace without head start.</p>
<h2>Headline</h2>{_table(headline_rows)}
<h2>Charts</h2>{"".join(charts)}
<h2>The 20 worst promises</h2>{_table(report["worst_promises"])}
<h2>Per seller</h2>{_table(report["sellers"])}
</body></html>
"""
