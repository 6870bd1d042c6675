"""FastAPI dependencies: the runtime, the caller and the roles an endpoint admits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from headstart.bootstrap import Runtime
from headstart.domain.errors import Forbidden, InvalidRequest, Unauthenticated
from headstart.services.auth_failures import client_names
from headstart.services.estimation import EstimatorCache
from headstart.services.keys import OPERATOR, SELLER, STOREFRONT, Principal, authenticate
from headstart.services.offer_cache import OfferCache
from headstart.store.uow import UnitOfWork

bearer = HTTPBearer(auto_error=False, description="API key: Authorization: Bearer <key>")


# Dependencies that only read the app's state are ``async``: FastAPI runs a plain ``def``
# dependency in its thread pool, a hop that costs more than an offer kept in memory.
async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_uow(runtime: RuntimeDep) -> UnitOfWork:
    return runtime.uow()


def get_reader(runtime: RuntimeDep) -> UnitOfWork:
    return runtime.reader()


async def get_estimators(runtime: RuntimeDep) -> EstimatorCache:
    return runtime.estimators


async def get_offer_cache(request: Request) -> OfferCache:
    cache: OfferCache = request.app.state.offer_cache
    return cache


Uow = Annotated[UnitOfWork, Depends(get_uow)]
Reader = Annotated[UnitOfWork, Depends(get_reader)]
Estimators = Annotated[EstimatorCache, Depends(get_estimators)]
Offers = Annotated[OfferCache, Depends(get_offer_cache)]


def get_principal(
    request: Request,
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    key = credentials.credentials if credentials is not None else None
    clients = client_names(request.client.host if request.client else None, key)
    runtime.auth_failures.check(clients)  # 429 before the key is even looked at
    try:
        if not key:
            raise Unauthenticated("send an API key: Authorization: Bearer <key>")
        return authenticate(runtime.reader(), key, runtime.settings.operator_key)
    except Unauthenticated:
        runtime.auth_failures.record_failure(clients)
        raise


def require(*roles: str) -> Callable[..., Principal]:
    def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.role not in roles:
            raise Forbidden(
                f"this endpoint is for {' or '.join(roles)} keys", {"role": principal.role}
            )
        return principal

    return dependency


Operator = Annotated[Principal, Depends(require(OPERATOR))]
SellerOrOperator = Annotated[Principal, Depends(require(SELLER, OPERATOR))]
StorefrontOrOperator = Annotated[Principal, Depends(require(STOREFRONT, OPERATOR))]


def seller_scope(principal: Principal, seller_id: str | None) -> str:
    """The seller an operation acts for; a seller key acts only for its own seller."""
    if principal.role == SELLER:
        if seller_id is not None and seller_id != principal.seller_id:
            raise Forbidden("a seller key can only act for its own seller")
        assert principal.seller_id is not None
        return principal.seller_id
    if seller_id is None:
        raise InvalidRequest("operator requests must name the seller_id")
    return seller_id


def owner_filter(principal: Principal) -> str | None:
    """Sellers see only their own objects; operators see all (None)."""
    return principal.seller_id if principal.role == SELLER else None


def order_scope(principal: Principal) -> str | None:
    """Storefronts see only the orders they placed; operators see all (None)."""
    return principal.id if principal.role == STOREFRONT else None
