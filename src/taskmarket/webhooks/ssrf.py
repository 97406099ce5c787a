"""Refuse to connect webhooks to loopback, private, link-local and other non-public addresses.

The check runs on the address the socket actually connects to: the host is resolved inside
the connection step and the socket is opened to the very address that passed the check, so
a DNS answer that changes between a check and a connect (rebinding) cannot slip through.
TLS still uses the URL's host name for SNI and certificate checks, and the Host header is
unchanged, because httpcore passes the origin's name to TLS independently of the socket.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterable

import httpcore
import httpx

ALLOW_PRIVATE_ENV = "TASKMARKET_WEBHOOK_ALLOW_PRIVATE"


class AddressRefused(Exception):
    """The webhook's host resolves to an address deliveries may not go to."""


def allow_private_from_env() -> bool:
    return os.environ.get(ALLOW_PRIVATE_ENV, "") in ("1", "true", "yes")


def refusal(address: str) -> str | None:
    """Why ``address`` is not a public destination, or None when it is."""
    ip = ipaddress.ip_address(address.split("%")[0])
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:
        ip = mapped
    for reason, flag in (("loopback", ip.is_loopback), ("unspecified", ip.is_unspecified),
                         ("link-local", ip.is_link_local), ("multicast", ip.is_multicast),
                         ("private", ip.is_private), ("reserved", ip.is_reserved)):
        if flag:
            return f"{address} is a {reason} address"
    if not ip.is_global:
        return f"{address} is not a public address"
    return None


def resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check_addresses(host: str, addresses: Iterable[str], allow_private: bool) -> None:
    if allow_private:
        return
    for address in addresses:
        reason = refusal(address)
        if reason:
            raise AddressRefused(f"refused to deliver to {host}: {reason}")


class GuardedBackend(httpcore.SyncBackend):
    """Resolves, checks every address the host has, then connects to a checked one."""

    def __init__(self, allow_private: bool):
        self.allow_private = allow_private

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        try:
            addresses = resolve(host, port)
        except socket.gaierror as error:
            raise httpcore.ConnectError(f"cannot resolve {host}: {error}") from error
        check_addresses(host, addresses, self.allow_private)
        last: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address,
                                           socket_options)
            except httpcore.ConnectError as error:
                last = error
        raise last or httpcore.ConnectError(f"no address for {host}")


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with the guarded connection step and no proxies from the env."""

    def __init__(self, allow_private: bool, limits: httpx.Limits = httpx.Limits()):
        super().__init__(trust_env=False, limits=limits)
        # httpx has no option for a network backend; its pool is rebuilt with ours.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(allow_private),
        )


def guarded_client(allow_private: bool, timeout: float = 10.0,
                   max_connections: int = 64) -> httpx.Client:
    """An httpx client for deliveries: guarded addresses, no redirects, no env proxies."""
    limits = httpx.Limits(max_connections=max_connections,
                          max_keepalive_connections=max_connections)
    return httpx.Client(transport=GuardedTransport(allow_private, limits), timeout=timeout,
                        follow_redirects=False, trust_env=False)
