"""Domain errors. Each carries the data a caller needs to explain it; web/ turns them into HTTP."""
from __future__ import annotations


class DispatchError(Exception):
    """Base of every error the domain raises on purpose."""

    code = "dispatch_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(DispatchError):
    """Input that cannot become a ticket or an action (empty body, bad phone number...)."""

    code = "invalid_input"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class NotFound(DispatchError):
    code = "not_found"


class IllegalTransition(DispatchError):
    """The action is not allowed from the ticket's current state."""

    code = "illegal_transition"

    def __init__(self, state: str, action: str, ticket_number: str | None = None) -> None:
        super().__init__(f"cannot {action} a ticket that is {state}")
        self.state = state
        self.action = action
        self.ticket_number = ticket_number


class PermissionDenied(DispatchError):
    """The actor may not do this (e.g. a unit acting on another unit's ticket)."""

    code = "permission_denied"


class Conflict(DispatchError):
    """Someone else changed the ticket first; nothing of this attempt was written."""

    code = "conflict"


class StorageUnavailable(DispatchError):
    """The database cannot take writes now (read-only, full disk, unreachable); nothing of
    this attempt was written, and the same request will work once it is fixed."""

    code = "storage_unavailable"

    def __init__(self, reason: str, detail: str = "", retry_after: int = 30) -> None:
        super().__init__(f"database cannot take writes: {reason}" + (f" ({detail})" if detail else ""))
        self.reason = reason  # read_only, disk_full or unreachable
        self.detail = detail
        self.retry_after = retry_after
class RateLimited(DispatchError):
    """Too many attempts from one address, at one ticket or for one account: try again
    after `retry_after` seconds. The message is for the person and says so in Chinese."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, limit: str) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.limit = limit
