"""The operator's policy, stored so every process reads the same values."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from headstart.domain.errors import InvalidRequest
from headstart.domain.policy import Policy
from headstart.services.estimation import EstimatorCache
from headstart.services.refresh import refresh_skus
from headstart.store.tables import ProductRow, SettingRow
from headstart.store.uow import UnitOfWork, read_setting

POLICY_KEY = "policy"


def load_policy(session: Session) -> Policy:
    value = read_setting(session, POLICY_KEY)
    return Policy.from_dict(value) if value is not None else Policy()


def get_policy(uow: UnitOfWork) -> Policy:
    with uow:
        return load_policy(uow.session)


def update_policy(
    uow: UnitOfWork, estimators: EstimatorCache, changes: dict[str, object]
) -> Policy:
    """Validate the whole policy before anything is stored (a bad value changes nothing).

    Every SKU is refreshed in the same transaction: a new horizon or quantile changes
    offers (R16) and may put promises at risk (R9).
    """
    with uow:
        current = load_policy(uow.session).to_dict()
        current.update(changes)
        try:
            policy = Policy.from_dict(current)
        except (TypeError, ValueError, ArithmeticError) as error:
            raise InvalidRequest(str(error)) from error
        uow.session.merge(SettingRow(key=POLICY_KEY, value=policy.to_dict()))
        uow.session.flush()
        refresh_skus(
            uow,
            uow.session.scalars(select(ProductRow.sku)).all(),
            now=uow.now(),
            policy=policy,
            estimator=estimators.current(uow.session),
            reason="policy_changed",
        )
        uow.commit()
        return policy
