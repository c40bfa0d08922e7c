"""Refuse webhook targets inside our own networks (SSRF guard).

Checked when an admin subscribes AND again before every delivery, because a DNS name can start resolving
to an internal address after it was accepted. Every address a name resolves to must be public; redirects
are never followed by the sender, so a public host cannot bounce us inward either.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError


def _is_internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
        or not address.is_global
    )


def resolve(host: str, port: int) -> list[str]:
    try:
        return sorted({info[4][0] for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)})
    except (socket.gaierror, UnicodeError) as exc:
        raise ValidationError({"url": f"The host {host!r} does not resolve ({exc})."})


def check_target(url: str) -> None:
    """Raise ValidationError on `url` unless it is http(s) to public addresses only."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValidationError({"url": "Only http and https URLs can receive webhooks."})
    if not parts.hostname:
        raise ValidationError({"url": "The URL has no host."})
    if parts.username or parts.password:
        raise ValidationError({"url": "Put credentials in the secret, not in the URL."})
    if settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ValidationError({"url": "The URL has an invalid port."})
    for raw in resolve(parts.hostname, port):
        address = ipaddress.ip_address(raw.split("%", 1)[0])
        if _is_internal(address):
            raise ValidationError(
                {
                    "url": f"{parts.hostname} resolves to {address}, a loopback, private, link-local or "
                    "reserved address; webhooks may only target public hosts "
                    "(WEBHOOK_ALLOW_PRIVATE_TARGETS is false)."
                }
            )
