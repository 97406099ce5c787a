"""Who is calling (the viewer behind an API key) and what each role may do."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from ..domain import DomainError, Role
from ..domain.apikey import a_key_of

BEARER = "bearer "
# The roles a mutation may require (run_mutation's ``roles``).
ADMIN = (Role.ADMIN,)
REQUESTER = (Role.REQUESTER,)
WORKER = (Role.WORKER,)
MONEY_KEEPERS = (Role.FINANCE, Role.ADMIN)


@dataclass(frozen=True)
class Viewer:
    role: Role
    subject_id: UUID | None
    key_name: str
    key_id: UUID | None = None

    @property
    def requester_id(self) -> UUID | None:
        """The requester this key acts for (REQUESTER) or reads for (PARTNER)."""
        if self.role in (Role.REQUESTER, Role.PARTNER):
            return self.subject_id
        return None

    @property
    def worker_id(self) -> UUID | None:
        return self.subject_id if self.role == Role.WORKER else None

    @property
    def sees_everything(self) -> bool:
        return self.role in (Role.ADMIN, Role.FINANCE)


def secret_from_header(value: str | None) -> str | None:
    """The API key in an "Authorization: Bearer <key>" value, or None."""
    if not value or not value.lower().startswith(BEARER):
        return None
    return value[len(BEARER):].strip() or None


def forbidden_command(message: str = "your API key may not do this",
              field: list[str] | None = None) -> DomainError:
    return DomainError("FORBIDDEN", message, field)


def require(viewer: Viewer, *roles: Role) -> Viewer:
    """The viewer, when its role is one of ``roles``; FORBIDDEN otherwise."""
    if viewer.role not in roles:
        allowed = " or ".join(a_key_of(role) for role in roles)
        raise forbidden_command(f"this needs {allowed}; yours is {a_key_of(viewer.role)}")
    return viewer
