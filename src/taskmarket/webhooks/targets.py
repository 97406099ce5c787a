"""Webhook URLs checked when an endpoint is registered or its URL changes.

A URL whose host is, or resolves to, a loopback, private, link-local or otherwise
non-public address is refused with INVALID_INPUT on ``url`` (unless
TASKMARKET_WEBHOOK_ALLOW_PRIVATE=1), so a mistake or a probe shows at once instead of as
failed deliveries. This is a courtesy check: DNS answers change, so the connect-time check
(``ssrf.py``) stays the guard, and deliveries never follow redirects.

Numeric hosts are read the way the resolver reads them when connecting (``inet_aton``):
``0x7f000001``, ``2130706433``, ``127.1`` and ``0177.0.0.1`` all name 127.0.0.1. A name
that does not resolve now is accepted; it is checked again on every connection.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from ..domain import DomainError
from ..domain.webhook import check_url
from .ssrf import allow_private_from_env, refusal, resolve

# Only these characters can make an inet_aton number; anything else is a name.
_NUMERIC_V4 = re.compile(r"^[0-9a-fA-FxX.]+$")
Resolver = Callable[[str, int], list[str]]


def numeric_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host written as a number names, or None for a name."""
    bare = host.split("%")[0]  # an IPv6 zone ("fe80::1%eth0") does not change the address
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    candidate = bare[:-1] if bare.endswith(".") else bare
    if not _NUMERIC_V4.match(candidate) or not any(c.isdigit() for c in candidate):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(candidate))
    except OSError:
        return None


def is_localhost_name(host: str) -> bool:
    """``localhost`` and every name under it are loopback (RFC 6761)."""
    name = host.rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost")


def target_refusal(host: str, port: int, resolver: Resolver = resolve) -> str | None:
    """Why deliveries may not go to ``host``, or None when it looks public."""
    address = numeric_address(host)
    if address is not None:
        return refusal(str(address))
    if is_localhost_name(host):
        return f"{host} is a loopback name"
    try:
        addresses = resolver(host, port)
    except (socket.gaierror, UnicodeError, OSError):
        return None  # not resolvable now: the connect-time check judges it later
    for found in addresses:
        reason = refusal(found)
        if reason:
            return f"{host} resolves to {found}: {reason}"
    return None


def check_target(url: str, allow_private: bool | None = None,
                 resolver: Resolver = resolve) -> str:
    """The URL, checked for shape (domain rules) and destination; INVALID_INPUT otherwise."""
    url = check_url(url)
    if allow_private is None:
        allow_private = allow_private_from_env()
    if allow_private:
        return url
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    reason = target_refusal(parts.hostname or "", port, resolver)
    if reason:
        raise DomainError("INVALID_INPUT", f"url must point at a public address; {reason}",
                          ["url"])
    return url
