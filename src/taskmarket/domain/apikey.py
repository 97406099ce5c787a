"""API keys: only a hash of the secret is ever stored, in the key's Issued event."""

from __future__ import annotations

import enum
import hashlib
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from .errors import ensure
from .ids import api_key_id
from .values import NAME_LENGTH, check_text


class Role(str, enum.Enum):
    ADMIN = "ADMIN"
    REQUESTER = "REQUESTER"
    WORKER = "WORKER"
    FINANCE = "FINANCE"
    PARTNER = "PARTNER"


def a_key_of(role: Role) -> str:
    """"an ADMIN key", "a WORKER key": the article follows the sound of the role."""
    return ("an " if role.value[0] in "AEIOU" else "a ") + f"{role.value} key"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# Which kind of subject each role's key is bound to.
SUBJECT_OF_ROLE = {
    Role.REQUESTER: "requester",
    Role.PARTNER: "requester",
    Role.WORKER: "worker",
    Role.ADMIN: None,
    Role.FINANCE: None,
}


class ApiKey(Aggregate):
    @staticmethod
    def create_id(secret_hash: str) -> UUID:
        return api_key_id(secret_hash)

    @classmethod
    def issue(cls, secret: str, role: Role, name: str, subject_id: UUID | None) -> "ApiKey":
        name = check_text(name, "name", NAME_LENGTH)
        needs = SUBJECT_OF_ROLE[role]
        if needs is None:
            ensure(subject_id is None, "INVALID_INPUT",
                   f"{a_key_of(role)} is not bound to a requester or worker", ["requesterId"])
        else:
            ensure(subject_id is not None, "INVALID_INPUT",
                   f"{a_key_of(role)} needs a {needs}", [f"{needs}Id"])
        return cls(secret_hash=hash_secret(secret), role=role.value, name=name,
                   subject_id=subject_id)

    @event("Issued")
    def __init__(self, secret_hash: str, role: str, name: str, subject_id: UUID | None):
        self.secret_hash = secret_hash
        self.role = Role(role)
        self.name = name
        self.subject_id = subject_id
        self.revoked = False

    def revoke(self) -> None:
        if not self.revoked:
            self._revoked()

    @event("Revoked")
    def _revoked(self) -> None:
        self.revoked = True
