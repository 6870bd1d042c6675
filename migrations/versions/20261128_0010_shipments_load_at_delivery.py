"""shipments.fc_backlog_at_delivery, fc_deliveries_7d_at_delivery: the FC's load when the
shipment was delivered, so an at-FC estimate scales receiving by the load the receipt met,
as the model's pools were normalised, not by the load now (issue 3)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 09:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("fc_backlog_at_delivery", "fc_deliveries_7d_at_delivery")


def upgrade() -> None:
    # Left empty for shipments delivered before: their estimates fall back to the load now,
    # as before this column.
    for name in _COLUMNS:
        op.add_column("shipments", sa.Column(name, sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("shipments") as batch:
        for name in _COLUMNS:
            batch.drop_column(name)
