"""Guarded retraining: a model trained on the shipped data plus the city's resolved tickets
and operators' corrections replaces the running one only if it scores no worse on a
held-out slice of the most recent corrections (the city's own, newest judgement).

Each attempt is logged in the staff activity log with both scores: model_swapped when the
new model is saved (the newest file in the model folder is the one in use: running
processes pick it up, web/classification.py), model_kept when it is refused (nothing saved).
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch import staff_activity
from dispatch.clock import utcnow
from dispatch.models import RoutingExample, StaffActivity, Ticket
from dispatch.states import RESOLVED_STATES

if TYPE_CHECKING:
    from classifier import Example, TrainedModel

# A correction is one ticket against thousands of shipped rows; counting it a few times lets
# an operator's decision move the model without one mistake dominating it.
CORRECTION_WEIGHT = 3
HELD_OUT_FRACTION = 0.2
# Scored on fewer, "no worse" says little: one held-out correction lets a model through on a
# tie of one right answer (or one wrong one) each.
MIN_HELD_OUT = 10
MIN_CORRECTIONS = 2 * MIN_HELD_OUT          # as many to learn from as to score on
EVERY = dt.timedelta(days=7)
Progress = Callable[[str, int, int], None]

# Why a retrain was or was not put in: the key is logged (pages word it in Chinese,
# web/pages/labels.py), the English words are the command line's.
NO_WORSE, WORSE, TOO_FEW = "no_worse", "worse", "too_few_corrections"
REASONS = {NO_WORSE: "no worse on the held-out corrections",
           WORSE: "the new model scores worse on the held-out corrections",
           TOO_FEW: f"fewer than {MIN_CORRECTIONS} corrections: {MIN_HELD_OUT} to learn from, {MIN_HELD_OUT} to score on"}


@dataclass(frozen=True)
class CityData:
    resolved: list[Example]          # resolved tickets' final categories (not the corrected ones)
    corrections: list[Example]       # oldest first


@dataclass(frozen=True)
class RetrainResult:
    swapped: bool
    old_score: float | None          # accuracy on the held-out corrections; None: no model running
    new_score: float | None
    held_out: int
    trained_on: int
    reason: str                      # a key of REASONS
    model_path: Path | None = None
    model: TrainedModel | None = None

    @property
    def reason_text(self) -> str:
        return REASONS[self.reason]

    def detail(self, trigger: str) -> dict[str, Any]:
        return {"old_score": _round(self.old_score), "new_score": _round(self.new_score),
                "held_out": self.held_out, "trained_on": self.trained_on, "reason": self.reason,
                "model_file": self.model_path.name if self.model_path else None, "trigger": trigger}


def city_data(session: Session) -> CityData:
    from classifier import Example

    corrected = list(session.scalars(select(RoutingExample).order_by(RoutingExample.created_at, RoutingExample.id)))
    taught = {c.ticket_id for c in corrected}
    rows = session.execute(select(Ticket.id, Ticket.title, Ticket.body, Ticket.category)
                           .where(Ticket.category.is_not(None),
                                  Ticket.state.in_([s.value for s in RESOLVED_STATES]))
                           .order_by(Ticket.id).execution_options(yield_per=5000))
    # A corrected ticket comes in as a correction only: it must not leak into training when
    # it is in the held-out slice.
    resolved = [Example(title=title, body=body, label=label) for id_, title, body, label in rows if id_ not in taught]
    return CityData(resolved, [Example(title=c.title, body=c.body, label=c.label) for c in corrected])


def split_corrections(corrections: Sequence[Example],
                      fraction: float = HELD_OUT_FRACTION) -> tuple[list[Example], list[Example]]:
    """(to learn from, held out): the newest fraction (at least MIN_HELD_OUT) is held out."""
    held = min(len(corrections), max(MIN_HELD_OUT, math.ceil(len(corrections) * fraction)))
    return list(corrections[:-held]), list(corrections[-held:])


def guarded_retrain(data: CityData, base: Sequence[Example], current: TrainedModel | None,
                    model_dir: Path | str, *, key: str | None = None, user_words: Sequence[str] = (),
                    progress: Progress | None = None,
                    trainer: Callable[..., TrainedModel] | None = None) -> RetrainResult:
    """Train, score old and new on the held-out corrections, save the new model only if it is
    no worse. No database work here: it runs for a minute and must hold no transaction."""
    from classifier import data_hash, evaluate, save_model, train
    from classifier.text import read_user_dict

    if len(data.corrections) < MIN_CORRECTIONS:
        return RetrainResult(False, None, None, 0, 0, TOO_FEW)
    learn, held = split_corrections(data.corrections)
    examples = list(base) + data.resolved + learn * CORRECTION_WEIGHT
    model = (trainer or train)(examples, user_words=tuple(read_user_dict()) + tuple(user_words), progress=progress)
    new_score = evaluate(model, held)["accuracy"]
    old_score = evaluate(current, held)["accuracy"] if current is not None else None
    if old_score is not None and new_score < old_score:
        return RetrainResult(False, old_score, new_score, len(held), len(examples), WORSE)
    path = save_model(model, model_dir, data_hash=data_hash(examples), key=key,
                      metrics={"trained_on": len(examples), "held_out_corrections": len(held),
                               "held_out_accuracy": new_score, "previous_held_out_accuracy": old_score})
    return RetrainResult(True, old_score, new_score, len(held), len(examples), NO_WORSE, path, model)


def log_result(session: Session, result: RetrainResult, *, actor: str, trigger: str,
               now: dt.datetime | None = None) -> None:
    kind = staff_activity.ActivityKind.MODEL_SWAPPED if result.swapped else staff_activity.ActivityKind.MODEL_KEPT
    staff_activity.record(session, kind, actor, target="classifier", detail=result.detail(trigger), now=now)


def last_attempt(session: Session) -> dt.datetime | None:
    kinds = [staff_activity.ActivityKind.MODEL_SWAPPED.value, staff_activity.ActivityKind.MODEL_KEPT.value]
    return session.scalar(select(StaffActivity.at).where(StaffActivity.kind.in_(kinds))
                          .order_by(StaffActivity.at.desc()).limit(1))


def due(session: Session, now: dt.datetime | None = None) -> bool:
    """A week since the last attempt (or none yet), enough corrections to score on, and at
    least one of them new since then (the same data would train the same model)."""
    last = last_attempt(session)
    if last is not None and last > (now or utcnow()) - EVERY:
        return False
    if (session.scalar(select(func.count()).select_from(RoutingExample)) or 0) < MIN_CORRECTIONS:
        return False
    newer = select(RoutingExample.id).limit(1)
    if last is not None:
        newer = newer.where(RoutingExample.created_at > last)
    return session.scalar(newer) is not None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
