"""orders.seller_id: R4 reads a seller's recent head-start orders by index instead of
walking the seller's whole catalogue (bench/README.md, "Scale")

Each order gets its product's seller (a product never changes seller, so the copy
cannot go stale), backfilled here from ``products``, and a partial index
(seller_id, seq) over the head-start orders.

On PostgreSQL: add the column, fill it with one UPDATE ... FROM, then SET NOT NULL
(which scans the table under an exclusive lock: on a large database, run it in a
maintenance window, as for 0006).

On SQLite a NOT NULL column without a default can only come from rebuilding the table
(batch mode), and dropping the old ``orders`` would fail while ``order_revisions``
rows point at it (the application runs migrations with ``foreign_keys=ON``, inside one
transaction, where the pragma cannot be switched off). So the rows are set aside in a
temporary table, ``orders`` is emptied and rebuilt with foreign keys checked only at
commit (``defer_foreign_keys``), and the rows come back with their seller: each one
satisfies its revisions again before the commit checks them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 12:00:00

"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_orders_seller_id_seq_head_start"
HEAD_START = sa.text("source = 'head_start'")
ASIDE = "orders_0007_aside"  # a temporary table: SQLite's rows while orders is rebuilt

orders = sa.table("orders", sa.column("sku", sa.String), sa.column("seller_id", sa.String))
products = sa.table("products", sa.column("sku", sa.String), sa.column("seller_id", sa.String))


def _rebuild_on_sqlite(alter: Callable[[BatchOperations], None], seller_id: str | None) -> None:
    """Apply ``alter`` to SQLite's orders by a rebuild that keeps every row and every
    revision's reference; ``seller_id`` is the SQL of the column's value, if it has one."""
    kept = [
        column["name"]
        for column in sa.inspect(op.get_bind()).get_columns("orders")
        if column["name"] != "seller_id"
    ]
    columns = ", ".join(kept)
    op.execute("PRAGMA defer_foreign_keys = ON")
    op.execute(f"CREATE TEMPORARY TABLE {ASIDE} AS SELECT {columns} FROM orders")
    op.execute("DELETE FROM orders")
    with op.batch_alter_table("orders", recreate="always") as batch:
        alter(batch)
    if seller_id is None:
        op.execute(f"INSERT INTO orders ({columns}) SELECT {columns} FROM {ASIDE}")
    else:
        op.execute(
            f"INSERT INTO orders ({columns}, seller_id) "
            f"SELECT {columns}, {seller_id} FROM {ASIDE} AS aside ORDER BY seq"
        )
    op.execute(f"DROP TABLE {ASIDE}")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_on_sqlite(
            lambda batch: batch.add_column(
                sa.Column("seller_id", sa.String(length=40), nullable=False)
            ),
            "(SELECT products.seller_id FROM products WHERE products.sku = aside.sku)",
        )
    else:
        op.add_column("orders", sa.Column("seller_id", sa.String(length=40), nullable=True))
        op.execute(
            orders.update()
            .where(orders.c.sku == products.c.sku)
            .values(seller_id=products.c.seller_id)
        )
        op.alter_column("orders", "seller_id", existing_type=sa.String(length=40), nullable=False)
    op.create_index(
        INDEX, "orders", ["seller_id", "seq"], postgresql_where=HEAD_START, sqlite_where=HEAD_START
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="orders")
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_on_sqlite(lambda batch: batch.drop_column("seller_id"), None)
    else:
        op.drop_column("orders", "seller_id")
