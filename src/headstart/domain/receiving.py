"""Receipts fill waiting orders first (R11)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class WaitingForStock:
    order_id: str
    quantity: int
    promised_ship_date: date
    placed_seq: int


@dataclass(frozen=True)
class Fill:
    allocated: tuple[str, ...]  # order ids, in the order they were filled
    sellable: int  # units left over as sellable stock


def fill_waiting_orders(units: int, waiting: Sequence[WaitingForStock]) -> Fill:
    """R11: fill by promised ship date, then placement, earliest first.

    Filling stops at the first order the units cannot cover whole, so a later
    small order never jumps the queue; what is left becomes sellable (and R6
    still keeps it for the orders that wait).
    """
    allocated: list[str] = []
    left = units
    for order in sorted(waiting, key=lambda o: (o.promised_ship_date, o.placed_seq)):
        if order.quantity > left:
            break
        allocated.append(order.order_id)
        left -= order.quantity
    return Fill(allocated=tuple(allocated), sellable=left)
