"""shipments: two covering indexes for each FC's receiving load (``services.fc_load``),
read on every shipping, tracking batch, receipt and sweep. Without them each read scanned
every shipment ever made, whose rows carry their estimates' JSON (issue 6)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 04:00:00

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_shipments_delivered_at_fc", "shipments", ["delivered_at", "destination_fc"])
    op.create_index(
        "ix_shipments_fc_load",
        "shipments",
        [
            "status",
            "delivered_at",
            "destination_fc",
            "in_stock_at",
            "shipped_at",
            "mode",
            "carrier_eta",
        ],
    )


def downgrade() -> None:
    op.drop_index("ix_shipments_fc_load", table_name="shipments")
    op.drop_index("ix_shipments_delivered_at_fc", table_name="shipments")
