"""Domain errors carry a stable UPPER_SNAKE code that clients can rely on."""

from __future__ import annotations


class DomainError(Exception):
    """An expected failure of a command: nothing was written."""

    def __init__(self, code: str, message: str, field: list[str] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def __repr__(self) -> str:
        return f"DomainError({self.code!r}, {self.message!r})"


def ensure(condition: bool, code: str, message: str, field: list[str] | None = None) -> None:
    """Raise a DomainError unless ``condition`` holds."""
    if not condition:
        raise DomainError(code, message, field)
