"""A webhook endpoint: where a requester's events are POSTed, signed, in log order.

The signing secret is not in any event. Events carry only its SHA-256 (``secret_hash``);
the secret itself sits in an app-owned table (``webhook_secrets``) keyed by endpoint and
hash, written before the event that names it. Why: every event ends up in the event log,
its read model and backups that many roles can read, and an HMAC secret in there would let
any reader forge deliveries. Keeping the clear secret out of the log means no redaction
rule has to be remembered anywhere. The deliverer signs with the row whose hash matches
the endpoint's current ``secret_hash``, so a rotation whose event failed to save leaves
only an unused row behind, never a secret the endpoint did not agree to.

Delivery progress (cursor, attempts, retries) is not part of this aggregate: it changes on
every POST and is kept in the delivery tables. The aggregate records what people decided:
created, updated, disabled (with the reason its requester sees), enabled, secret rotated,
replay requested, redelivery requested.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from urllib.parse import urlsplit
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from .errors import ensure
from .values import check_text, unstorable

MAX_URL_LENGTH = 2048
SECRET_PREFIX = "whsec_"
MAX_REASON_LENGTH = 500


def new_secret() -> str:
    """A fresh signing secret (shown to its requester once, never put in an event; events
    carry its ``domain.apikey.hash_secret``, as API keys do)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)



def check_url(url: str) -> str:
    """An absolute http(s) URL with a host and no credentials; INVALID_INPUT otherwise."""
    url = (url or "").strip() if isinstance(url, str) or url is None else url
    ensure(isinstance(url, str) and 0 < len(url) <= MAX_URL_LENGTH, "INVALID_INPUT",
           f"url must be 1..{MAX_URL_LENGTH} characters", ["url"])
    ensure(unstorable(url) is None, "INVALID_INPUT",
           "url must not contain NUL or lone surrogates", ["url"])
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a port out of range
    except ValueError:
        parts, port = None, None
    ensure(parts is not None and parts.scheme in ("http", "https"), "INVALID_INPUT",
           "url must be an http or https URL", ["url"])
    assert parts is not None
    ensure(bool(parts.hostname), "INVALID_INPUT", "url must name a host", ["url"])
    ensure(parts.username is None and parts.password is None, "INVALID_INPUT",
           "url must not carry credentials; the signature authenticates deliveries", ["url"])
    ensure(port is None or port > 0, "INVALID_INPUT", "url has an invalid port", ["url"])
    ensure(not parts.fragment, "INVALID_INPUT", "url must not have a fragment", ["url"])
    return url


def check_event_types(event_types: list[str] | None, known: frozenset[str],
                      allowed: frozenset[str] | None = None,
                      audience: str = "REQUESTER") -> list[str]:
    """Distinct known types in the order given; empty means every type the owner may see.

    ``allowed`` are the types the ``audience`` (the configuring key's role) may read.
    """
    chosen: list[str] = []
    for name in event_types or []:
        name = (name or "").strip()
        ensure(name in known, "INVALID_INPUT", f"unknown event type {name!r}", ["eventTypes"])
        ensure(allowed is None or name in allowed, "INVALID_INPUT",
               f"a {audience} key may not receive {name} events", ["eventTypes"])
        if name not in chosen:
            chosen.append(name)
    return chosen


def check_position(position: int) -> int:
    ensure(isinstance(position, int) and position >= 0, "INVALID_INPUT",
           "a position is a non-negative integer", ["after"])
    return position


class WebhookEndpoint(Aggregate):
    @staticmethod
    def create_id(endpoint_id: UUID) -> UUID:
        return endpoint_id

    @classmethod
    def create(cls, url: str, event_types: list[str] | None, requester_id: UUID,
               owner_key_id: UUID | None, secret_hash: str, known_types: frozenset[str],
               now: datetime, endpoint_id: UUID | None = None, audience: str = "REQUESTER",
               allowed_types: frozenset[str] | None = None) -> "WebhookEndpoint":
        """``audience``: the role of the key configuring it; the endpoint receives what
        such a key may read (``allowed_types`` of the requester's events), no more."""
        return cls(endpoint_id=endpoint_id or uuid4(), url=check_url(url),
                   event_types=check_event_types(event_types, known_types, allowed_types,
                                                 audience),
                   requester_id=requester_id, owner_key_id=owner_key_id,
                   secret_hash=secret_hash, created_at=now, audience=audience)

    @event("Created")
    def __init__(self, endpoint_id: UUID, url: str, event_types: list[str],
                 requester_id: UUID, owner_key_id: UUID | None, secret_hash: str,
                 created_at: datetime, audience: str = "REQUESTER"):
        self.url = url
        self.event_types = list(event_types)
        self.audience = audience  # endpoints created before audiences were REQUESTER's
        self.requester_id = requester_id
        self.owner_key_id = owner_key_id
        self.secret_hash = secret_hash
        self.created_at = created_at
        self.enabled = True
        self.disabled_reason: str | None = None
        self.replays = 0
        self.redeliveries = 0

    # --- configuration --------------------------------------------------------------
    def update(self, url: str | None, event_types: list[str] | None,
               known_types: frozenset[str], audience: str | None = None,
               allowed_types: frozenset[str] | None = None) -> bool:
        """Change the URL and/or the types; False when nothing changes.

        The endpoint then delivers what the updating key (role ``audience``) may read: a
        PARTNER key pointing a REQUESTER's endpoint elsewhere gets no funding events.
        """
        audience = audience or self.audience
        new_url = self.url if url is None else check_url(url)
        new_types = check_event_types(self.event_types if event_types is None
                                      else event_types, known_types, allowed_types, audience)
        if (new_url, new_types, audience) == (self.url, self.event_types, self.audience):
            return False
        self._updated(url=new_url, event_types=new_types, audience=audience)
        return True

    @event("Updated")
    def _updated(self, url: str, event_types: list[str], audience: str | None = None) -> None:
        self.url = url
        self.event_types = list(event_types)
        self.audience = audience or self.audience

    def rotate_secret(self, secret_hash: str) -> None:
        self._secret_rotated(secret_hash=secret_hash)

    @event("SecretRotated")
    def _secret_rotated(self, secret_hash: str) -> None:
        self.secret_hash = secret_hash

    # --- switching on and off -------------------------------------------------------
    def disable(self, reason: str, now: datetime) -> bool:
        """Stop deliveries; the reason is shown to the endpoint's requester."""
        reason = check_text(reason or "", "reason", MAX_REASON_LENGTH,
                            required=False) or "disabled"
        if not self.enabled:
            return False
        self._disabled(reason=reason, disabled_at=now)
        return True

    @event("Disabled")
    def _disabled(self, reason: str, disabled_at: datetime) -> None:
        self.enabled = False
        self.disabled_reason = reason

    def enable(self) -> bool:
        """Resume deliveries from the first event not yet delivered."""
        if self.enabled:
            return False
        self._enabled()
        return True

    @event("Enabled")
    def _enabled(self) -> None:
        self.enabled = True
        self.disabled_reason = None

    # --- re-sending -----------------------------------------------------------------
    def request_replay(self, after: int) -> None:
        """Deliver again every matching event after ``after`` (a log position)."""
        self._replay_requested(after=check_position(after), replay=self.replays + 1)

    @event("ReplayRequested")
    def _replay_requested(self, after: int, replay: int) -> None:
        self.replays = replay

    def request_redelivery(self, delivery_id: UUID) -> None:
        """Send the event of one logged delivery once more, outside the ordered stream."""
        self._redelivery_requested(delivery_id=delivery_id,
                                   redelivery=self.redeliveries + 1)

    @event("RedeliveryRequested")
    def _redelivery_requested(self, delivery_id: UUID, redelivery: int) -> None:
        self.redeliveries = redelivery
