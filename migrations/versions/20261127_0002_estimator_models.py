"""estimator models, estimate snapshots and calibration outcomes (issue 3)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 11:40:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import headstart.store.types

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = headstart.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("shipments") as batch:
        batch.add_column(sa.Column("milestones", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("first_carrier_eta", UTC_DATETIME, nullable=True))
    op.create_table(
        "estimator_models",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version", sa.String(length=120), nullable=False),
        sa.Column("fitted_at", UTC_DATETIME, nullable=False),
        sa.Column("history_count", sa.Integer(), nullable=False),
        sa.Column("outcomes_upto", sa.Integer(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_estimator_models")),
    )
    op.create_table(
        "estimate_snapshots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("shipment_id", sa.String(length=64), nullable=False),
        sa.Column("computed_at", UTC_DATETIME, nullable=False),
        sa.Column("progress", sa.JSON(), nullable=False),
        sa.Column("estimate", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name=op.f("fk_estimate_snapshots_shipment_id_shipments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_estimate_snapshots")),
    )
    op.create_index(
        op.f("ix_estimate_snapshots_shipment_id"), "estimate_snapshots", ["shipment_id"]
    )
    op.create_table(
        "calibration_outcomes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("in_stock_at", UTC_DATETIME, nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("recorded_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["estimate_snapshots.id"],
            name=op.f("fk_calibration_outcomes_snapshot_id_estimate_snapshots"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calibration_outcomes")),
        sa.UniqueConstraint("snapshot_id", name=op.f("uq_calibration_outcomes_snapshot_id")),
    )


def downgrade() -> None:
    op.drop_table("calibration_outcomes")
    op.drop_index(op.f("ix_estimate_snapshots_shipment_id"), table_name="estimate_snapshots")
    op.drop_table("estimate_snapshots")
    op.drop_table("estimator_models")
    with op.batch_alter_table("shipments") as batch:
        batch.drop_column("first_carrier_eta")
        batch.drop_column("milestones")
