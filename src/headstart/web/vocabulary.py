"""Plain words for the machine-readable codes the services return (R4: every "no" has reasons)."""

from __future__ import annotations

REASONS = {
    # Participation of a shipment (R1, R2, R2a)
    "seller_not_enrolled_when_created": "The seller was not enrolled when this shipment was "
    "created (R1).",
    "carrier_program_not_eligible": "Its carrier program gives the marketplace no tracking "
    "data (R2).",
    "own_carrier_tracking_not_validated": "Own-carrier tracking ids are not validated by a "
    "carrier yet (R2a).",
    "shipment_exception": "The shipment has an open exception: lost, damaged or refused (R2).",
    "shipment_cancelled": "The shipment was cancelled (R2).",
    "shipment_closed": "The shipment is closed: its units were received or will not come.",
    "shipment_not_shipped": "The shipment has not shipped yet (R2).",
    # Supply and offers (R1a, R3-R6)
    "no_units_left_after_shrink": "No units are left after the expected receiving shortfall (R5).",
    "beyond_horizon": "Its in-stock time is not confidently within the horizon (R4).",
    "sku_excluded_by_seller": "The seller excluded this SKU from head start (R1a).",
    "suppressed_for_late_promises": "This seller's recent head-start promises were late too "
    "often (R4).",
    "head_start_cap": "The seller's head-start cap for this SKU limits what is offered (R1a).",
    "region_not_served": "A fulfillment center holding supply does not deliver to this region.",
    "insufficient_quantity": "Fewer units can be promised than were asked for (R6).",
    "all_supply_promised": "Every unit on hand or on its way is promised to earlier orders (R6).",
    "no_sellable_stock": "No sellable units are on hand at any fulfillment center (R3).",
    "no_counted_inbound_supply": "No inbound shipment counts as confident supply (R4).",
    # Shipments at risk (R9, R10, R12)
    "carrier_reported_delay": "The carrier reported a delay.",
    "carrier_eta_slipped": "The carrier's ETA moved a day or more past its first one.",
    "overdue": "Not in stock although 90% of estimated outcomes would be by now (R12).",
    "promise_at_risk": "The chance of being in stock by the earliest waiting promise is "
    "below q_low (R9).",
    # Why a promise moved or an order was cancelled (R9, R9a, R10, R11)
    "tracking_event": "A tracking event changed the shipment's estimate (R9).",
    "time_passed": "Time passed without news from the shipment (R12).",
    "units_received": "Units were received (R11).",
    "short_close": "The shipment closed short (R11).",
    "shipment_shipped": "A shipment shipped.",
    "policy_changed": "The operator changed the policy.",
    "product_changed": "The seller changed the product (R1a).",
    "buyer_cancelled": "Cancelled by the buyer, with a full refund (R9a).",
    "delay_not_confirmed": "Cancelled with a full refund: the delay was not confirmed in time "
    "(R9a).",
    "no_supply": "Cancelled: no supply is coming for it any more (R10).",
    "max_slip_exceeded": "Cancelled: it would have slipped past the maximum slip (R10).",
}

BUYER_STATES = {
    "in_stock": "In stock",
    "head_start": "Ships from incoming stock",
    "temporarily_out_of_stock": "Temporarily out of stock",
}

ENROLLMENT_STATES = {
    "not_enrolled": "Not enrolled",
    "enrolled": "Enrolled",
    "opt_out_requested": "Opt-out confirmed, taking effect",
    "opted_out": "Opted out",
}


def reason_text(code: str) -> str:
    """The plain text of a code; an unknown one (e.g. ``inventory_adjustment:found``) as is."""
    if code.startswith("inventory_adjustment:"):
        return f"An on-hand correction ({code.split(':', 1)[1]})."
    return REASONS.get(code, code.replace("_", " "))
