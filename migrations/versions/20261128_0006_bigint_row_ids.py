"""64-bit row ids on PostgreSQL: the tables that grow with traffic (orders, revisions,
the outbox and its deliveries, offer decisions, estimate snapshots and their outcomes,
models) ran out at 2**31 rows, days at thousands of events a second (issue 8)

SQLite's INTEGER is 64 bits already: nothing changes there. On PostgreSQL each column
becomes BIGINT and its sequence AS bigint (a serial's sequence is AS integer, which
would still stop at 2**31). Changing a column's type rewrites its table under an
exclusive lock: on a large database, run it in a maintenance window.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 19:10:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, it has a sequence of its own)
COLUMNS = (
    ("orders", "seq", True),
    ("order_revisions", "id", True),
    ("outbox", "id", True),
    ("deliveries", "id", True),
    ("deliveries", "outbox_id", False),
    ("offer_decisions", "id", True),
    ("estimator_models", "id", True),
    ("estimator_models", "outcomes_upto", False),
    ("estimate_snapshots", "id", True),
    ("calibration_outcomes", "id", True),
    ("calibration_outcomes", "snapshot_id", False),
)


def _retype(to: str, old: sa.types.TypeEngine[int], new: sa.types.TypeEngine[int]) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, sequenced in COLUMNS:
        op.alter_column(table, column, type_=new, existing_type=old, existing_nullable=False)
        if sequenced:
            op.execute(
                sa.text(
                    f"DO $$ BEGIN EXECUTE format('ALTER SEQUENCE %s AS {to}', "
                    f"pg_get_serial_sequence('{table}', '{column}')); END $$"
                )
            )


def upgrade() -> None:
    _retype("bigint", sa.Integer(), sa.BigInteger())


def downgrade() -> None:
    _retype("integer", sa.BigInteger(), sa.Integer())
