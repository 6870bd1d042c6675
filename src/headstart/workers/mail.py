"""E-mail transports of the outbox sender: SMTP, or a local Maildir when none is configured.

Both are blocking; the sender calls them from its worker threads.
"""

from __future__ import annotations

import mailbox
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from headstart.workers.rendering import RenderedMessage

SMTP_TIMEOUT_SECONDS = 30.0
SCHEMES = {"smtp": (25, "plain"), "smtp+starttls": (587, "starttls"), "smtps": (465, "tls")}


class MailTransport(Protocol):
    @property
    def name(self) -> str:
        """Recorded on the delivery: "smtp" or "maildir"."""

    def send(self, message: EmailMessage) -> None:
        """Hand the message over, or raise: the sender retries with backoff."""


def compose_email(
    *, sender: str, to: str, message_id: str, date: datetime, rendered: RenderedMessage
) -> EmailMessage:
    """Text and HTML alternatives; ``message_id`` is stable so a resend is recognisable."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = rendered.subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


@dataclass(frozen=True)
class SmtpTransport:
    """``smtp://host:port``, ``smtp+starttls://user:pass@host:587`` or ``smtps://host:465``."""

    host: str
    port: int
    security: str  # plain | starttls | tls
    username: str | None = None
    password: str | None = None
    timeout: float = SMTP_TIMEOUT_SECONDS
    name: str = "smtp"

    @classmethod
    def from_url(cls, url: str, *, timeout: float = SMTP_TIMEOUT_SECONDS) -> SmtpTransport:
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES or not parts.hostname:
            raise ValueError(
                f"SMTP URL must look like smtp://host:port or smtp+starttls://user:pass@host:587, "
                f"not {parts.scheme}://..."
            )
        default_port, security = SCHEMES[parts.scheme]
        return cls(
            host=parts.hostname,
            port=parts.port or default_port,
            security=security,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            timeout=timeout,
        )

    def send(self, message: EmailMessage) -> None:
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if self.security == "tls":
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            client.ehlo()
            if self.security == "starttls":
                client.starttls(context=context)
                client.ehlo()
            if self.username:
                client.login(self.username, self.password or "")
            refused = client.send_message(message)
        if refused:  # some recipients refused while others were accepted
            raise smtplib.SMTPRecipientsRefused(refused)


@dataclass(frozen=True)
class MaildirTransport:
    """A laptop or ``make demo`` without SMTP: each e-mail becomes a file under ``path/new``."""

    path: Path
    name: str = "maildir"

    def send(self, message: EmailMessage) -> None:
        mailbox.Maildir(self.path, create=True).add(message)


def mail_transport(smtp_url: str | None, mail_dir: str) -> MailTransport:
    if smtp_url:
        return SmtpTransport.from_url(smtp_url)
    return MaildirTransport(Path(mail_dir).expanduser())
