"""overdue promises teach the calibration: each estimate snapshot keeps the instant its
promise quantile passes, and calibration outcomes gain a kind (``overdue`` before
``in_stock``), so one snapshot may have one of each (issue 3)

Snapshots recorded before this revision have no deadline and are judged only once
in stock, as before.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 21:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import headstart.store.types

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = headstart.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("estimate_snapshots") as batch:
        batch.add_column(sa.Column("deadline", UTC_DATETIME, nullable=True))
        batch.create_index("ix_estimate_snapshots_deadline", ["deadline"])
    with op.batch_alter_table("calibration_outcomes") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(16), nullable=False, server_default="in_stock")
        )
        batch.drop_constraint("uq_calibration_outcomes_snapshot_id", type_="unique")
        batch.create_unique_constraint(
            "uq_calibration_outcomes_snapshot_id", ["snapshot_id", "kind"]
        )


def downgrade() -> None:
    op.execute("DELETE FROM calibration_outcomes WHERE kind <> 'in_stock'")
    with op.batch_alter_table("calibration_outcomes") as batch:
        batch.drop_constraint("uq_calibration_outcomes_snapshot_id", type_="unique")
        batch.create_unique_constraint("uq_calibration_outcomes_snapshot_id", ["snapshot_id"])
        batch.drop_column("kind")
    with op.batch_alter_table("estimate_snapshots") as batch:
        batch.drop_index("ix_estimate_snapshots_deadline")
        batch.drop_column("deadline")
