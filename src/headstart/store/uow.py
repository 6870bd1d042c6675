"""The unit of work: one transaction per use case, with the clock read inside it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, sessionmaker

from headstart.store.plain_sql import plain_rows
from headstart.store.tables import ProductRow, ShipmentRow, StockRow, metadata

SANDBOX_CLOCK_KEY = "sandbox_clock"

RealClock = Callable[[], datetime]


def real_now() -> datetime:
    return datetime.now(UTC)


def sandbox_now(value: dict[str, object] | None, real: datetime) -> datetime:
    """The sandbox clock: a set instant that runs on at ``rate`` times real time."""
    if not value:
        return real
    base = datetime.fromisoformat(str(value["now"]))
    set_at = datetime.fromisoformat(str(value["set_at"]))
    rate = float(str(value.get("rate", 0.0)))
    return base + timedelta(seconds=(real - set_at).total_seconds() * rate)


class UnitOfWork:
    """``with uow: ...`` opens one transaction; leaving without ``commit()`` rolls back."""

    session: Session

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        sandbox: bool = False,
        real_clock: RealClock = real_now,
        key_secret: bytes = b"",
    ) -> None:
        self._factory = session_factory
        self.sandbox = sandbox
        # API keys and session tokens are stored hashed with it (services/keys.py).
        self.key_secret = key_secret
        self._real_clock = real_clock

    def __enter__(self) -> Self:
        self.session = self._factory()
        self.session.begin()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self.session.in_transaction():
                self.session.rollback()
        finally:
            self.session.close()

    def commit(self) -> None:
        self.session.commit()

    @property
    def is_postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    def real_now(self) -> datetime:
        return self._real_clock()

    def now(self) -> datetime:
        """The one clock every use case reads (sandbox mode lets the operator move it)."""
        real = self._real_clock()
        if not self.sandbox:
            return real
        return sandbox_now(read_setting(self.session, SANDBOX_CLOCK_KEY), real)

    def lock_shipments(self, shipment_ids: Iterable[str]) -> dict[str, ShipmentRow]:
        """Serialize changes to these shipments (ids sorted: no deadlock between writers).

        Use cases lock shipments before SKUs, always, so two of them never wait on
        each other in opposite orders.
        """
        ids = sorted(set(shipment_ids))
        query = select(ShipmentRow).where(ShipmentRow.id.in_(ids)).order_by(ShipmentRow.id)
        if self.is_postgres:
            query = query.with_for_update()
        return {row.id: row for row in self.session.scalars(query)}

    def lock_sku(self, sku: str) -> ProductRow | None:
        """R8: serialize every change to a SKU's supply or demand.

        PostgreSQL locks the product row and its SKU/FC stock rows; SQLite
        already holds the database write lock (``BEGIN IMMEDIATE``).
        """
        params = {"sku": sku}
        if self.is_postgres:
            product = self.session.scalars(_LOCK_PRODUCT, params).one_or_none()
            self.session.scalars(_LOCK_STOCK, params).all()
            return product
        return self.session.scalars(_PRODUCT, params).one_or_none()

    def lock_sku_with_stock(self, sku: str) -> tuple[ProductRow | None, list[StockRow]]:
        """``lock_sku``, and the SKU's stock rows it locks (PostgreSQL) or reads with the
        product in one query (SQLite): a caller that needs them need not read them again."""
        params = {"sku": sku}
        if self.is_postgres:
            product = self.session.scalars(_LOCK_PRODUCT, params).one_or_none()
            return product, list(self.session.scalars(_LOCK_STOCK, params))
        rows = self.session.execute(_PRODUCT_WITH_STOCK, params).all()
        if not rows:
            return None, []
        return rows[0][0], [stock for _, stock in rows if stock is not None]


def read_setting(session: Session, key: str) -> Any | None:
    """A shared setting's value (the sandbox clock, the policy), None when it is not set:
    a plain read of one column (every order reads both)."""
    return plain_rows(session, _SETTING, {"key": key}).scalar_one_or_none()


# Built once (every order runs them): SQLAlchemy reuses their compiled form.
_SETTINGS = metadata.tables["settings"]
_SETTING = select(_SETTINGS.c.value).where(_SETTINGS.c.key == bindparam("key"))
_PRODUCT = select(ProductRow).where(ProductRow.sku == bindparam("sku"))
_LOCK_PRODUCT = _PRODUCT.with_for_update()
_PRODUCT_WITH_STOCK = (
    select(ProductRow, StockRow)
    .outerjoin(StockRow, StockRow.sku == ProductRow.sku)
    .where(ProductRow.sku == bindparam("sku"))
    .order_by(StockRow.fc)
)
_LOCK_STOCK = (
    select(StockRow).where(StockRow.sku == bindparam("sku")).order_by(StockRow.fc).with_for_update()
)


UnitOfWorkFactory = Callable[[], UnitOfWork]
