"""Tracking messages from NATS: decoded with the HTTP API's own schema, or refused with a reason.

A message body is what ``POST /v1/tracking-events`` accepts: one event object, a batch
``{"events": [...]}`` or a bare JSON array. A message is the unit of refusal: when any of
its events is invalid, the whole message is dead-lettered, as the HTTP call would be
refused whole.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from headstart.api.schemas import TrackingBatchIn, TrackingEventIn
from headstart.services.tracking import TrackingEvent

_BARE_ARRAY = TypeAdapter(list[TrackingEventIn])
# NATS headers are single lines; a reason longer than this is cut (the envelope keeps all).
HEADER_LIMIT = 400


@dataclass(frozen=True)
class Refusal:
    """Why a message can never be applied: a stable ``code``, a message and details."""

    code: str
    message: str
    details: Any = None


def decode(data: bytes) -> list[TrackingEvent] | Refusal:
    try:
        body = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return Refusal("not_json", f"the message body is not JSON: {error}")
    try:
        if isinstance(body, list):
            items = _BARE_ARRAY.validate_python(body)
        elif isinstance(body, dict) and "events" in body:
            items = TrackingBatchIn.model_validate(body).events
        else:
            items = [TrackingEventIn.model_validate(body)]
    except ValidationError as error:
        problems = json.loads(error.json(include_url=False, include_input=False))
        return Refusal("invalid_event", "the message is not a valid tracking event", problems)
    if not items:
        return Refusal("invalid_event", "the message holds no tracking event")
    return [TrackingEvent(**item.model_dump()) for item in items]


def dead_letter(
    data: bytes,
    refusal: Refusal,
    *,
    subject: str,
    stream: str,
    stream_sequence: int,
    deliveries: int,
    at: datetime,
) -> tuple[bytes, dict[str, str]]:
    """The dead letter's body (a JSON envelope holding the original) and its headers."""
    try:
        text: str | None = data.decode()
        raw: str | None = None
    except UnicodeDecodeError:
        text, raw = None, base64.b64encode(data).decode()
    envelope = {
        "reason": refusal.code,
        "message": refusal.message,
        "details": refusal.details,
        "original_subject": subject,
        "original_stream": stream,
        "original_stream_sequence": stream_sequence,
        "deliveries": deliveries,
        "dead_lettered_at": at.isoformat(),
        "data": text,
        "data_base64": raw,
    }
    headers = {
        "Headstart-Reason": refusal.code,
        "Headstart-Message": " ".join(refusal.message.split())[:HEADER_LIMIT],
        "Headstart-Original-Subject": subject,
        # A worker that dies between publishing the dead letter and terminating the
        # original publishes it again on redelivery; JetStream drops the copy.
        "Nats-Msg-Id": f"deadletter-{stream}-{stream_sequence}",
    }
    return json.dumps(envelope, default=str).encode(), headers
