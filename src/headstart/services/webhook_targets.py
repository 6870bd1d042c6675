"""Where webhooks may point (issue 7): the public internet, not our own network.

A webhook URL is chosen by a seller or operator and fetched by our servers, so
without a check it would let a seller make the worker POST to the database's
admin port, a cloud metadata service (169.254.169.254) or anything else only
reachable from inside. Every address the host resolves to must be global:
loopback, private, link-local, multicast, reserved and unspecified addresses are
refused. The check runs at registration (422) and again before every delivery,
because a name can be re-pointed after registration (DNS rebinding).
``HEADSTART_WEBHOOK_ALLOW_PRIVATE=1`` turns it off (tests, a receiver on this host).

What remains: between the delivery-time check and the connection the name is
resolved once more; a resolver that answers differently within that second can
still win. Pinning the checked address would close it, at the price of TLS with
a hand-set server name.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from headstart.domain.errors import InvalidRequest

Resolve = Callable[[str, int], list[str]]
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def resolve_host(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the system resolver, as httpx will use it)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def is_internal(address: IpAddress) -> bool:
    """True for loopback, private, link-local, multicast, reserved, shared or unspecified."""
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:  # ::ffff:127.0.0.1 is 127.0.0.1
        return is_internal(mapped)
    return not address.is_global or address.is_multicast


def internal_addresses(url: str, resolve: Resolve = resolve_host) -> list[str]:
    """The internal addresses ``url``'s host stands for; [] when it is public.

    Raises InvalidRequest when the URL has no host or the host does not resolve.
    """
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        raise InvalidRequest("the webhook URL has no host", {"url": url})
    try:
        literal: IpAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        return [str(literal)] if is_internal(literal) else []
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError) as error:
        raise InvalidRequest(
            f"the webhook host {host} does not resolve", {"url": url, "host": host}
        ) from error
    if not addresses:
        raise InvalidRequest(f"the webhook host {host} does not resolve", {"url": url})
    return [a for a in addresses if is_internal(ipaddress.ip_address(a.split("%")[0]))]


def check_webhook_url(url: str, *, allow_private: bool, resolve: Resolve = resolve_host) -> None:
    """Refuse (InvalidRequest, 422) a URL that reaches into a private network."""
    if allow_private:
        return
    internal = internal_addresses(url, resolve)
    if internal:
        raise InvalidRequest(
            "webhook URLs must reach a public address, not loopback, private, link-local, "
            "multicast or unspecified ones",
            {"url": url, "addresses": internal},
        )
