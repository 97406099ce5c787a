"""The HTTP client the Stripe SDK sends our calls through: urllib3's connection pool.

The SDK builds every request (URL, form encoding, headers: key, version, Idempotency-Key,
user agent) and interprets every answer (errors raised as its own exceptions); this only
moves the bytes. The SDK's default client goes through requests, whose per-call work
(preparing a Request, cookie jars on both sides, hooks, environment lookups) was about a
third of a payout's Stripe-call CPU; urllib3, which requests itself runs on, does none of
that. One pool for all threads; proxies are read from the environment once.
"""

from __future__ import annotations

import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

import stripe
import urllib3


def environment_proxy(api_base: str | None) -> str | None:
    """The proxy the environment (HTTPS_PROXY, NO_PROXY, ...) sets for Stripe's host,
    read once; None when there is none or the host bypasses it."""
    parts = urllib.parse.urlsplit(api_base or "https://api.stripe.com")
    proxies = urllib.request.getproxies()
    if not proxies or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return proxies.get(parts.scheme or "https")


class PooledHTTPClient(stripe.HTTPClient):
    """A ``stripe.HTTPClient`` on one urllib3 pool shared by every thread. Retries stay
    off here (ours are Dramatiq's); a transport failure becomes the SDK's
    ``APIConnectionError``, as with its own clients."""

    name = "urllib3"

    def __init__(self, timeout: float, api_base: str | None = None, max_connections: int = 64):
        super().__init__()
        options: dict[str, Any] = {
            "maxsize": max_connections, "retries": False,
            "timeout": urllib3.Timeout(connect=timeout, read=timeout),
            "ca_certs": stripe.ca_bundle_path, "cert_reqs": "CERT_REQUIRED"}
        proxy = environment_proxy(api_base)
        self._pool = (urllib3.ProxyManager(proxy, **options) if proxy
                      else urllib3.PoolManager(**options))

    def request(self, method: str, url: str, headers: Mapping[str, str] | None,
                post_data: Any = None) -> tuple[bytes, int, Mapping[str, str]]:
        try:
            response = self._pool.request(method.upper(), url, body=post_data,
                                          headers=dict(headers or {}), redirect=False)
        except urllib3.exceptions.HTTPError as error:
            raise stripe.APIConnectionError(
                f"Unexpected error communicating with Stripe ({type(error).__name__}: "
                f"{error})", should_retry=not isinstance(error, urllib3.exceptions.SSLError),
            ) from error
        return response.data, response.status, response.headers

    def request_stream(self, method: str, url: str, headers: Mapping[str, str] | None,
                       post_data: Any = None) -> tuple[Any, int, Mapping[str, str]]:
        raise NotImplementedError("no Stripe call of ours streams")

    def close(self) -> None:
        self._pool.clear()
