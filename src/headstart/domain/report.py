"""The seller's inventory report (R13) and the units fees are charged on (R14)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

WORKING = frozenset({"working"})
SHIPPED = frozenset({"shipped", "in_transit"})
RECEIVING = frozenset({"delivered", "checked_in", "receiving"})


@dataclass(frozen=True)
class InboundLine:
    status: str
    quantity_shipped: int
    quantity_received: int

    @property
    def outstanding(self) -> int:
        return max(0, self.quantity_shipped - self.quantity_received)


@dataclass(frozen=True)
class InventoryRow:
    sku: str
    fc: str
    sellable: int
    allocated: int  # physical units set aside for orders, not yet shipped
    inbound_working: int
    inbound_shipped: int
    inbound_receiving: int
    head_start_reserved: int  # PendingCustomerOrderInTransit / afn-reserved-future-supply
    head_start_available: int  # FutureSupplyBuyable / afn-future-supply-buyable
    pilot_in_stock: int  # the pilot's view: head-start units shown as in stock...
    pilot_inbound: int  # ...and as inbound at the same time
    fee_basis_units: int  # R14: physical units only

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def fee_basis_units(sellable: int, allocated: int) -> int:
    """R14: fees and the inventory performance score count physical units only."""
    return sellable + allocated


def inventory_row(
    *,
    sku: str,
    fc: str,
    sellable: int,
    allocated: int,
    inbound: Iterable[InboundLine],
    head_start_reserved: int,
    head_start_available: int,
) -> InventoryRow:
    lines = list(inbound)
    working = sum(line.quantity_shipped for line in lines if line.status in WORKING)
    shipped = sum(line.outstanding for line in lines if line.status in SHIPPED)
    receiving = sum(line.outstanding for line in lines if line.status in RECEIVING)
    return InventoryRow(
        sku=sku,
        fc=fc,
        sellable=sellable,
        allocated=allocated,
        inbound_working=working,
        inbound_shipped=shipped,
        inbound_receiving=receiving,
        head_start_reserved=head_start_reserved,
        head_start_available=head_start_available,
        pilot_in_stock=sellable + head_start_available,
        pilot_inbound=shipped + receiving,
        fee_basis_units=fee_basis_units(sellable, allocated),
    )
