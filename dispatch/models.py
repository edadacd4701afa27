"""Every table, on one MetaData with a naming convention so migrations name constraints alike."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Open tickets (not finished: dispatch/states.py), as the partial index of their deadlines has them.
OPEN_DEADLINE = "state IN ('received', 'transferred', 'returned', 'in_progress', 'reopened')"
# A unit's notices it has not read, as the partial index of them has them.
UNREAD = "read_at IS NULL"
# Tickets a unit holds (dispatch/states.py: UNIT_STATES) and parts still owed (dispatch/parts.py:
# owed), as the scheduler's partial indexes have them: its passes read them by deadline.
UNIT_HELD = "state IN ('transferred', 'in_progress', 'reopened')"
OWED_PART = "role IN ('co', 'forward') AND outcome IN ('pending', 'accepted') AND part_reply IS NULL"
# Parts their unit answered (only a part has a reply), as the partial index of them has them.
ANSWERED_PART = "part_reply IS NOT NULL"
# Shift handovers no operator has acknowledged yet (接班), as the partial index of them has them.
NOT_ACKNOWLEDGED = "acknowledged_at IS NULL"

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes in Python, naive UTC in the database: SQLite keeps no zone."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Unit(Base):
    """A responsible unit (承办单位): a municipal department or a township government."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The unit's duty phone (值班电话): chasing texts go there (dispatch/notices.py).
    duty_phone: Mapped[str | None] = mapped_column(String(40))

    parent: Mapped[Unit | None] = relationship(remote_side=[id], lazy="raise")


class CatalogueVersion(Base):
    """One version of the dispatch catalogue: the seeding from the city file, then one per
    change a supervisor saves. New tickets take the entries of the newest version."""

    __tablename__ = "catalogue_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)


class CatalogueEntry(Base):
    """A level-3 category of the dispatch catalogue (派单目录) as one version had it: where it
    goes (a unit, or the township where it happened) and the terms that find it in a text.
    A change writes a new row and marks this one retired; rows are never edited otherwise,
    so tickets keep pointing at the entry they were dispatched under."""

    __tablename__ = "catalogue_entries"
    __table_args__ = (Index("ix_catalogue_entries_code_retired", "code", "retired_version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20))
    version_id: Mapped[int] = mapped_column(ForeignKey("catalogue_versions.id"))
    # The version that replaced this row; None while it is current.
    retired_version_id: Mapped[int | None] = mapped_column(ForeignKey("catalogue_versions.id"))
    level1: Mapped[str] = mapped_column(String(50))
    level2: Mapped[str] = mapped_column(String(50))
    level3: Mapped[str] = mapped_column(String(50))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    # 属地: the township where it happened handles it (unit_id, if any, when no place is named).
    local: Mapped[bool] = mapped_column(Boolean, default=False)
    deadline_class: Mapped[str | None] = mapped_column(String(20))
    terms: Mapped[list[str]] = mapped_column(JSON)


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    # The username as people read it (NFKC, case folded: dispatch/staff.py), unique so that
    # "Admin" and "admin" added at the same moment cannot both be stored. 80 characters of
    # at most 18 each after NFKC (ﷺ). NULL only for an account that already read like an
    # older one when the key came (migration 0039): the older one holds the key.
    username_key: Mapped[str | None] = mapped_column(String(1440), unique=True, index=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # The phone an operator answers at (分机号, "7001" of the PBX's PJSIP/7001): the call
    # figures name the operator instead of the phone. One account a phone.
    phone_extension: Mapped[str | None] = mapped_column(String(40), unique=True, index=True)


class ApiToken(Base):
    """A bearer token of the staff API. Only its SHA-256 is kept; the user's role and unit
    are read from the user row on every request, so deactivating the user ends the token."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class TicketSequence(Base):
    """The last ticket number handed out on a day; numbers are date + daily sequence."""

    __tablename__ = "ticket_sequences"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_received_at", "received_at"),
        Index("ix_tickets_phone_received_at", "phone", "received_at"),
        # A unit's open tickets by deadline, a page at a time (dispatch/unit_inbox.py).
        Index("ix_tickets_unit_id_state_deadline", "unit_id", "state", "deadline", "received_at", "id"),
        Index("ix_tickets_state_deadline", "state", "deadline"),
        # The queues in order and the figures per channel from the index alone (migration 0026).
        Index("ix_tickets_state_received_at", "state", "received_at"),
        Index("ix_tickets_state_resolved_at", "state", "resolved_at", "id"),
        Index("ix_tickets_unit_id_resolved_at", "unit_id", "resolved_at"),
        Index("ix_tickets_received_at_channel_state", "received_at", "channel", "state"),
        # The hotspots' cells (category x township x day) from the index alone.
        Index("ix_tickets_received_at_hotspot_cells", "received_at", "category", "township", "unit_id", "state"),
        # The chasing lists a page at a time, soonest deadline first (migration 0028).
        Index("ix_tickets_open_deadline", "deadline", "received_at", "id",
              postgresql_where=text(OPEN_DEADLINE), sqlite_where=text(OPEN_DEADLINE)),
        # The chasing passes' overdue and near-due tickets from the index alone (migration 0034).
        Index("ix_tickets_unit_held_deadline", "deadline", "id", "unit_id",
              postgresql_where=text(UNIT_HELD), sqlite_where=text(UNIT_HELD)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    query_code: Mapped[str] = mapped_column(String(6))
    channel: Mapped[str] = mapped_column(String(10))
    request_type: Mapped[str] = mapped_column(String(20))
    urgency: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(20))
    name: Mapped[str | None] = mapped_column(String(100))
    location: Mapped[str | None] = mapped_column(String(300))
    # The township unit code its words name, found at intake (dispatch/townships.py); NULL: none named.
    township: Mapped[str | None] = mapped_column(String(64))
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    # active_history: the running totals need the value a change replaces (rollup.py).
    category: Mapped[str | None] = mapped_column(String(50), active_history=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), active_history=True)
    state: Mapped[str] = mapped_column(String(20), active_history=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    deadline: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, active_history=True)
    # Indexed: every ticket page and API detail lists the duplicates that follow a ticket.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    reply: Mapped[str | None] = mapped_column(Text)
    # What routing proposed at intake (unit, why, top suggestions): shown to the operator.
    routing: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Summary of the event log, kept in the same transaction as each event so that figures
    # over a million tickets are one indexed scan; reports.recount_from_events() checks them.
    transfer_count: Mapped[int] = mapped_column(Integer, default=0, active_history=True)
    accepted_transfer_count: Mapped[int] = mapped_column(Integer, default=0, active_history=True)
    return_count: Mapped[int] = mapped_column(Integer, default=0, active_history=True)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, active_history=True)
    resolved_on_time: Mapped[bool | None] = mapped_column(Boolean, active_history=True)
    rating: Mapped[str | None] = mapped_column(String(20), active_history=True)
    # 回访: which channel the rating came by (phone, web, sms), and unanswered follow-up calls.
    rating_channel: Mapped[str | None] = mapped_column(String(10), active_history=True)
    follow_up_attempts: Mapped[int] = mapped_column(Integer, default=0, active_history=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    close_reason: Mapped[str | None] = mapped_column(String(20))
    handover_to: Mapped[str | None] = mapped_column(String(3), active_history=True)
    # A unit's re-dispatch request waiting for a supervisor: kept on the ticket so that the
    # version check catches two requests (or two decisions) racing.
    open_dispute_id: Mapped[int | None] = mapped_column(Integer)
    # The dispatch catalogue entry (派单目录) proposed at intake, then the one it was transferred
    # under. Entry rows are never changed in place, so the ticket keeps the entry as it was.
    catalogue_entry_id: Mapped[int | None] = mapped_column(ForeignKey("catalogue_entries.id"), index=True,
                                                           active_history=True)
    # The entry's deadline class (urgent, quick) that set the deadline at the last dispatch;
    # None under the normal class (the deadline by request type, from receipt).
    deadline_class: Mapped[str | None] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer, default=1)

    unit: Mapped[Unit | None] = relationship(lazy="raise", foreign_keys=[unit_id])

    # Optimistic locking: of two people acting on one ticket at once, the second gets Conflict.
    __mapper_args__ = {"version_id_col": version}


class IntakeSource(Base):
    """One submission that fed a ticket: a call, an SMS, a web form. Nothing is dropped:
    a repeated complaint is stored here against the open ticket it repeats."""

    __tablename__ = "intake_sources"
    __table_args__ = (UniqueConstraint("channel", "channel_ref", name="uq_intake_sources_channel_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    channel_ref: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    body: Mapped[str] = mapped_column(Text)
    # The call an operator filed this from. The call's row may be written after the ticket
    # (the bridge records a call as it goes): the recorder links them when it arrives.
    call_linkedid: Mapped[str | None] = mapped_column(String(64), index=True)


class TicketEvent(Base):
    """Append-only: one row per change. Never updated or deleted: db.py's guard in the ORM,
    triggers in the database, and a hash chain that `hotline audit verify` checks."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_ticket_id_id", "ticket_id", "id"),
                      # The reports' escalations of a period (dispatch/periodic_reports.py).
                      Index("ix_ticket_events_action_at", "action", "at"),
                      Index("ix_ticket_events_ticket_id_action", "ticket_id", "action"),
                      # The tickets changed since a moment (the staff API's updated_since).
                      Index("ix_ticket_events_at_ticket_id", "at", "ticket_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Hash chain per ticket (dispatch/audit.py): the previous event's hash, and this one's.
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))

    # Set with every new event: a new ticket and its first event go in one flush, and the
    # outbox hook finds the ticket of a pending event without a query.
    ticket: Mapped[Ticket] = relationship(lazy="raise", foreign_keys=[ticket_id])


class Transfer(Base):
    """One hand-over to a unit (the routing row): the unit's answer to it and its result."""

    __tablename__ = "transfers"
    __table_args__ = (Index("ix_transfers_unit_id_transferred_at", "unit_id", "transferred_at"),
                      # The month's transfers per unit (dispatch/assessment.py: 响应率).
                      Index("ix_transfers_received_day_unit_id", "received_day", "unit_id"),
                      # The parts a unit owes (协办, 二次派单), without its every lead transfer.
                      Index("ix_transfers_unit_id_role_outcome", "unit_id", "role", "outcome"),
                      # Every part still owed, for the chasing passes (migration 0034).
                      Index("ix_transfers_owed", "unit_id", "ticket_id",
                            postgresql_where=text(OWED_PART), sqlite_where=text(OWED_PART)),
                      # What a unit answered of its parts lately, on its inbox (migration 0042).
                      Index("ix_transfers_answered", "unit_id", "resolved_at",
                            postgresql_where=text(ANSWERED_PART), sqlite_where=text(ANSWERED_PART)))


    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), active_history=True)
    # China date the ticket was received: unit figures group transfers by it.
    received_day: Mapped[dt.date] = mapped_column(Date, active_history=True)
    transferred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(10), active_history=True)
    responded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    return_reason: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, active_history=True)
    resolved_on_time: Mapped[bool | None] = mapped_column(Boolean, active_history=True)
    routing: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # lead (主办), co (协办: a part beside the lead) or forward (二次派单: the lead unit's own
    # sub-unit). Parts point at the lead transfer they belong to; a part's reply and its
    # on-time flag are the part unit's own figures (dispatch/parts.py).
    role: Mapped[str] = mapped_column(String(10), default="lead", server_default="lead", active_history=True)
    lead_transfer_id: Mapped[int | None] = mapped_column(ForeignKey("transfers.id"), index=True)
    part_reply: Mapped[str | None] = mapped_column(Text)
    # A supervisor let the lead resolve without this part's reply (the override is an event).
    waived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ExtensionRequest(Base):
    __tablename__ = "extension_requests"
    # The requests waiting for a supervisor, oldest first, a page at a time (migration 0028).
    __table_args__ = (Index("ix_extension_requests_status_requested_at", "status", "requested_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    working_days: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)


class Dispute(Base):
    """改派申请: a unit that accepted a ticket says it is not theirs; a supervisor decides."""

    __tablename__ = "disputes"
    __table_args__ = (Index("ix_disputes_raised_at", "raised_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    raised_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    raised_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)


class FlaggedNumber(Base):
    """A number staff flagged as malicious (骚扰、恶意来电); its later contacts show the flag.
    Clearing a flag keeps the row, with who cleared it and when."""

    __tablename__ = "flagged_numbers"
    __table_args__ = (Index("ix_flagged_numbers_phone", "phone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    flagged_by: Mapped[str] = mapped_column(String(100))
    flagged_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    cleared_by: Mapped[str | None] = mapped_column(String(100))
    cleared_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Call(Base):
    """One call to the hotline, rebuilt from AMI events; written idempotently by Linkedid."""

    __tablename__ = "calls"
    __table_args__ = (Index("ix_calls_entered_queue_at", "entered_queue_at"),
                      Index("ix_calls_started_at", "started_at"))

    # active_history on the columns the call figures count: their running totals need the
    # value a change replaces (dispatch/call_totals.py).
    id: Mapped[int] = mapped_column(primary_key=True)
    linkedid: Mapped[str] = mapped_column(String(64), unique=True)
    caller: Mapped[str | None] = mapped_column(String(40))
    dialed: Mapped[str | None] = mapped_column(String(40))
    ivr_choice: Mapped[str | None] = mapped_column(String(40))
    queue: Mapped[str | None] = mapped_column(String(80), active_history=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    entered_queue_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, active_history=True)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, active_history=True)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    agent: Mapped[str | None] = mapped_column(String(120), active_history=True)
    agent_name: Mapped[str | None] = mapped_column(String(120))
    agents_rung: Mapped[list[str] | None] = mapped_column(JSON)
    ring_no_answers: Mapped[int] = mapped_column(Integer, default=0)
    hangup_cause: Mapped[str | None] = mapped_column(String(80))
    wait_seconds: Mapped[float | None] = mapped_column(active_history=True)
    talk_seconds: Mapped[float | None] = mapped_column(active_history=True)
    outcome: Mapped[str] = mapped_column(String(20), active_history=True)
    transferred_to: Mapped[str | None] = mapped_column(String(120))
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))


class TicketRollup(Base):
    """Running totals per (day received, category, current unit): see dispatch/rollup.py."""

    __tablename__ = "ticket_rollup"
    __table_args__ = (UniqueConstraint("day", "category", "unit_id", name="uq_ticket_rollup_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date)
    category: Mapped[str] = mapped_column(String(50))   # '' for none
    unit_id: Mapped[int] = mapped_column(Integer)        # current unit; 0 for none
    received: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    transferred: Mapped[int] = mapped_column(Integer, default=0)
    transfers: Mapped[int] = mapped_column(Integer, default=0)
    accepted_transfers: Mapped[int] = mapped_column(Integer, default=0)
    returned_transfers: Mapped[int] = mapped_column(Integer, default=0)
    resolved: Mapped[int] = mapped_column(Integer, default=0)
    resolved_on_time: Mapped[int] = mapped_column(Integer, default=0)
    rated: Mapped[int] = mapped_column(Integer, default=0)
    satisfied_or_partly: Mapped[int] = mapped_column(Integer, default=0)
    followed_up: Mapped[int] = mapped_column(Integer, default=0)
    rated_phone: Mapped[int] = mapped_column(Integer, default=0)
    rated_web: Mapped[int] = mapped_column(Integer, default=0)
    rated_sms: Mapped[int] = mapped_column(Integer, default=0)
    handed_over: Mapped[int] = mapped_column(Integer, default=0)
    invalid: Mapped[int] = mapped_column(Integer, default=0)
    merged: Mapped[int] = mapped_column(Integer, default=0)
    pending: Mapped[int] = mapped_column(Integer, default=0)
    in_progress: Mapped[int] = mapped_column(Integer, default=0)
    resolved_bucket: Mapped[int] = mapped_column(Integer, default=0)


class TransferRollup(Base):
    """Running totals of transfers per (day the ticket was received, unit)."""

    __tablename__ = "transfer_rollup"
    __table_args__ = (UniqueConstraint("day", "unit_id", name="uq_transfer_rollup_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date)
    unit_id: Mapped[int] = mapped_column(Integer)
    transfers: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    returned: Mapped[int] = mapped_column(Integer, default=0)
    resolved: Mapped[int] = mapped_column(Integer, default=0)
    resolved_on_time: Mapped[int] = mapped_column(Integer, default=0)


class TicketChannelRollup(Base):
    """Tickets per (day received, channel, emergency number handed over to): received, and
    how many are resolved or answered now (dispatch/rollup.py)."""

    __tablename__ = "ticket_channel_rollup"
    __table_args__ = (UniqueConstraint("day", "channel", "handed_over_to", name="uq_ticket_channel_rollup_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(10))
    handed_over_to: Mapped[str] = mapped_column(String(3))   # 即时转: 110, 119...; '' for the others
    received: Mapped[int] = mapped_column(Integer, default=0)
    resolved: Mapped[int] = mapped_column(Integer, default=0)


class OpenTicketRollup(Base):
    """Open tickets with a deadline per (day received, category, current unit, China day of
    the deadline): the overdue count without reading the overdue tickets (dispatch/rollup.py)."""

    __tablename__ = "open_ticket_rollup"
    __table_args__ = (UniqueConstraint("day", "category", "unit_id", "deadline_day",
                                       name="uq_open_ticket_rollup_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date)
    category: Mapped[str] = mapped_column(String(50))   # '' for none
    unit_id: Mapped[int] = mapped_column(Integer)        # 0 for none
    deadline_day: Mapped[dt.date] = mapped_column(Date)
    tickets: Mapped[int] = mapped_column(Integer, default=0)


class CatalogueRollup(Base):
    """Tickets per (day received, dispatch catalogue entry, deadline day): the figures per
    catalogue level (dispatch/catalogue_figures.py) without reading the period's tickets
    (dispatch/rollup.py). The deadline day is the China day of an open ticket's deadline, so that
    the overdue ones are counted as reports._overdue counts them; a finished ticket, or one
    without a deadline, sits under the day it was received."""

    __tablename__ = "catalogue_rollup"
    __table_args__ = (UniqueConstraint("day", "catalogue_entry_id", "deadline_day", name="uq_catalogue_rollup_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date)
    catalogue_entry_id: Mapped[int] = mapped_column(Integer)   # 0 for none
    deadline_day: Mapped[dt.date] = mapped_column(Date)
    received: Mapped[int] = mapped_column(Integer, default=0)
    transferred: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    resolved: Mapped[int] = mapped_column(Integer, default=0)   # resolved at least once
    resolved_on_time: Mapped[int] = mapped_column(Integer, default=0)
    rated: Mapped[int] = mapped_column(Integer, default=0)
    satisfied_or_partly: Mapped[int] = mapped_column(Integer, default=0)
    open_with_deadline: Mapped[int] = mapped_column(Integer, default=0)


class CallRollup(Base):
    """Calls offered to a queue per (grouping, China day they entered the queue, queue or
    answering agent, step of the wait): see dispatch/call_totals.py."""

    __tablename__ = "call_rollup"
    __table_args__ = (UniqueConstraint("grouped_by", "day", "name", "wait", name="uq_call_rollup_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grouped_by: Mapped[str] = mapped_column(String(5))   # queue, agent
    day: Mapped[dt.date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(120))       # the queue or the agent; '' for none
    wait: Mapped[int] = mapped_column(Integer)           # waited no longer than this (totals_sql.WAIT_STEPS)
    offered: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    abandoned: Mapped[int] = mapped_column(Integer, default=0)
    waited: Mapped[int] = mapped_column(Integer, default=0)      # answered, with a known wait
    wait_sum: Mapped[float] = mapped_column(Float, default=0.0)  # their seconds waited
    talked: Mapped[int] = mapped_column(Integer, default=0)      # answered, with a known talk time
    talk_sum: Mapped[float] = mapped_column(Float, default=0.0)


class Callback(Base):
    """回拨: a missed (abandoned or lost) call waiting for someone to call the citizen back."""

    __tablename__ = "callbacks"
    __table_args__ = (Index("ix_callbacks_status_created_at", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), unique=True)
    caller: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10))          # pending, done
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_result: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    done_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    note: Mapped[str | None] = mapped_column(Text)
    # Who placed the last attempt, for its row (最近回拨：姓名 时间 结果); every attempt's is
    # in callback_attempts. None before migration 0054 and for the system's.
    last_attempt_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))


class CallbackAttempt(Base):
    """One try at calling a missed call back, and who placed it: the handover lists first the
    callbacks an operator tried without reaching anyone, which the callbacks row (edited in
    place) cannot tell once someone else tries after them."""

    __tablename__ = "callback_attempts"
    __table_args__ = (Index("ix_callback_attempts_staff_id_callback_id", "staff_id", "callback_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    callback_id: Mapped[int] = mapped_column(ForeignKey("callbacks.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    result: Mapped[str] = mapped_column(Text)
    reached: Mapped[bool] = mapped_column(Boolean)


class QueueLogRow(Base):
    """Asterisk's realtime queue_log (extconfig.conf ``queue_log => pgsql,...``): written by
    the PBX, read by the AMI bridge to recover calls made while its link was down. Columns as
    Asterisk's own schema has them; ``time`` is the PBX's local time."""

    __tablename__ = "queue_log"
    __table_args__ = (Index("ix_queue_log_time", "time"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    time: Mapped[dt.datetime | None] = mapped_column(DateTime)
    callid: Mapped[str | None] = mapped_column(String(80))
    queuename: Mapped[str | None] = mapped_column(String(256))
    agent: Mapped[str | None] = mapped_column(String(80))
    event: Mapped[str | None] = mapped_column(String(32))
    data1: Mapped[str | None] = mapped_column(String(100))
    data2: Mapped[str | None] = mapped_column(String(100))
    data3: Mapped[str | None] = mapped_column(String(100))
    data4: Mapped[str | None] = mapped_column(String(100))
    data5: Mapped[str | None] = mapped_column(String(100))


class AgentStatus(Base):
    """An operator's phone as the PBX last reported it (for consoles and the wall screen)."""

    __tablename__ = "agent_status"

    interface: Mapped[str] = mapped_column(String(120), primary_key=True)
    member_name: Mapped[str | None] = mapped_column(String(120))
    queues: Mapped[list[str] | None] = mapped_column(JSON)
    logged_in: Mapped[bool] = mapped_column(Boolean, default=False)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    ringing: Mapped[bool] = mapped_column(Boolean, default=False)
    on_call: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # 示忙: the PBX's PausedReason and since when; the pauses that ended on the China day
    # paused_day add up in paused_seconds (a new day starts again from nothing).
    paused_reason: Mapped[str | None] = mapped_column(String(120))
    paused_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    paused_seconds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    paused_day: Mapped[dt.date | None] = mapped_column(Date)


class OutboxMessage(Base):
    """A text message to a citizen, written in the same transaction as the change it tells
    about and sent after commit by the outbox worker (dispatch/outbox.py)."""

    __tablename__ = "sms_outbox"
    # One message per (event, kind): a change can never be told twice.
    __table_args__ = (UniqueConstraint("event_id", "kind", name="uq_sms_outbox_event_kind"),
                      Index("ix_sms_outbox_status_next_attempt_at", "status", "next_attempt_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_events.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # pending -> sending -> submitted (Twilio took it) | failed | opted_out
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    first_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # What Twilio's status callbacks said last: queued, sent, delivered, undelivered, failed.
    delivery_status: Mapped[str | None] = mapped_column(String(20))
    error_code: Mapped[str | None] = mapped_column(String(10))
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The template's variables (dispatch/notifications.TEMPLATES) for a provider that sends
    # by approved template (Alibaba Cloud); the body is the same text filled in.
    template_params: Mapped[dict[str, str] | None] = mapped_column(JSON)

    event: Mapped[TicketEvent | None] = relationship(lazy="raise")
    ticket: Mapped[Ticket | None] = relationship(lazy="raise", foreign_keys=[ticket_id])


class Notice(Base):
    """Something a unit is told (near due, overdue, escalated, the daily digest), shown in
    its inbox until read. The unique (unit, key) makes each notice once only: the key names
    the ticket, the kind and the deadline or step it is about (dispatch/notices.py).

    A notice has one addressee: a unit (unit_id), or, for supervisors (dispatch/staff_notices.py),
    the one who escalated (staff_id) or every supervisor (role), each unique with the key too."""

    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("unit_id", "key", name="uq_notices_unit_key"),
                      UniqueConstraint("staff_id", "key", name="uq_notices_staff_key"),
                      UniqueConstraint("role", "key", name="uq_notices_role_key"),
                      Index("ix_notices_unit_id_id", "unit_id", "id"),
                      # The unread ones alone, counted on every visit of the inbox (migration 0032).
                      Index("ix_notices_unit_id_unread", "unit_id", "id",
                            postgresql_where=text(UNREAD), sqlite_where=text(UNREAD)))

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    role: Mapped[str | None] = mapped_column(String(20))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # A supervisors' notice of a request: "decided" (settled_by: who decided) or "lapsed" (the
    # ticket left the unit first); None while it waits, and on every other notice (migration 0050).
    settled: Mapped[str | None] = mapped_column(String(10))
    settled_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))


class UnitWebhook(Base):
    """Where a unit's own case system hears of its tickets (dispatch/webhooks.py): one URL
    and the secret the POSTs are signed with (kept as is: signing needs it)."""

    __tablename__ = "unit_webhooks"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class WebhookDelivery(Base):
    """One event POSTed to a unit's webhook: written in the transaction of the change, sent
    after commit with retries, and kept as the unit's delivery log."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
                      Index("ix_webhook_deliveries_unit_id_id", "unit_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    # Sent as X-Hotline-Delivery and in the body: a receiver drops a delivery it has seen.
    delivery_id: Mapped[str] = mapped_column(String(40), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    event_type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)  # the exact JSON body, signed at each attempt
    # pending -> sending -> delivered | failed (given up)
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    response_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class SmsInbound(Base):
    """Every text received, with the reply given: a retried webhook gets the same answer,
    and the recent count per sender is the flood throttle's measure."""

    __tablename__ = "sms_inbound"
    __table_args__ = (Index("ix_sms_inbound_sender_received_at", "sender", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_sid: Mapped[str] = mapped_column(String(64), unique=True)
    sender: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    body: Mapped[str] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(20))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    reply: Mapped[str | None] = mapped_column(Text)


class SmsOptOut(Base):
    """A number that texted TD/STOP: no notifications until it texts START."""

    __tablename__ = "sms_opt_outs"

    phone: Mapped[str] = mapped_column(String(40), primary_key=True)
    opted_out_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    keyword: Mapped[str] = mapped_column(String(20))


class RoutingExample(Base):
    """A ticket whose unit an operator corrected (or re-routed after a return): its final
    category is a labeled example that `hotline classifier retrain` folds in."""

    __tablename__ = "routing_examples"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(String(50))
    unit_code: Mapped[str] = mapped_column(String(64))
    proposed_unit_code: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(30))      # operator_correction, return_reroute
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class RoutingOutcome(Base):
    """What became of the classifier's proposal for one ticket (dispatch/routing_feedback.py):
    written at its first transfer, updated at each transfer and return. The supervisor's
    acceptance figures are counts over these rows."""

    __tablename__ = "routing_outcomes"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    proposed_category: Mapped[str] = mapped_column(String(50))
    proposed_unit_code: Mapped[str | None] = mapped_column(String(64))
    automatic: Mapped[bool] = mapped_column(Boolean)     # at or above the threshold when proposed
    first_unit_code: Mapped[str] = mapped_column(String(64))
    final_unit_code: Mapped[str] = mapped_column(String(64))
    final_category: Mapped[str | None] = mapped_column(String(50))
    unit_accepted: Mapped[bool] = mapped_column(Boolean)
    category_accepted: Mapped[bool] = mapped_column(Boolean)
    corrected: Mapped[bool] = mapped_column(Boolean)     # the operator's first transfer went elsewhere
    returned: Mapped[bool] = mapped_column(Boolean)      # a unit returned it at least once


class RoutingRollup(Base):
    """Routing outcomes per (China day the ticket was received, proposed category): the
    supervisor's acceptance figures without reading every outcome of the period
    (dispatch/routing_feedback.py)."""

    __tablename__ = "routing_rollup"
    __table_args__ = (UniqueConstraint("day", "category", name="uq_routing_rollup_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date)
    category: Mapped[str] = mapped_column(String(50))
    proposals: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    automatic: Mapped[int] = mapped_column(Integer, default=0)
    corrected: Mapped[int] = mapped_column(Integer, default=0)
    returned: Mapped[int] = mapped_column(Integer, default=0)


class RoutingRule(Base):
    """A rule staff added on the rules page: any of these phrases sends a ticket to this unit.
    Never deleted: a removed rule keeps who removed it and when (the rules' audit log)."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    phrases: Mapped[list[str]] = mapped_column(JSON)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(100))
    removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    removed_by: Mapped[str | None] = mapped_column(String(100))

    unit: Mapped[Unit] = relationship(lazy="raise")


class RateCounter(Base):
    """Hits of one limit (key) within one fixed window: counted in the database so that every
    web process and worker sees the same totals (dispatch/rate_counters.py)."""

    __tablename__ = "rate_counters"
    __table_args__ = (Index("ix_rate_counters_expires_at", "expires_at"),)

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[dt.datetime] = mapped_column(UTCDateTime, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class IdempotencyKey(Base):
    """A client's Idempotency-Key on a POST that files a ticket, with the first answer to it:
    a retry with the same key and body gets that answer again, from any web process
    (dispatch/idempotency.py). Kept a day."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_created_at", "created_at"),)

    scope: Mapped[str] = mapped_column(String(120), primary_key=True)   # who: "api:ADDRESS", "open311:CLIENT"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))                # the request's route and body, hashed
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[int | None] = mapped_column(Integer)                 # None while the first is in progress
    media_type: Mapped[str | None] = mapped_column(String(60))
    body: Mapped[str | None] = mapped_column(Text)


class StaffSession(Base):
    """A staff login: the signed cookie carries only its random id, so logging out, a new
    password or a deactivated account ends it at once (dispatch/staff_sessions.py)."""

    __tablename__ = "staff_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class SiteSecret(Base):
    """Secrets the site makes for itself when none is configured (the key that signs staff
    cookies): made once, inserted if absent, so every process and restart uses the same one."""

    __tablename__ = "site_secrets"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class KeptForm(Base):
    """What a staff member typed into a form whose POST arrived after their session had
    ended, or that the ticket page refused: kept for a while so that, once logged in again
    or redirected back, the form comes back filled (dispatch/kept_forms.py). Claimed by the
    first user who logs in with its token (a refused form's poster has it from the start)."""

    __tablename__ = "kept_forms"
    __table_args__ = (Index("ix_kept_forms_created_at", "created_at"),)

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    action: Mapped[str] = mapped_column(String(300))     # the path the form was posted to
    page: Mapped[str] = mapped_column(String(300))       # the page the form is on
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    error: Mapped[str | None] = mapped_column(Text)      # why the page refused the form; None: session expired


class StaffActivity(Base):
    """What staff did outside the tickets: logins and failed logins, logouts, account, unit
    and routing rule changes, exports, API tokens. Append-only like ticket_events (triggers
    from migration 0011); written through dispatch/staff_activity.py only, never a password."""

    __tablename__ = "staff_activity"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    actor: Mapped[str] = mapped_column(String(100), index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    target: Mapped[str | None] = mapped_column(String(200), index=True)
    address: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class CalendarDay(Base):
    """A day people set on the holidays page or by import: a holiday (节假日), a make-up
    workday (调休上班), or `cleared` (back to the official calendar). Append-only: the newest
    row of a day wins, so every change stays on record with who and when, and the highest id
    is the table's version (dispatch/calendar_days.py)."""

    __tablename__ = "calendar_days"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str | None] = mapped_column(String(40))
    set_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    set_by: Mapped[str] = mapped_column(String(100))


class Open311Client(Base):
    """A civic app allowed to file requests through the Open311 API. Like the staff API's
    tokens, only the key's SHA-256 is kept; a revoked client's key stops working at once."""

    __tablename__ = "open311_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Open311Submission(Base):
    """What an Open311 client sent beside the ticket's own fields: which client, the
    coordinates, and contact details a ticket has no column for (e-mail, the app's account)."""

    __tablename__ = "open311_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("open311_clients.id"), index=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    service_code: Mapped[str] = mapped_column(String(64))
    lat: Mapped[float | None] = mapped_column(Float)
    long: Mapped[float | None] = mapped_column(Float)
    address_string: Mapped[str | None] = mapped_column(String(300))
    email: Mapped[str | None] = mapped_column(String(200))
    device_id: Mapped[str | None] = mapped_column(String(100))
    account_id: Mapped[str | None] = mapped_column(String(100))
    media_url: Mapped[str | None] = mapped_column(String(500))


class KbArticle(Base):
    """A knowledge base article (知识库): owned by a unit, published by a supervisor. Its
    fields are those of its newest version; what operators and citizens read is the
    published version (`published_version`), so an edit waits for publishing."""

    __tablename__ = "kb_articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), index=True)   # draft, published, retired
    version: Mapped[int] = mapped_column(Integer)                # the newest version
    published_version: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    keywords: Mapped[str] = mapped_column(String(500), default="")   # space-separated
    # A level-1 category name today; a dispatch catalogue code fits the same column later.
    category: Mapped[str | None] = mapped_column(String(64))
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    review_by: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # Bumped by every edit, publish and retire: search indexes rebuild when it moves.
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class KbArticleVersion(Base):
    """Every edit of an article, kept with who and when; never updated."""

    __tablename__ = "kb_article_versions"
    __table_args__ = (UniqueConstraint("article_id", "version", name="uq_kb_article_versions_article_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id"))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    keywords: Mapped[str] = mapped_column(String(500), default="")
    category: Mapped[str | None] = mapped_column(String(64))
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    review_by: Mapped[dt.date | None] = mapped_column(Date)
    edited_by: Mapped[str] = mapped_column(String(100))
    editor_id: Mapped[int | None] = mapped_column(Integer)
    edited_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class KbSearch(Base):
    """A search of the knowledge base worth counting (the public page, the API, a ticket
    filed without an answer): those without a useful result are the gaps in the base."""

    __tablename__ = "kb_searches"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    source: Mapped[str] = mapped_column(String(20))
    query: Mapped[str] = mapped_column(String(200))
    results: Mapped[int] = mapped_column(Integer)
    top_article_id: Mapped[int | None] = mapped_column(Integer)
    useful: Mapped[bool] = mapped_column(Boolean)


class KbDeflection(Base):
    """A citizen who found the answer in an article and did not file (a deflection)."""

    __tablename__ = "kb_deflections"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    query: Mapped[str | None] = mapped_column(String(200))


class PeriodicReport(Base):
    """A daily, weekly or monthly report (日报 / 周报 / 月报) the scheduler made, kept with its
    figures (from which each unit's own part is drawn), and as HTML, CSV and, where a PDF
    engine exists, PDF. Unique per (kind, since): made once, whichever process runs it."""

    __tablename__ = "periodic_reports"
    __table_args__ = (UniqueConstraint("kind", "since", name="uq_periodic_reports_kind_since"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))      # day, week, month
    since: Mapped[dt.date] = mapped_column(Date)
    until: Mapped[dt.date] = mapped_column(Date)
    generated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    seconds: Mapped[float] = mapped_column()            # how long making it took
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    html: Mapped[str] = mapped_column(Text)
    csv: Mapped[str] = mapped_column(Text)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    pdf_note: Mapped[str | None] = mapped_column(Text)  # why there is no PDF


class ReplyTemplate(Base):
    """A reply template (常用语): words a unit's staff insert into a reply instead of typing
    them again. A unit's own (`unit_id`), or city-wide (`unit_id` None, kept by admins) and
    offered to everyone. `scope` ("city" or "unit:ID") holds the owner once more so that one
    unique constraint keeps titles apart within an owner on both databases (a NULL unit_id
    would make every city-wide title unique in SQL's eyes). dispatch/reply_templates.py."""

    __tablename__ = "reply_templates"
    __table_args__ = (UniqueConstraint("scope", "title", name="uq_reply_templates_scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(30))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    changed_by: Mapped[str] = mapped_column(String(100))


class Attachment(Base):
    """A photo added to a ticket (附件): by the citizen with the request, or by staff (a unit's
    办结照片 with its reply). The bytes as stored are the image without its metadata
    (dispatch/attachments.py); `added_by` is the actor's label, as the ticket's events name it."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    added_by: Mapped[str] = mapped_column(String(100))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    file_name: Mapped[str] = mapped_column(String(120))
    media_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    # Read only when the photo itself is asked for: lists read the columns above.
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    # A small JPEG of it for lists (dispatch/thumbnails.py), made when stored; null for a
    # photo stored before thumbnails were (drawn and stored at its first request, or by
    # `hotline attachments thumbnails`).
    thumbnail: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)


class MediaFetch(Base):
    """A photo a citizen's picture message (MMS) points at, to be fetched from the provider
    and added to the ticket the text created or joined (dispatch/media_fetches.py). Written
    in the text's own transaction, fetched after commit with retries: the webhook answers at
    once and the photo is never lost to a slow or failed download."""

    __tablename__ = "media_fetches"
    __table_args__ = (Index("ix_media_fetches_status_next_attempt_at", "status", "next_attempt_at"),
                      UniqueConstraint("message_sid", "position", name="uq_media_fetches_message_sid_position"))

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    message_sid: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)   # N of MediaUrlN
    url: Mapped[str] = mapped_column(String(500))
    declared_type: Mapped[str | None] = mapped_column(String(100))   # MediaContentTypeN, for the log only
    # pending -> fetching -> attached | failed (refused or given up)
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    # The photo it became; no foreign key: a photo removed later (删除图片) leaves this record.
    attachment_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ShiftHandover(Base):
    """交接班: what an operator going off shift left for the next one (dispatch/shift_handover.py):
    their note, and how many of their filed tickets and of the missed calls were still waiting
    when they handed over. Pending until another operator acknowledges it (接班)."""

    __tablename__ = "shift_handovers"
    __table_args__ = (Index("ix_shift_handovers_staff_id_created_at", "staff_id", "created_at"),
                      # The ones still to be taken over, read on every console (migration 0053).
                      Index("ix_shift_handovers_pending", "id",
                            postgresql_where=text(NOT_ACKNOWLEDGED), sqlite_where=text(NOT_ACKNOWLEDGED)))

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    staff_label: Mapped[str] = mapped_column(String(200))       # the display name as it was
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    shift_start: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text)
    waiting_tickets: Mapped[int] = mapped_column(Integer)
    open_callbacks: Mapped[int] = mapped_column(Integer)
    unreached_callbacks: Mapped[int] = mapped_column(Integer)
    # What was listed (ticket numbers, callback ids), for the history; cut to the lists' length.
    listed: Mapped[dict[str, Any]] = mapped_column(JSON)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    acknowledged_label: Mapped[str | None] = mapped_column(String(200))


class QualityInspection(Base):
    """质检: a supervisor's scores of how an operator handled one ticket they filed
    (dispatch/quality.py): each checklist item's points, the total, a comment. One per ticket."""

    __tablename__ = "quality_inspections"
    __table_args__ = (Index("ix_quality_inspections_operator_id_created_at", "operator_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))     # who filed the ticket (受理)
    operator_label: Mapped[str] = mapped_column(String(200))                   # their display name as it was
    inspector_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    inspector_label: Mapped[str] = mapped_column(String(200))
    scores: Mapped[dict[str, Any]] = mapped_column(JSON)                       # checklist item key -> points given
    total: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
