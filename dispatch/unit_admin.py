"""Responsible units as an administrator keeps them: list, add one (the units page's form,
checked as a unit of an imported file is), edit one (name, kind, parent, active), and import the units of a city file, pasted or uploaded, in two steps: the plan
(what would be added and changed) is shown, then applied.

The import reads the city file's units format: either the whole city file (an object with
"units") or just its list, each unit {"code", "name", "kind"?, "parent"?, "active"?, "duty_phone"?}. Every
problem is reported at once, in Chinese, with the line and the unit it is on. Units are
never deleted (tickets point at them); units missing from the file are left as they are.
"""
from __future__ import annotations

import hashlib
import json
import re
import zlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from dispatch.actors import Actor
from dispatch.errors import InvalidInput, NotFound, Reason
from dispatch.models import StaffUser, Unit
from dispatch.phone import normalise_phone
from dispatch.staff_activity import ActivityKind, record
from dispatch.staff_admin import require_admin
from dispatch.vocabulary import (
    UNIT_AT_LINE_ZH,
    UNIT_BAD_ACTIVE_ZH,
    UNIT_BAD_CODE_ZH,
    UNIT_BAD_DUTY_PHONE_ZH,
    UNIT_BAD_KIND_ZH,
    UNIT_BAD_PARENT_ZH,
    UNIT_CODE_REPEATED_ZH,
    UNIT_CODE_TAKEN_ZH,
    UNIT_IMPORT_EMPTY_LIST_ZH,
    UNIT_IMPORT_NOT_A_LIST_ZH,
    UNIT_IMPORT_NOTHING_ZH,
    UNIT_IMPORT_TOO_LONG_ZH,
    UNIT_KIND_CHOICE_ZH,
    UNIT_KIND_CHOICES_JOINED_BY_ZH,
    UNIT_KIND_WORDS_ZH,
    UNIT_NAME_EMPTY_ZH,
    UNIT_NAME_OF_KEPT_UNIT_ZH,
    UNIT_NAME_REPEATED_ZH,
    UNIT_NAME_TOO_LONG_ZH,
    UNIT_NAME_UNSTORABLE_ZH,
    UNIT_NO_NAME_ZH,
    UNIT_NOT_AN_OBJECT_ZH,
    UNIT_PARENT_IS_ITSELF_ZH,
    UNIT_PARENT_LOOP_ZH,
    UNIT_PARENT_NOT_IN_FILE_OR_SYSTEM_ZH,
    UNIT_PARENT_NOT_IN_FILE_ZH,
    UNIT_PARENT_UNKNOWN_ZH,
    UNIT_PROBLEMS_JOINED_BY_ZH,
    UNIT_WHERE_AND_CODE_ZH,
    UNIT_WHERE_INDEX_ZH,
    UNIT_WHERE_LINE_ZH,
    UNIT_WHERE_NEW_ZH,
    UNIT_WHERE_ZH,
    UnitKind,
)

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
NAME_CHARS = 200
MAX_IMPORT_CHARS = 300_000
MAX_PROBLEMS = 30
# NUL and lone surrogates: no database column can hold them (see web/inputs.py).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
KIND_WORDS = UNIT_KIND_WORDS_ZH


class UnitImportError(InvalidInput):
    """The pasted or uploaded units cannot be imported; `problems` says where and why."""

    def __init__(self, problems: list[str | InvalidInput]) -> None:
        super().__init__("units", UNIT_PROBLEMS_JOINED_BY_ZH.join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class UnitRow:
    id: int
    code: str
    name: str
    kind: str
    parent_code: str | None
    parent_name: str | None
    active: bool
    staff: int
    duty_phone: str | None = None   # E.164; the page shows it as people write it


def list_units(session: Session) -> list[UnitRow]:
    parent = select(Unit.id, Unit.code, Unit.name).subquery()
    staff = (select(StaffUser.unit_id, func.count().label("n")).where(StaffUser.active.is_(True))
             .group_by(StaffUser.unit_id).subquery())
    rows = session.execute(select(Unit, parent.c.code, parent.c.name, staff.c.n)
                           .outerjoin(parent, parent.c.id == Unit.parent_id)
                           .outerjoin(staff, staff.c.unit_id == Unit.id)
                           .order_by(Unit.active.desc(), Unit.kind, Unit.code))
    return [UnitRow(u.id, u.code, u.name, u.kind, pcode, pname, u.active, n or 0, u.duty_phone)
            for u, pcode, pname, n in rows]


def unit_row(session: Session, unit_id: int) -> UnitRow:
    found = next((row for row in list_units(session) if row.id == unit_id), None)
    if found is None:
        raise NotFound(Reason.UNIT_RECORD_NOT_FOUND, unit_id=unit_id)
    return found


def update_unit(session: Session, actor: Actor, unit_id: int, *, name: str, kind: str, parent_code: str | None,
                active: bool, duty_phone: str | None = None, successor_code: str | None = None,
                reason: str | None = None) -> Unit:
    """Change a unit. `duty_phone` as typed: blank removes it, None leaves it as it is.
    Deactivating a unit that still has open tickets or owed parts needs a successor
    (承接单位, `successor_code`) and a `reason`: its open work and catalogue entries move
    there first (dispatch/unit_succession.py); without one it is refused."""
    from dispatch import unit_succession   # it reaches the lifecycle, which reads this module's callers
    require_admin(actor)
    lock_unit_tree(session)  # before the tree is read for loops
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(Reason.UNIT_RECORD_NOT_FOUND, unit_id=unit_id)
    name = _name(name.strip(), UNIT_WHERE_ZH.format(code=unit.code))
    if name != unit.name:
        other = session.scalar(select(Unit.code).where(Unit.name == name, Unit.id != unit.id).limit(1))
        if other is not None:
            raise InvalidInput("name", Reason.UNIT_NAME_TAKEN, name=name, code=other)
    kind = _kind(kind, UNIT_WHERE_ZH.format(code=unit.code))
    parents = _parents(session)
    parent_code = (parent_code or "").strip() or None
    if parent_code is not None and parent_code not in parents:
        raise InvalidInput("parent", Reason.PARENT_NOT_FOUND, parent=parent_code)
    parents[unit.code] = parent_code
    loop = _loop(parents, unit.code)
    if loop:
        raise InvalidInput("parent", Reason.PARENT_LOOP, path=" → ".join(loop))
    phone = unit.duty_phone if duty_phone is None else _typed_duty_phone(duty_phone)
    successor = None
    # A unit retired before without a successor may still name one, to free what it left stuck.
    successor_code = (successor_code or "").strip() or None
    if not active and successor_code is not None:
        successor = session.scalar(select(Unit).where(Unit.code == successor_code))
        if successor is None:
            raise InvalidInput("successor", Reason.SUCCESSOR_NOT_ACTIVE, code=successor_code)
        unit_succession.check_successor(unit, successor)
    if unit.active and not active and successor is None:
        work = unit_succession.open_work(session, unit.id)
        if work.blocks_retiring:
            raise InvalidInput("successor", Reason.UNIT_HAS_OPEN_WORK, unit=unit.name, tickets=work.tickets,
                               parts=work.parts)
    before = {"name": unit.name, "kind": unit.kind, "parent": _code_of(session, unit.parent_id), "active": unit.active,
              "duty_phone": unit.duty_phone}
    unit.name, unit.kind, unit.active, unit.duty_phone = name, kind, active, phone
    unit.parent_id = None if parent_code is None else session.scalar(select(Unit.id).where(Unit.code == parent_code))
    after = {"name": name, "kind": kind, "parent": parent_code, "active": active, "duty_phone": phone}
    changes: dict[str, Any] = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if successor is not None:
        handed = unit_succession.hand_over(session, actor, unit, successor, reason or "")
        changes.update(successor=successor.code, tickets_moved=len(handed.tickets),
                       parts_moved=len(handed.parts) + len(handed.withdrawn), entries_moved=len(handed.entries),
                       history_moved=len(handed.history),
                       reason=reason)
    if changes:
        session.flush()
        record(session, ActivityKind.UNIT_CHANGED, actor, target=unit.code, detail=changes)
    return unit


def _typed_duty_phone(raw: str) -> str | None:
    """值班电话 as typed on the unit's page: blank for none, else a number texts can reach."""
    text = raw.strip()
    if not text:
        return None
    try:
        return normalise_phone(text)
    except InvalidInput:
        raise InvalidInput("duty_phone", Reason.INVALID_DUTY_PHONE, value=text[:40]) from None


# -- import ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportedUnit:
    line: int
    code: str
    name: str
    kind: str
    parent: str | None
    active: bool | None      # None: the file does not say; a new unit is active
    duty_phone: str | None = None   # None: the file does not say; kept as it is


@dataclass(frozen=True)
class UnitChange:
    code: str
    name: str
    line: int
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)   # field -> (now, in the file)


@dataclass(frozen=True)
class ImportPlan:
    added: list[UnitChange]
    changed: list[UnitChange]
    unchanged: int
    not_in_file: list[str]       # codes of units kept as they are

    @property
    def empty(self) -> bool:
        return not self.added and not self.changed

    @property
    def fingerprint(self) -> str:
        """Names this exact plan, so that applying it after someone else changed the units
        shows the new plan again instead of applying one nobody saw."""
        content = [[c.code, sorted((k, repr(v)) for k, v in c.changes.items())] for c in self.added + self.changed]
        return hashlib.sha256(json.dumps(content, ensure_ascii=False).encode()).hexdigest()[:16]


def parse_units(text: str, max_chars: int | None = MAX_IMPORT_CHARS) -> list[ImportedUnit]:
    """The units of a city file (or of just its "units" list), checked one by one, and no
    two of one name: operators pick units by name in the 转办 and 协办 lists."""
    if max_chars is not None and len(text) > max_chars:
        raise UnitImportError([UNIT_IMPORT_TOO_LONG_ZH.format(thousands=max_chars // 1000)])
    if not text.strip():
        raise UnitImportError([UNIT_IMPORT_NOTHING_ZH])
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        lines = text.splitlines()
        shown = lines[exc.lineno - 1].strip() if 0 < exc.lineno <= len(lines) else ""
        raise UnitImportError([InvalidInput("units", Reason.JSON_SYNTAX_TEXT, line=exc.lineno, column=exc.colno,
                                            problem=exc.msg, text=shown)]) from None
    items = data.get("units") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise UnitImportError([UNIT_IMPORT_NOT_A_LIST_ZH])
    lines = _element_lines(text, items)
    problems: list[str] = []
    units: list[ImportedUnit] = []
    seen: dict[str, int] = {}
    named: dict[str, ImportedUnit] = {}
    for index, item in enumerate(items):
        line = lines[index] if index < len(lines) else 0
        where = UNIT_WHERE_LINE_ZH.format(line=line, index=index + 1) if line else UNIT_WHERE_INDEX_ZH.format(index=index + 1)
        code = item.get("code") if isinstance(item, dict) else None
        if isinstance(code, str) and code in seen:
            problems.append(UNIT_CODE_REPEATED_ZH.format(where=where, code=code, first_line=seen[code]))
            continue
        if isinstance(code, str):
            seen[code] = line
        try:
            unit = _unit_from(item, line, where)
        except InvalidInput as exc:
            problems.append(exc.message.split(": ", 1)[1] if exc.message.startswith(f"{exc.field}: ") else exc.message)
            continue
        if unit.name in named:
            first = named[unit.name]
            problems.append(UNIT_NAME_REPEATED_ZH.format(where=UNIT_WHERE_AND_CODE_ZH.format(where=where, code=unit.code),
                                                         name=unit.name, first_line=first.line, first_code=first.code))
            continue
        named[unit.name] = unit
        units.append(unit)
    if problems:
        raise UnitImportError(problems[:MAX_PROBLEMS])
    if not units:
        raise UnitImportError([UNIT_IMPORT_EMPTY_LIST_ZH])
    return units


def _unit_from(item: Any, line: int, where: str) -> ImportedUnit:
    if not isinstance(item, dict):
        raise InvalidInput("units", UNIT_NOT_AN_OBJECT_ZH.format(where=where))
    code = item.get("code")
    if not isinstance(code, str) or not _CODE.match(code):
        raise InvalidInput("units", UNIT_BAD_CODE_ZH.format(where=where, value=_shown(code)))
    where = UNIT_WHERE_AND_CODE_ZH.format(where=where, code=code)
    name = item.get("name")
    if not isinstance(name, str):
        raise InvalidInput("units", UNIT_NO_NAME_ZH.format(where=where))
    name = _name(name.strip(), where, field_name="units")
    kind = _kind(item.get("kind", "department"), where, field_name="units")
    parent = item.get("parent")
    if parent is not None and (not isinstance(parent, str) or not parent.strip()):
        raise InvalidInput("units", UNIT_BAD_PARENT_ZH.format(where=where, value=_shown(parent)))
    active = item.get("active")
    if active is not None and not isinstance(active, bool):
        raise InvalidInput("units", UNIT_BAD_ACTIVE_ZH.format(where=where, value=_shown(active)))
    return ImportedUnit(line, code, name, kind, parent.strip() if parent else None, active,
                        _duty_phone(item.get("duty_phone"), where))


def _duty_phone(raw: Any, where: str) -> str | None:
    if raw is None:
        return None
    try:
        if not isinstance(raw, str):
            raise ValueError(raw)
        return normalise_phone(raw)
    except (ValueError, InvalidInput):
        raise InvalidInput("units", UNIT_BAD_DUTY_PHONE_ZH.format(where=where, value=_shown(raw))) from None


def parent_problems(units: list[ImportedUnit], stored: dict[str, str | None] | None) -> list[str]:
    """Unknown parents and loops of parents, each named by line and unit. `stored`: the
    parent of each unit in the database, which a parent may also be; None for a city file,
    which must name every parent it uses (it is loaded alone at start)."""
    in_file = {u.code for u in units}
    parents = dict(stored or {})
    problems = []
    for unit in units:
        if unit.parent is not None and unit.parent not in parents and unit.parent not in in_file:
            missing = UNIT_PARENT_NOT_IN_FILE_OR_SYSTEM_ZH if stored is not None else UNIT_PARENT_NOT_IN_FILE_ZH
            problems.append(UNIT_PARENT_UNKNOWN_ZH.format(at=_at(unit), parent=unit.parent, missing=missing))
        if unit.parent == unit.code:
            problems.append(UNIT_PARENT_IS_ITSELF_ZH.format(at=_at(unit)))
    parents.update({u.code: u.parent for u in units})
    for unit in units:
        loop = _loop(parents, unit.code)
        if loop and unit.parent != unit.code and loop[0] == unit.code:
            problems.append(UNIT_PARENT_LOOP_ZH.format(at=_at(unit), path=" → ".join(loop)))
    return problems


def plan_import(session: Session, units: list[ImportedUnit]) -> ImportPlan:
    """What importing these units would change; refuses unknown parents, parent loops and
    the name of a unit the file leaves as it is. The tree stays locked until the transaction
    ends, so a plan applied in it (apply_import) is still the one checked."""
    lock_unit_tree(session)
    existing = {u.code: u for u in session.scalars(select(Unit))}
    codes = {u.id: u.code for u in existing.values()}
    parents = {code: codes.get(u.parent_id) if u.parent_id else None for code, u in existing.items()}
    problems = parent_problems(units, parents)
    in_file = {u.code for u in units}
    kept_names = {u.name: code for code, u in existing.items() if code not in in_file}
    for unit in units:
        if unit.name in kept_names:
            problems.append(UNIT_NAME_OF_KEPT_UNIT_ZH.format(at=_at(unit), name=unit.name, other=kept_names[unit.name]))
    if problems:
        raise UnitImportError(problems[:MAX_PROBLEMS])
    added, changed, unchanged = [], [], 0
    for unit in units:
        now = existing.get(unit.code)
        wanted = {"name": unit.name, "kind": unit.kind, "parent": unit.parent}
        if unit.active is not None:
            wanted["active"] = unit.active
        if unit.duty_phone is not None:
            wanted["duty_phone"] = unit.duty_phone
        if now is None:
            added.append(UnitChange(unit.code, unit.name, unit.line, {k: (None, v) for k, v in wanted.items()}))
            continue
        current = {"name": now.name, "kind": now.kind, "parent": codes.get(now.parent_id) if now.parent_id else None,
                   "active": now.active, "duty_phone": now.duty_phone}
        differences = {k: (current[k], v) for k, v in wanted.items() if current[k] != v}
        if differences:
            changed.append(UnitChange(unit.code, unit.name, unit.line, differences))
        else:
            unchanged += 1
    in_file = {u.code for u in units}
    return ImportPlan(added, changed, unchanged, sorted(c for c in existing if c not in in_file))


def apply_import(session: Session, actor: Actor, units: list[ImportedUnit], plan: ImportPlan) -> None:
    """Write the plan (made from `units` in this same transaction)."""
    require_admin(actor)
    _write_units(session, units)
    for change in plan.added:
        record(session, ActivityKind.UNIT_ADDED, actor, target=change.code, detail={"name": change.name})
    for change in plan.changed:
        record(session, ActivityKind.UNIT_CHANGED, actor, target=change.code,
               detail={k: list(v) for k, v in change.changes.items()})
    record(session, ActivityKind.UNITS_IMPORTED, actor,
           detail={"added": len(plan.added), "changed": len(plan.changed), "unchanged": plan.unchanged})


def add_unit(session: Session, actor: Actor, *, code: str, name: str, kind: str, parent_code: str | None,
             duty_phone: str | None) -> Unit:
    """One new unit, typed into the units page's form: checked as the import checks a unit of
    a file (the same rules and words), and refused when its code is taken, since the import
    would change that unit instead. Active from the start; blank parent or phone: none."""
    require_admin(actor)
    # A bad 值班电话 in the form's own words, as the unit's page says it (not the import's).
    _typed_duty_phone(duty_phone or "")
    item = {"code": code.strip(), "name": name, "kind": kind or UnitKind.DEPARTMENT.value,
            "parent": (parent_code or "").strip() or None, "duty_phone": (duty_phone or "").strip() or None}
    unit = _unit_from(item, 0, UNIT_WHERE_NEW_ZH)
    lock_unit_tree(session)
    taken = session.scalar(select(Unit.name).where(Unit.code == unit.code))
    if taken is not None:
        raise InvalidInput("code", UNIT_CODE_TAKEN_ZH.format(code=unit.code, name=taken))
    if unit.parent is not None and session.scalar(select(Unit.id).where(Unit.code == unit.parent)) is None:
        raise InvalidInput("parent", Reason.PARENT_NOT_FOUND, parent=unit.parent)
    plan_import(session, [unit])   # the name of another unit, as the import refuses it
    added = _write_units(session, [unit])[unit.code]
    record(session, ActivityKind.UNIT_ADDED, actor, target=unit.code,
           detail={"name": unit.name, "kind": unit.kind, "parent": unit.parent, "duty_phone": unit.duty_phone})
    return added


def _write_units(session: Session, units: list[ImportedUnit]) -> dict[str, Unit]:
    """Add or change the units as checked (plan_import), parents after every row exists."""
    existing = {u.code: u for u in session.scalars(select(Unit))}
    for unit in units:
        row = existing.get(unit.code)
        if row is None:
            row = existing[unit.code] = Unit(code=unit.code, name=unit.name, kind=unit.kind, active=True)
            session.add(row)
        row.name, row.kind = unit.name, unit.kind
        if unit.active is not None:
            row.active = unit.active
        if unit.duty_phone is not None:
            row.duty_phone = unit.duty_phone
    session.flush()
    for unit in units:
        existing[unit.code].parent_id = existing[unit.parent].id if unit.parent else None
    session.flush()
    return existing


def _element_lines(text: str, items: list[Any]) -> list[int]:
    """The line each element of the units list starts on, found by decoding the list one
    element at a time (json reports positions only for errors). [] if it cannot be found."""
    decoder = json.JSONDecoder()
    starts = [m.end() for m in re.finditer(r'"units"\s*:\s*\[', text)] + [text.find("[") + 1]
    for start in starts:
        lines, position = [], start
        try:
            while True:
                position = _skip_space(text, position)
                if text[position] == "]":
                    break
                item, end = decoder.raw_decode(text, position)
                lines.append(text.count("\n", 0, position) + 1)
                position = _skip_space(text, end)
                if text[position] == ",":
                    position += 1
        except (ValueError, IndexError):
            continue
        if len(lines) == len(items):
            return lines
    return []


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def _name(name: str, where: str, field_name: str = "name") -> str:
    if not name:
        raise InvalidInput(field_name, UNIT_NAME_EMPTY_ZH.format(where=where))
    if len(name) > NAME_CHARS:
        raise InvalidInput(field_name, UNIT_NAME_TOO_LONG_ZH.format(where=where, limit=NAME_CHARS))
    if _UNSTORABLE.search(name):
        raise InvalidInput(field_name, UNIT_NAME_UNSTORABLE_ZH.format(where=where))
    return name


def _kind(kind: Any, where: str, field_name: str = "kind") -> str:
    if kind not in {k.value for k in UnitKind}:
        kinds = UNIT_KIND_CHOICES_JOINED_BY_ZH.join(UNIT_KIND_CHOICE_ZH.format(kind=k, words=w)
                                                    for k, w in KIND_WORDS.items())
        raise InvalidInput(field_name, UNIT_BAD_KIND_ZH.format(where=where, kinds=kinds, value=_shown(kind)))
    return str(kind)


def _at(unit: ImportedUnit) -> str:
    """Where a unit's problem is: its line in a file, else (the form's unit) its code alone."""
    return UNIT_AT_LINE_ZH.format(line=unit.line, code=unit.code) if unit.line else UNIT_WHERE_ZH.format(code=unit.code)


def _shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)[:60]


def lock_unit_tree(session: Session) -> None:
    """Hold every change of the units' parents until this transaction ends. Two admins each
    putting a unit under the other's, at once, both checked the tree without the other's
    change and made a loop; with the lock the second waits and checks the tree the first
    left (READ COMMITTED: its next statement sees the commit). One lock for the whole
    tree: a loop can run through any unit, and the tree changes rarely. SQLite's one writer
    already runs whole transactions one at a time (BEGIN IMMEDIATE)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(_LOCK_TREE, {"namespace": LOCK_NAMESPACE, "key": UNIT_TREE_LOCK})


# pg_advisory_xact_lock(int, int) in the hotline's namespace (as web/leadership.py's roles),
# released at commit or rollback.
LOCK_NAMESPACE = 12345
UNIT_TREE_LOCK = zlib.crc32(b"unit_tree") & 0x7FFFFFFF
_LOCK_TREE = select(func.pg_advisory_xact_lock(bindparam("namespace"), bindparam("key")))


def _parents(session: Session) -> dict[str, str | None]:
    codes = {unit_id: code for unit_id, code in session.execute(select(Unit.id, Unit.code))}
    return {code: codes.get(parent_id) if parent_id else None
            for code, parent_id in session.execute(select(Unit.code, Unit.parent_id))}


def _loop(parents: dict[str, str | None], start: str) -> list[str]:
    """The codes of a loop of parents reached from `start` (ending where it began), or []."""
    path, code = [start], parents.get(start)
    while code is not None:
        if code in path:
            return path[path.index(code):] + [code]
        path.append(code)
        code = parents.get(code)
    return []


def _code_of(session: Session, unit_id: int | None) -> str | None:
    return None if unit_id is None else session.scalar(select(Unit.code).where(Unit.id == unit_id))
