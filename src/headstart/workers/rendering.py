"""Text and HTML bodies of the notifications (R1, R9a, R10, R11), from Jinja2 templates.

HTML is autoescaped: every value comes from stored data (SKUs, reasons, ids) and
is treated as text. A kind without its own template gets the stored text body.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

TEMPLATED = frozenset({"opt_out_confirmation", "delay_notice", "order_cancelled", "short_receipt"})


@dataclass(frozen=True)
class Notice:
    """One outbox row, as read in the sender's claim transaction."""

    id: int
    kind: str
    recipient: str
    subject: str
    body: str
    payload: dict[str, Any]
    dedupe_key: str
    created_at: datetime


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str


class MessageRenderer:
    def __init__(self, public_base_url: str) -> None:
        self.public_base_url = public_base_url.rstrip("/")
        self._env = Environment(
            loader=PackageLoader("headstart.workers", "templates"),
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )

    def link(self, path: str) -> str:
        return f"{self.public_base_url}{path}"

    def render(self, notice: Notice) -> RenderedMessage:
        name = notice.kind if notice.kind in TEMPLATED else "generic"
        context = {"notice": notice, "payload": notice.payload, "link": self.link}
        if notice.kind == "delay_notice":
            # R9a: one step, a full refund; issue 5 puts a page behind this address.
            context["cancel_url"] = self.link(str(notice.payload["cancel_path"]))
        text = self._env.get_template(f"{name}.txt").render(context)
        html = self._env.get_template(f"{name}.html").render(context)
        return RenderedMessage(subject=notice.subject, text=text, html=html)
