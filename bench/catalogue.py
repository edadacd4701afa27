"""Catalogue routing: how often the proposed level-3 entry (派单目录) and unit are the right ones.

    .venv/bin/python bench/catalogue.py [--model-dir models] [--show-misses]

Texts: bench/data/catalogue_texts.csv, citizen messages written for this benchmark, each
with the level-3 entry (level1/level2/level3) and the unit a dispatcher would choose.
Prints accuracy at level 1, 2 and 3 and of the unit, for:
- baseline: today's routing without a catalogue (the model's level 1 and its department, or
  the township named for 城乡建设), with level 2 and 3 the most common ones of that level 1
  among this set's own answers (a generous prior: it has seen the answers);
- catalogue: the model's level 1, then the catalogue's terms for level 2 and 3, the unit from
  the entry plus the place;
- terms only: the catalogue without the model (level 1 from the terms too).
The unit counted is the proposal's first one, also below the confidence threshold (the
operator sees it first either way). Trains the default model into --model-dir if needed.

The same person wrote the texts and the catalogue's terms, so the set flatters the terms.

With --level3 it also trains the second model, the level-3 model of a city's history
(dispatch/entry_model.py), and prints it beside the terms-only routing in the same run. No
public data has real level-3 labels, so the "history" is made as the demo city's is: each
dev.csv message gets the entry the terms find under its true level 1 (its level 1's 其他
entry when they find none), as if an operator had confirmed the proposal. The history is
split by duplicate group; the model learns from 80% and is scored on:
- the 20% held out: agreement with labels the terms made (circular: it flatters the terms,
  and the level-1 model was trained on these messages too);
- the hand-labelled texts above, which neither model saw: the honest figure.
Three rows each: the terms only, the terms with the model as routing uses it, and the model
in place of the terms (what it knows on its own).
A second check reads real messages (classifier/data/dev.csv, labelled at level 1 only):
how many get a level-3 hit from the terms, and how often the terms alone agree with the
label at level 1 (the model is not scored there: it was trained on those messages).
"""
from __future__ import annotations

import csv
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from classifier.dataset import SHIPPED_DATA, read_examples  # noqa: E402
from classifier.storage import load_model  # noqa: E402
from classifier.training import ensure_default_model  # noqa: E402
from dispatch import entry_model  # noqa: E402
from dispatch.catalogue import from_city  # noqa: E402
from dispatch.catalogue_match import Catalogue  # noqa: E402
from dispatch.routing import Router, city_router  # noqa: E402
from dispatch.units import DEMO_CITY, load_city  # noqa: E402

DATA = Path(__file__).parent / "data" / "catalogue_texts.csv"


@dataclass(frozen=True)
class Case:
    text: str
    levels: tuple[str, str, str]
    unit: str


@dataclass
class Score:
    name: str
    hits: list[int]          # level 1, 2, 3, unit
    misses: list[str]

    def add(self, case: Case, levels: tuple[str, ...] | None, unit: str | None) -> None:
        got = tuple(levels or ("", "", ""))
        for depth in range(3):
            self.hits[depth] += got[:depth + 1] == case.levels[:depth + 1]
        self.hits[3] += unit == case.unit
        if got != case.levels or unit != case.unit:
            self.misses.append(f"{'/'.join(got) or '—'} → {unit}  (want {'/'.join(case.levels)} → {case.unit}): "
                               f"{case.text[:40]}")


def read_cases(path: Path) -> list[Case]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [Case(r["text"], tuple(r["expected"].split("/", 2)), r["unit"])  # type: ignore[arg-type]
                for r in csv.DictReader(handle)]


def first_unit(router: Router, text: str) -> str | None:
    answer = router.route(text)
    if answer.unit_code is not None:
        return answer.unit_code
    return answer.suggestions[0].unit_code if answer.suggestions else None


@click.command()
@click.option("--model-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("models"), show_default=True)
@click.option("--show-misses", is_flag=True, help="List each text a method got wrong.")
@click.option("--dev", "dev_count", default=2000, show_default=True, help="How many dev.csv messages to read.")
@click.option("--level3", is_flag=True, help="Train and score the level-3 model of a history (minutes).")
def main(model_dir: Path, show_misses: bool, dev_count: int, level3: bool) -> None:
    ensure_default_model(model_dir, lambda message: click.echo(message, err=True))
    model = load_model(model_dir)
    city = load_city(DEMO_CITY)
    catalogue: Catalogue = from_city(city)
    cases = read_cases(DATA)
    for case in cases:
        if catalogue.find("/".join(case.levels)) is None:
            raise click.ClickException(f"not in the catalogue: {'/'.join(case.levels)}")
    # The generous prior: each level 1's most common level 2 and 3 among the answers.
    prior = {l1: Counter(c.levels for c in cases if c.levels[0] == l1).most_common(1)[0][0]
             for l1 in {c.levels[0] for c in cases}}

    plain = city_router(city, model)                       # routing as it was: no catalogue
    routed = city_router(city, model, catalogue=catalogue)
    scores = [Score("baseline (model level 1 + most common child)", [0] * 4, []),
              Score("catalogue (model level 1 + terms)", [0] * 4, []),
              Score("terms only (no model)", [0] * 4, [])]
    for case in cases:
        level1 = model.predict(case.text, 1)[0].label
        scores[0].add(case, prior.get(level1, (level1, "", "")), first_unit(plain, case.text))
        answer = routed.route(case.text)
        entry = catalogue.find(answer.entry["code"]) if answer.entry else None
        scores[1].add(case, (entry.level1, entry.level2, entry.level3) if entry else None,
                      first_unit(routed, case.text))
        alone = catalogue.match(case.text)
        places = routed.gazetteer.find(case.text)
        unit = None
        if alone is not None:
            unit = places[0][1] if alone.item.local and places else alone.item.unit_code
        scores[2].add(case, (alone.item.level1, alone.item.level2, alone.item.level3) if alone else None, unit)

    n = len(cases)
    click.echo(f"{n} texts, {len(catalogue)} catalogue entries, {len(prior)} level-1 classes among the answers")
    click.echo(f"{'method':48} {'level 1':>8} {'level 2':>8} {'level 3':>8} {'unit':>8}")
    for score in scores:
        click.echo(f"{score.name:48} " + " ".join(f"{h / n:8.1%}" for h in score.hits))
    dev_check(catalogue, model, dev_count)
    if level3:
        level3_check(city, catalogue, model, cases)
    if show_misses:
        for score in scores:
            click.echo(f"\n{score.name}: {len(score.misses)} texts wrong")
            for line in score.misses:
                click.echo(f"  {line}")


def dev_check(catalogue: Catalogue, model: object, count: int) -> None:
    examples = read_examples(SHIPPED_DATA[0])[::max(1, len(read_examples(SHIPPED_DATA[0])) // count)][:count]
    with_model = terms_hit = terms_agree = 0
    for example in examples:
        text = f"{example.title}。{example.body}"
        level1 = model.predict(text, 1)[0].label  # type: ignore[attr-defined]
        match = catalogue.match(text, level1)
        with_model += bool(match is not None and match.terms)
        alone = catalogue.match(text)
        if alone is not None and alone.terms:
            terms_hit += 1
            terms_agree += alone.item.level1 == example.label
    n = len(examples)
    click.echo(f"\ndev.csv, {n} real messages (level-1 labels only):")
    click.echo(f"  an entry found by its terms (level 2 or 3), under the model's level 1: {with_model / n:6.1%}")
    click.echo(f"  terms alone: some entry found {terms_hit / n:6.1%}; its level 1 = the label in "
               f"{terms_agree / max(terms_hit, 1):6.1%} of those")


def history_of(catalogue: Catalogue) -> list:
    """dev.csv labelled at level 3 as the demo city's history is: the terms' entry under the
    message's own level 1, or that level 1's 其他 entry."""
    from classifier.dataset import Example
    from classifier.features import message_text

    history = []
    for example in read_examples(SHIPPED_DATA[0]):
        match = catalogue.match(message_text(example.title, example.body), example.label)
        if match is not None and match.item.level1 == example.label:
            history.append(Example(example.title, example.body, match.item.code, example.group))
    return history


def level3_check(city: object, catalogue: Catalogue, model: object, cases: list[Case]) -> None:
    import time

    from classifier.features import message_text
    from classifier.training import holdout_split

    history = history_of(catalogue)
    kept, held = holdout_split(history, 0.2)
    started = time.perf_counter()
    second = entry_model.train(kept, catalogue, min_tickets=1)
    seconds = time.perf_counter() - started
    assert second is not None
    used = sum(1 for c in second.confidence if c >= 0)
    assert 0 in second.confidence
    click.echo(f"\nlevel-3 model: {len(history)} dev.csv messages labelled by the terms, split by group: "
               f"trained on {second.trained_on} ({len(second.model.labels)} entries) in {seconds:.0f} s, "
               f"held out {len(held)}; on that history the terms' entry was right {second.confidence.get(-1, 0):.1%} "
               f"of their hits ({used - 1} score buckets), 其他 {second.confidence.get(0, 0):.1%} of no-hits")
    terms_router = city_router(city, model, catalogue=catalogue)  # type: ignore[arg-type]
    both_router = city_router(city, model, catalogue=catalogue)  # type: ignore[arg-type]
    both_router.entry_model = second
    # The model in place of the terms (every bucket's confidence 0): what it knows on its own.
    alone_router = city_router(city, model, catalogue=catalogue)  # type: ignore[arg-type]
    alone_router.entry_model = entry_model.EntryModel(second.model, second.level1_of,
                                                      {k: 0.0 for k in range(-1, entry_model.LONGEST_BUCKET + 1)},
                                                      second.trained_on)
    texts = [(c.text, c.levels, c.unit) for c in cases]
    items = [catalogue.find(e.label) for e in held]
    held_texts = [(message_text(e.title, e.body), (i.level1, i.level2, i.level3), None)
                  for e, i in zip(held, items) if i is not None]
    for name, rows in (("hand-labelled texts (never trained on)", texts),
                       ("held-out history (labels made by the terms)", held_texts)):
        click.echo(f"{name}, {len(rows)} texts")
        click.echo(f"  {'method':46} {'level 1':>8} {'level 2':>8} {'level 3':>8} {'unit':>8}  by model")
        for label, router in (("terms only (model level 1 + terms)", terms_router),
                              ("terms + level-3 model", both_router),
                              ("level-3 model in place of the terms", alone_router)):
            score, by_model = Score(label, [0] * 4, []), 0
            for text, levels, unit in rows:
                answer = router.route(text)
                entry = catalogue.find(answer.entry["code"]) if answer.entry else None
                by_model += bool(answer.entry and answer.entry.get("source") == "model")
                score.add(Case(text, levels, unit or ""), (entry.level1, entry.level2, entry.level3) if entry else None,
                          first_unit(router, text) if unit else None)
            n = len(rows)
            unit_figure = f"{score.hits[3] / n:8.1%}" if rows[0][2] else f"{'—':>8}"
            click.echo(f"  {label:46} " + " ".join(f"{h / n:8.1%}" for h in score.hits[:3]) +
                       f" {unit_figure}  {by_model / n:6.1%}")


if __name__ == "__main__":
    main()
