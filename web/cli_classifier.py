"""`hotline classifier ...`: the classifier's own commands (train, eval, predict), with the
unit each label routes to, plus the two that need the ticket database: export (a city's
own ticket history as training data) and retrain (fold in operators' corrections)."""
from __future__ import annotations

import csv
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from classifier.cli import build_group
from classifier.errors import ClassifierError

if TYPE_CHECKING:
    from web.config import Settings

# A correction is one ticket against thousands of shipped rows; counting it a few times lets
# an operator's decision move the model without one mistake dominating it.
CORRECTION_WEIGHT = 3


def classifier_group(get_settings: Callable[[], Settings]) -> click.Group:
    """Settings are read when a command runs, not when the CLI is built."""

    def unit_for_label(label: str) -> str | None:
        from dispatch.units import DEMO_CITY, load_city

        city = load_city(get_settings().city_file or DEMO_CITY)
        units = {u.code: u.name for u in city.units}
        code = city.categories.get(label)
        if code is None:
            return None
        local = "（或属地乡镇/街道）" if label in city.local_categories else ""
        return units.get(code, code) + local

    group = build_group(unit_for_label, model_key=lambda: get_settings().model_key,
                        min_confidence=lambda: get_settings().routing_min_confidence)

    @group.command(help="Write the tickets' final categories as training CSV (title, body, label).")
    @click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
    def export(out: Path) -> None:
        from sqlalchemy import select

        from dispatch import db
        from dispatch.models import Ticket
        from dispatch.states import RESOLVED_STATES

        settings = get_settings()
        engine = db.make_engine(settings.database_url)
        try:
            with db.make_sessionmaker(engine)() as session, out.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(["title", "body", "label"])
                rows = session.execute(select(Ticket.title, Ticket.body, Ticket.category)
                                       .where(Ticket.category.is_not(None),
                                              Ticket.state.in_([s.value for s in RESOLVED_STATES]))
                                       .order_by(Ticket.id).execution_options(yield_per=5000))
                count = 0
                for title, body, label in rows:
                    writer.writerow([title, body, label])
                    count += 1
        finally:
            engine.dispose()
        click.echo(f"{count} tickets written to {out}")

    @group.command(help="Retrain on the shipped data (or --base) plus operators' corrections; "
                        "show the scores before and after.")
    @click.option("--base", "base", type=click.Path(exists=True, dir_okay=False, path_type=Path), multiple=True,
                  help="training CSV instead of the shipped data (repeatable)")
    @click.option("--model-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                  help="default: HOTLINE_MODEL_DIR")
    def retrain(base: tuple[Path, ...], model_dir: Path | None) -> None:
        from classifier import Example, evaluate, load_model, read_examples, shipped_examples, train_and_save
        from dispatch import db
        from dispatch.routing import corrections

        settings = get_settings()
        folder = model_dir or settings.model_dir
        engine = db.make_engine(settings.database_url)
        try:
            with db.make_sessionmaker(engine)() as session:
                taught = [Example(title=c.title, body=c.body, label=c.label) for c in corrections(session)]
        finally:
            engine.dispose()
        if not taught:
            raise click.ClickException("no corrections recorded yet: nothing to fold in")
        try:
            examples = [e for path in base for e in read_examples(path)] if base else shipped_examples()
            before = load_model(folder, key=settings.model_key)
        except ClassifierError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"{len(taught)} corrections, {len(examples)} base examples", err=True)
        scores_before = evaluate(before, taught)
        path, metrics = train_and_save(examples + taught * CORRECTION_WEIGHT, folder,
                                       progress=_progress, key=settings.model_key)
        after = load_model(folder, key=settings.model_key)
        scores_after = evaluate(after, taught)
        click.echo(f"{'':24}{'before':>10}{'after':>10}")
        click.echo(f"{'corrections accuracy':24}{scores_before['accuracy']:>10.3f}{scores_after['accuracy']:>10.3f}")
        if "holdout" in metrics:
            click.echo(f"{'held-out macro-F1':24}{before_holdout(folder, path):>10}{metrics['holdout']['macro_f1']:>10.3f}")
        click.echo(f"model written to {path}")

    return group


def before_holdout(folder: Path, new_path: Path) -> str:
    """The previous model's recorded held-out macro-F1, for comparison ('-' if none)."""
    from classifier.storage import model_files, read_sidecar

    older = [p for p in model_files(folder) if p != new_path]
    if not older:
        return "-"
    holdout = read_sidecar(older[-1]).get("metrics", {}).get("holdout", {})
    return f"{holdout['macro_f1']:.3f}" if "macro_f1" in holdout else "-"


def _progress(step: str, done: int, total: int) -> None:
    if done >= total:
        print(f"{step} {done}/{total}", file=sys.stderr)
