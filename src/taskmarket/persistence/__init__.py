"""Event store adapters: how the application's events reach PostgreSQL."""

from .recorder import GroupCommitRecorder

__all__ = ["GroupCommitRecorder"]
