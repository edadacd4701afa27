"""Who acts on a ticket, and what their role lets them do."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_

from dispatch.errors import PermissionDenied, Reason
from dispatch.vocabulary import Role


@dataclass(frozen=True)
class Actor:
    """A staff member, a citizen (through a channel) or the system itself."""

    label: str
    user_id: int | None = None
    role: Role | None = None
    unit_id: int | None = None

    @classmethod
    def system(cls, what: str = "system") -> Actor:
        return cls(label=what)

    @classmethod
    def citizen(cls, channel: str) -> Actor:
        return cls(label=f"citizen:{channel}")

    @property
    def is_staff(self) -> bool:
        return self.role is not None

    @property
    def is_system(self) -> bool:
        return self.role is None and not self.label.startswith("citizen:")


def by_system(actor_label: Any) -> Any:
    """As SQL, of an event's actor label column: the system acted (the scheduler's chasing,
    "system:chasing", among them), not a person."""
    return or_(actor_label == "system", actor_label.like("system:%"))


# Roles that may dispatch (file, answer, transfer, merge); supervisors and admins may do
# everything operators do, and decide extensions and escalate.
DISPATCH_ROLES = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN})
SUPERVISING_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})


def require_role(actor: Actor, allowed: frozenset[Role], what: str) -> None:
    if actor.is_system:
        return
    if actor.role not in allowed:
        raise PermissionDenied(Reason.ROLE_NOT_ALLOWED, actor=actor.label,
                               role=actor.role.value if actor.role else "citizen", what=what)


def require_unit(actor: Actor, unit_id: int | None, what: str) -> None:
    """Unit staff act only on tickets that are with their own unit."""
    if actor.is_system:
        return
    if actor.role is Role.ADMIN:
        return
    if actor.role is not Role.UNIT_STAFF or actor.unit_id is None or actor.unit_id != unit_id:
        raise PermissionDenied(Reason.NOT_YOUR_UNIT, actor=actor.label, what=what)
