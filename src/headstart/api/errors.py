"""Every error leaves as ``{"error": {"code", "message", "details"}}``; mapped in one place."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from headstart.domain.errors import HeadStartError, TooManyAttempts

STATUS_OF_CODE = {
    "invalid_request": 422,
    "not_found": 404,
    "conflict": 409,
    "unavailable": 409,
    "forbidden": 403,
    "unauthenticated": 401,
    "rate_limited": 429,
}
CODE_OF_STATUS = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
}


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": jsonable_encoder(details)}}
    return JSONResponse(body, status_code=status, headers=headers)


def headers_of(error: HeadStartError) -> dict[str, str] | None:
    if isinstance(error, TooManyAttempts):
        return {"Retry-After": str(retry_after_of(error))}
    if error.code == "unauthenticated":
        return {"WWW-Authenticate": "Bearer"}
    return None


def retry_after_of(error: TooManyAttempts) -> int:
    details = error.details if isinstance(error.details, dict) else {}
    return int(details.get("retry_after_seconds", 60))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HeadStartError)
    async def _domain(_: Request, error: HeadStartError) -> JSONResponse:
        headers = headers_of(error)
        return error_response(
            STATUS_OF_CODE.get(error.code, 422), error.code, error.message, error.details, headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, error: RequestValidationError) -> JSONResponse:
        problems = [
            {
                "location": list(item.get("loc", ())),
                "message": item.get("msg"),
                "type": item.get("type"),
            }
            for item in error.errors()
        ]
        first = problems[0] if problems else {"location": [], "message": "invalid request"}
        where = ".".join(str(part) for part in first["location"])
        return error_response(
            422, "invalid_request", f"{where}: {first['message']}", {"problems": problems}
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, error: StarletteHTTPException) -> JSONResponse:
        code = CODE_OF_STATUS.get(error.status_code, "error")
        return error_response(
            error.status_code, code, str(error.detail), None, getattr(error, "headers", None)
        )
