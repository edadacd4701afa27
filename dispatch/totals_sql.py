"""The running totals of rollup.py, call_totals.py and routing_feedback.py that a rebuild
fills in SQL: one INSERT ... SELECT ... GROUP BY each, minutes on ten million tickets where
counting row by row in Python takes an hour. Tests check they equal what the flush hooks keep.

China days in SQL: PostgreSQL converts with the zone (Asia/Shanghai); SQLite adds 8 hours,
the same for every moment since 1991, when China last changed its clocks.
"""
from __future__ import annotations

from sqlalchemy import Engine, delete, text
from sqlalchemy.orm import Session

from dispatch.models import CallRollup, CatalogueRollup, OpenTicketRollup, RoutingRollup, TicketChannelRollup
from dispatch.states import FINISHED_STATES, RESOLVED_STATES, State
from dispatch.vocabulary import Rating

# Seconds waited are kept in steps: a call counts under the first of these it waited no
# longer than (longer or unknown waits under WAIT_OVER). A threshold that is one of them
# (a service level of 20 s, the 15-second rate, short abandons within 5 s) is then exact:
# wait <= S exactly when the step is <= S. One step per second would keep up to 120 rows a
# queue and a day, and a year of them is too many to add up in the time the figures have.
WAIT_STEPS = (0, 3, 5, 10, 15, 20, 25, 30, 40, 45, 60, 90, 120)
WAIT_OVER = 1_000_000

_OPEN = ", ".join(f"'{s.value}'" for s in State if s not in FINISHED_STATES)
_RESOLVED = ", ".join(f"'{s.value}'" for s in RESOLVED_STATES)
_ANSWERED = f"state = '{State.ANSWERED.value}'"
_RATED_GOOD = f"rating IN ('{Rating.SATISFIED.value}', '{Rating.PARTLY.value}')"


def china_day(dialect: str, column: str) -> str:
    if dialect == "postgresql":
        return f"CAST(({column} AT TIME ZONE 'UTC') AT TIME ZONE 'Asia/Shanghai' AS DATE)"
    return f"date({column}, '+8 hours')"


def wait_step(dialect: str, column: str = "wait_seconds") -> str:
    """call_totals.wait_step() in SQL."""
    steps = " ".join(f"WHEN {column} <= {step} THEN {step}" for step in WAIT_STEPS)
    return f"CASE WHEN {column} IS NULL OR NOT ({column} <= {WAIT_STEPS[-1]}) THEN {WAIT_OVER} {steps} END"


def channel_totals(dialect: str) -> str:
    return (f"INSERT INTO ticket_channel_rollup (day, channel, handed_over_to, received, resolved) "
            f"SELECT {china_day(dialect, 'received_at')}, channel, "
            f"CASE WHEN state = 'handed_over' THEN coalesce(handover_to, '') ELSE '' END, count(*), "
            f"sum(CASE WHEN state IN ({_RESOLVED}) THEN 1 ELSE 0 END) "
            f"FROM tickets WHERE state <> '{State.MERGED.value}' GROUP BY 1, 2, 3")


def open_totals(dialect: str) -> str:
    return (f"INSERT INTO open_ticket_rollup (day, category, unit_id, deadline_day, tickets) "
            f"SELECT {china_day(dialect, 'received_at')}, coalesce(category, ''), coalesce(unit_id, 0), "
            f"{china_day(dialect, 'deadline')}, count(*) "
            f"FROM tickets WHERE deadline IS NOT NULL AND state IN ({_OPEN}) GROUP BY 1, 2, 3, 4")


def catalogue_totals(dialect: str) -> str:
    open_with_deadline = f"deadline IS NOT NULL AND state IN ({_OPEN})"
    received = china_day(dialect, "received_at")
    return (f"INSERT INTO catalogue_rollup (day, catalogue_entry_id, deadline_day, received, transferred, answered, "
            f"resolved, resolved_on_time, rated, satisfied_or_partly, open_with_deadline) "
            f"SELECT {received}, coalesce(catalogue_entry_id, 0), "
            f"CASE WHEN {open_with_deadline} THEN {china_day(dialect, 'deadline')} ELSE {received} END, count(*), "
            f"{_flag('transfer_count > 0')}, {_flag(_ANSWERED)}, {_flag('resolved_at IS NOT NULL')}, "
            f"{_flag('resolved_on_time')}, {_flag('rating IS NOT NULL')}, {_flag(_RATED_GOOD)}, "
            f"{_flag(open_with_deadline)} FROM tickets GROUP BY 1, 2, 3")


def call_totals(dialect: str, grouped_by: str) -> str:
    column = {"queue": "queue", "agent": "agent"}[grouped_by]
    answered = "answered_at IS NOT NULL"
    return (f"INSERT INTO call_rollup (grouped_by, day, name, wait, offered, answered, abandoned, waited, "
            f"wait_sum, talked, talk_sum) "
            f"SELECT '{grouped_by}', {china_day(dialect, 'entered_queue_at')}, coalesce({column}, ''), "
            f"{wait_step(dialect)}, count(*), sum(CASE WHEN {answered} THEN 1 ELSE 0 END), "
            f"sum(CASE WHEN outcome = 'abandoned' THEN 1 ELSE 0 END), "
            f"sum(CASE WHEN {answered} AND wait_seconds IS NOT NULL THEN 1 ELSE 0 END), "
            f"coalesce(sum(CASE WHEN {answered} THEN wait_seconds END), 0), "
            f"sum(CASE WHEN {answered} AND talk_seconds IS NOT NULL THEN 1 ELSE 0 END), "
            f"coalesce(sum(CASE WHEN {answered} THEN talk_seconds END), 0) "
            f"FROM calls WHERE entered_queue_at IS NOT NULL GROUP BY 2, 3, 4")


def _flag(condition: str) -> str:
    return f"sum(CASE WHEN {condition} THEN 1 ELSE 0 END)"


def routing_totals(dialect: str) -> str:
    return (f"INSERT INTO routing_rollup (day, category, proposals, accepted, automatic, corrected, returned) "
            f"SELECT {china_day(dialect, 'received_at')}, proposed_category, count(*), "
            f"{_flag('unit_accepted AND category_accepted')}, {_flag('automatic')}, {_flag('corrected')}, "
            f"{_flag('returned')} FROM routing_outcomes GROUP BY 1, 2")


REFILLED = (TicketChannelRollup, OpenTicketRollup, CallRollup, RoutingRollup, CatalogueRollup)


def refill(session: Session) -> None:
    """Empty and refill the totals per channel, of open tickets by deadline day, of calls, of
    routing outcomes and per catalogue entry; the caller commits."""
    dialect = session.get_bind().dialect.name
    for model in REFILLED:
        session.execute(delete(model))
    for statement in (channel_totals(dialect), open_totals(dialect),
                      call_totals(dialect, "queue"), call_totals(dialect, "agent"), routing_totals(dialect),
                      catalogue_totals(dialect)):
        session.execute(text(statement))


def refill_database(engine: Engine) -> None:
    """refill() in a transaction of its own, then fresh planner statistics for its tables
    (after a bulk load such as bench/city_load.py's COPY)."""
    with Session(engine) as session, session.begin():
        refill(session)
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            for model in REFILLED:
                connection.exec_driver_sql(f"ANALYZE {model.__tablename__}")
