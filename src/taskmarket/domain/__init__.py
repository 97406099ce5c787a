"""The marketplace domain: aggregates, their events and their rules. Pure Python, no I/O."""

from .apikey import ApiKey, Role
from .errors import DomainError
from .money import Money
from .payout import Payout, PayoutStatus
from .requester import Requester
from .task import ClaimStatus, ReviewDecision, SubmissionStatus, Task, TaskStatus
from .worker import Worker

__all__ = [
    "ApiKey", "ClaimStatus", "DomainError", "Money", "Payout", "PayoutStatus", "Requester",
    "ReviewDecision", "Role", "SubmissionStatus", "Task", "TaskStatus", "Worker",
]
