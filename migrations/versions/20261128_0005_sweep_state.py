"""sweep and order indexes: the sweep finds waiting orders by status and date and keeps
each seller's last R4 judgement; R4 reads a seller's recent head-start orders without
walking their in-stock ones (issue 8)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 09:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_orders_status_promised_in_stock_date",
        "orders",
        ["status", "promised_in_stock_date"],
    )
    op.create_index("ix_orders_sku_source", "orders", ["sku", "source"])
    with op.batch_alter_table("sellers") as batch:
        batch.add_column(
            sa.Column(
                "head_start_suppressed", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("sellers") as batch:
        batch.drop_column("head_start_suppressed")
    op.drop_index("ix_orders_sku_source", table_name="orders")
    op.drop_index("ix_orders_status_promised_in_stock_date", table_name="orders")
