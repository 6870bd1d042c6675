"""Where tracking messages live: the streams, their subjects and the shared durable consumer.

Subjects: ``<prefix>.tracking.<fc>`` (kept ``TRACKING_RETENTION`` in the tracking stream)
and ``<prefix>.deadletter.tracking`` (kept in a stream of its own, so dead letters can be
inspected and replayed). Streams are made when missing; when one exists (another part of
Head Start may share it), our subjects are added to it and nothing else is changed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta

from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import APIError, NotFoundError

from headstart.config import Settings

TRACKING_RETENTION = timedelta(days=7)
DEAD_LETTER_RETENTION = timedelta(days=90)


@dataclass(frozen=True)
class Topology:
    """Where tracking messages live: streams, subjects and the shared durable consumer."""

    stream: str
    dead_letter_stream: str
    prefix: str
    durable: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Topology:
        return cls(
            stream=settings.nats_stream,
            dead_letter_stream=settings.nats_dead_letter_stream,
            prefix=settings.nats_subject_prefix,
            durable=settings.nats_durable,
        )

    def tracking_subject(self, fc: str) -> str:
        return f"{self.prefix}.tracking.{fc}"

    @property
    def tracking_subjects(self) -> str:
        return f"{self.prefix}.tracking.>"

    @property
    def dead_letter_subject(self) -> str:
        return f"{self.prefix}.deadletter.tracking"


async def ensure_streams(js: JetStreamContext, topology: Topology) -> None:
    """Create the streams, or add our subjects to streams that exist (others may share them)."""
    await _ensure_stream(js, topology.stream, topology.tracking_subjects, TRACKING_RETENTION)
    await _ensure_stream(
        js, topology.dead_letter_stream, f"{topology.prefix}.deadletter.>", DEAD_LETTER_RETENTION
    )


async def _ensure_stream(
    js: JetStreamContext, name: str, subject: str, retention: timedelta
) -> None:
    try:
        info = await js.stream_info(name)
    except NotFoundError:
        config = StreamConfig(
            name=name,
            subjects=[subject],
            storage=StorageType.FILE,
            max_age=retention.total_seconds(),
        )
        try:
            await js.add_stream(config)
            return
        except APIError:  # another worker created it first, perhaps with other subjects
            info = await js.stream_info(name)
    subjects = list(info.config.subjects or [])
    if subject not in subjects:
        await js.update_stream(dataclasses.replace(info.config, subjects=[*subjects, subject]))
