"""The second model of catalogue routing: level 3 learnt from the city's own history. Once
enough resolved tickets carry a level-3 entry (HOTLINE_ENTRY_MODEL_MIN_TICKETS), a model of
the classifier's kind (jieba words and character n-grams, TF-IDF, a calibrated linear
model) is trained with the entry's code as the label.

It only chooses among the entries under the level 1 the first model gave (its probabilities
renormalised over them), and it is asked beside the terms:
- the terms find an entry: the model's entry only when its probability is higher than the
  terms' own confidence, which is how often the terms were right on the same history for a
  hit of that many characters (the model's probabilities are calibrated, so the two compare);
- the terms find nothing (the level 1's 其他 entry): the same test, against how often 其他
  was right on the history when no term was found. A city whose operators file such texts
  under specific entries gives 其他 a low figure and the model its chance; a history whose
  entries came from the terms themselves (the demo's) makes the terms look always right, and
  the model is never used: it could only disagree with labels the terms made.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.catalogue_match import Catalogue, Match
from dispatch.models import CatalogueEntry, Ticket
from dispatch.states import RESOLVED_STATES

if TYPE_CHECKING:
    from classifier import Example, TrainedModel

log = logging.getLogger(__name__)

DEFAULT_MIN_TICKETS = 2000
# A hit of this many characters of terms or more shares one confidence figure.
LONGEST_BUCKET = 8
# Fewer history texts than this in a bucket: the terms' overall confidence stands for it.
BUCKET_MIN = 20


def history(session: Session) -> list[Example]:
    """Resolved tickets with the entry they were dispatched under, labelled by its code (a code
    keeps its meaning across catalogue versions)."""
    from classifier import Example

    rows = session.execute(select(Ticket.title, Ticket.body, CatalogueEntry.code)
                           .join(CatalogueEntry, CatalogueEntry.id == Ticket.catalogue_entry_id)
                           .where(Ticket.state.in_([s.value for s in RESOLVED_STATES]))
                           .order_by(Ticket.id).execution_options(yield_per=5000))
    return [Example(title=title, body=body, label=code) for title, body, code in rows]


def _bucket(score: float) -> int:
    return min(int(score), LONGEST_BUCKET)


def terms_confidence(examples: Sequence[Example], catalogue: Catalogue) -> dict[int, float]:
    """How often the terms' entry (under the label's own level 1) was the label, by how many
    characters of terms were found; key 0 is no term found (the level 1's 其他 entry), key -1
    every hit together."""
    from classifier.features import message_text

    right: dict[int, int] = defaultdict(int)
    seen: dict[int, int] = defaultdict(int)
    for example in examples:
        item = catalogue.find(example.label)
        if item is None:
            continue
        match = catalogue.match(message_text(example.title, example.body), item.level1)
        if match is None:
            continue
        for key in ((_bucket(match.score), -1) if match.terms else (0,)):
            seen[key] += 1
            right[key] += match.item.code == example.label
    return {key: right[key] / n for key, n in seen.items()}


@dataclass
class EntryModel:
    model: TrainedModel
    level1_of: dict[str, str]          # entry code -> its level 1
    confidence: dict[int, float]       # the terms' confidence by bucket (terms_confidence)
    trained_on: int

    def predict(self, text: str, level1: str | None) -> tuple[str, float] | None:
        """(entry code, probability) among the entries under `level1`, or None when the
        history has none there."""
        if level1 is None:
            return None
        row = self.model.probabilities([text])[0]
        columns = [n for n, code in enumerate(self.model.labels) if self.level1_of.get(code) == level1]
        total = float(sum(row[n] for n in columns))
        if not columns or total <= 0:
            return None
        best = max(columns, key=lambda n: row[n])
        return self.model.labels[best], float(row[best]) / total

    def terms_confidence_of(self, match: Match) -> float:
        if not match.terms:   # 其他: how often it was right, 0 when the history never fell back
            return self.confidence.get(0, 0.0)
        return self.confidence.get(_bucket(match.score), self.confidence.get(-1, 1.0))

    def choose(self, text: str, level1: str | None, terms: Match | None, catalogue: Catalogue) -> Match | None:
        if terms is not None and terms.terms and terms.item.level1 != level1:
            return terms   # the terms overruled the level 1 (a strong foreign hit): not ours to judge
        guess = self.predict(text, level1)
        if guess is None:
            return terms
        item = catalogue.find(guess[0])
        if item is None:   # an entry the catalogue no longer has
            return terms
        if terms is not None and guess[1] <= self.terms_confidence_of(terms):
            return terms
        return Match(item, (), guess[1], source="model")


def train(examples: Sequence[Example], catalogue: Catalogue, *, min_tickets: int = DEFAULT_MIN_TICKETS,
          user_words: Sequence[str] = ()) -> EntryModel | None:
    """The level-3 model, or None while the history is too small (or names one entry only).
    Runs for a while: call it outside any transaction."""
    from classifier import train as train_model

    usable = [e for e in examples if catalogue.find(e.label) is not None]
    labels = {e.label for e in usable}
    if len(usable) < max(min_tickets, 1) or len(labels) < 2:
        return None
    # Entries seen once cannot be calibrated (every label in each fold): they need two.
    counts: dict[str, int] = defaultdict(int)
    for example in usable:
        counts[example.label] += 1
    usable = [e for e in usable if counts[e.label] >= 2]
    if len({e.label for e in usable}) < 2:
        return None
    model = train_model(usable, user_words=user_words)
    level1_of = {code: item.level1 for code in model.labels if (item := catalogue.find(code)) is not None}
    entry_model = EntryModel(model, level1_of, terms_confidence(usable, catalogue), len(usable))
    log.info("level-3 model trained", extra={"event": "entry_model_trained", "examples": len(usable),
                                             "entries": len(model.labels)})
    return entry_model
