"""`hotline classifier ...`: the classifier's own commands (train, eval, predict), with the
unit each label routes to, plus the two that need the ticket database: export (a city's
own ticket history as training data) and retrain (the guarded retrain: dispatch/retraining.py)."""
from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from classifier.cli import build_group
from classifier.errors import ClassifierError

if TYPE_CHECKING:
    from web.config import Settings

def classifier_group(get_settings: Callable[[], Settings]) -> click.Group:
    """Settings are read when a command runs, not when the CLI is built."""

    def unit_for_label(label: str) -> str | None:
        from dispatch.units import DEMO_CITY, load_city
        from web.messages import OR_LOCAL_TOWNSHIP

        city = load_city(get_settings().city_file or DEMO_CITY)
        units = {u.code: u.name for u in city.units}
        code = city.categories.get(label)
        if code is None:
            return None
        local = OR_LOCAL_TOWNSHIP if label in city.local_categories else ""
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

    @group.command(help="Guarded retrain: train on the shipped data (or --base) plus the city's resolved tickets "
                        "and operators' corrections; the new model is saved, and used, only if it scores no worse "
                        "than the current one on the newest corrections, held out. Logged either way.")
    @click.option("--base", "base", type=click.Path(exists=True, dir_okay=False, path_type=Path), multiple=True,
                  help="training CSV instead of the shipped data (repeatable)")
    @click.option("--model-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                  help="default: HOTLINE_MODEL_DIR")
    def retrain(base: tuple[Path, ...], model_dir: Path | None) -> None:
        from classifier import ModelNotFound, load_model, read_examples, shipped_examples
        from classifier.cli import ProgressPrinter
        from dispatch import db, retraining

        settings = get_settings()
        folder = model_dir or settings.model_dir
        engine = db.make_engine(settings.database_url)
        try:
            with db.make_sessionmaker(engine)() as session:
                data = retraining.city_data(session)
            if not data.corrections:
                raise click.ClickException("no corrections recorded yet: nothing to fold in")
            try:
                examples = [e for path in base for e in read_examples(path)] if base else shipped_examples()
                try:
                    current = load_model(folder, key=settings.model_key)
                except ModelNotFound:
                    current = None
            except ClassifierError as exc:
                raise click.ClickException(str(exc)) from None
            click.echo(f"{len(data.corrections)} corrections, {len(data.resolved)} resolved tickets, "
                       f"{len(examples)} base examples", err=True)
            result = retraining.guarded_retrain(data, examples, current, folder, key=settings.model_key,
                                                user_words=_place_names(get_settings), progress=ProgressPrinter())
            with db.make_sessionmaker(engine).begin() as session:
                retraining.log_result(session, result, actor="cli", trigger="cli")
        finally:
            engine.dispose()
        click.echo(f"{'held-out corrections':24}{result.held_out:>10}")
        click.echo(f"{'':24}{'current':>10}{'new':>10}")
        click.echo(f"{'accuracy on them':24}{_score(result.old_score):>10}{_score(result.new_score):>10}")
        if result.swapped:
            click.echo(f"new model in use: {result.model_path} ({result.reason_text}); "
                       "running servers pick it up within seconds")
        else:
            click.echo(f"kept the current model: {result.reason_text}")

    return group


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _place_names(get_settings: Callable[[], Settings]) -> list[str]:
    from dispatch.units import DEMO_CITY, load_city

    city = load_city(get_settings().city_file or DEMO_CITY)
    return sorted({name for names in city.gazetteer.values() for name in names})
