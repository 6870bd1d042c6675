"""The OpenAPI document tells the truth about errors (DESIGN.md section 5).

FastAPI documents only its own ``{"detail": [...]}`` body for 422 and no other
error. Every error of ours is ``{"error": {"code", "message", "details"}}``
(``api/errors.py``), and an endpoint can answer 400, 401, 403, 404, 409, 413 or
429 too; a client generated from the document, or schemathesis checking responses
against it, must know that.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

ERROR_REF = {"$ref": "#/components/schemas/Error"}
ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "description": "stable, machine-readable"},
                "message": {"type": "string"},
                "details": {"description": "what the code needs to be acted on; may be null"},
            },
        }
    },
}
SECURED = {
    "401": "no API key, or an unknown one",
    "403": "the key's role may not do this, or the object is another seller's",
    "429": "too many failed authentications from this client",
}
ADDRESSED = {
    "404": "an object named in the path or body does not exist (or is not the caller's)",
    "409": "the request clashes with the current state",
    "422": "the request is malformed or asks for something the rules forbid",
}
WITH_BODY = {
    "400": "the body could not be parsed (not UTF-8, not JSON)",
    "413": "the request body is larger than the server accepts",
}
_FASTAPI_ERRORS = ("HTTPValidationError", "ValidationError")


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}


def document_errors(spec: dict[str, Any]) -> dict[str, Any]:
    """Add our error responses to every operation of ``spec`` (changed in place, returned)."""
    for item in spec.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            statuses: dict[str, str] = {}
            if operation.get("security"):
                statuses.update(SECURED)
            if operation.get("parameters") or "requestBody" in operation:
                statuses.update(ADDRESSED)
            if "requestBody" in operation:
                statuses.update(WITH_BODY)
            for status, description in statuses.items():
                operation["responses"][status] = _error_response(description)
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    for name in _FASTAPI_ERRORS:  # nothing refers to FastAPI's own error bodies any more
        schemas.pop(name, None)
    schemas["Error"] = ERROR_SCHEMA
    return spec


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi`` document our errors; FastAPI builds the document once, then caches."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        first = app.openapi_schema is None
        spec = build()
        return document_errors(spec) if first else spec

    app.openapi = openapi  # type: ignore[method-assign]
