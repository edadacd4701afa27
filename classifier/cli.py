"""The `classifier` command group: train, eval, predict.

build_group() makes a fresh group, so the hotline CLI can attach it and pass how a label
becomes a unit (`unit_for_label`) for predict's output, and the key that signs and checks
model files (`model_key`, read when a command runs). scikit-learn and the model code are
imported when a command runs, not when the group is built.
"""
from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import click

from typing import TYPE_CHECKING

from classifier.dataset import HOLDOUT, SHIPPED_DATA, Example, read_examples
from classifier.errors import ClassifierError
from classifier.text import content_problem

if TYPE_CHECKING:
    from classifier.model import Prediction

UnitForLabel = Callable[[str], str | None]

MODEL_DIR = "models"
_model_dir = click.option(
    "--model-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=MODEL_DIR,
    show_default=True,
    envvar="HOTLINE_MODEL_DIR",
    help="Folder of model files; models are loaded from nowhere else.",
)


def format_predictions(predictions: Sequence[Prediction], unit_for_label: UnitForLabel | None = None) -> str:
    """One line per prediction: rank, label, probability and, when given, the unit it routes to."""
    lines = []
    for rank, prediction in enumerate(predictions, 1):
        line = f"{rank}. {prediction.label}  {prediction.probability:.3f}"
        if unit_for_label is not None:
            line += f"  -> {unit_for_label(prediction.label) or '(no unit)'}"
        lines.append(line)
    return "\n".join(lines)


def build_group(unit_for_label: UnitForLabel | None = None,
                model_key: Callable[[], str | None] = lambda: None,
                min_confidence: Callable[[], float | None] = lambda: None) -> click.Group:
    min_confidence_setting = min_confidence

    @click.group(name="classifier", help="Train, evaluate and try the request classifier.")
    def group() -> None:
        pass

    @group.command(help="Train a model on CSV files (title, body, label) and save it.")
    @click.option("--data", "data", type=click.Path(exists=True, dir_okay=False, path_type=Path), multiple=True,
                  help="CSV with title, body, label columns (repeatable). Default: the shipped data.")
    @_model_dir
    @click.option("--holdout", type=click.FloatRange(0, 0.5), default=HOLDOUT, show_default=True,
                  help="Fraction held out (by duplicate group) to report metrics on; 0 skips it.")
    @click.option("--user-words", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help="Extra words to keep whole, one a line (e.g. the city's place names).")
    def train(data: tuple[Path, ...], model_dir: Path, holdout: float, user_words: Path | None) -> None:
        from classifier.evaluation import format_report
        from classifier.training import train_and_save

        examples = _read(data or SHIPPED_DATA)
        words = _words(user_words)
        click.echo(f"training on {len(examples)} examples from {', '.join(str(p) for p in data or SHIPPED_DATA)}", err=True)
        path, metrics = _fail_clearly(lambda: train_and_save(
            examples, model_dir, user_words=words, holdout=holdout, progress=ProgressPrinter(), key=model_key()))
        if "holdout" in metrics:
            click.echo(f"held-out slice ({holdout:.0%} of the data, split by duplicate group), "
                       "scored by a model trained on the rest:")
            click.echo(format_report(metrics["holdout"]))
        click.echo(f"model written to {path}")

    @group.command(name="eval", help="Score the newest model on a labelled CSV file.")
    @click.option("--data", "data", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
                  help="CSV with title, body, label columns; other columns are ignored.")
    @_model_dir
    @click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
    @click.option("--min-confidence", type=click.FloatRange(0, 1), default=None, envvar="HOTLINE_ROUTING_MIN_CONFIDENCE",
                  help="Routing threshold for the at_threshold figures. Default: the hotline's setting, else "
                       "routing's own default (the fast model's, or the second opinion's when it is asked).")
    @click.option("--fast-only", is_flag=True,
                  help="Score the fast model alone, even when the e5 second opinion (the embeddings extra) is installed.")
    def eval_(data: Path, model_dir: Path, as_json: bool, min_confidence: float | None, fast_only: bool) -> None:
        from classifier.evaluation import evaluate, format_report
        from classifier.second_opinion import CACHE_FOLDER, load_second_opinion
        from classifier.selective import routing_threshold
        from classifier.training import ensure_default_model

        examples = _read([data])
        model = _fail_clearly(lambda: ensure_default_model(model_dir, _say, key=model_key()))
        # Scored as routing works: with the second opinion where routing asks it, when it is there.
        opinion = None if fast_only else load_second_opinion(model.labels, cache=model_dir / CACHE_FOLDER,
                                                             secret=model_key())
        threshold = routing_threshold(min_confidence if min_confidence is not None else min_confidence_setting(),
                                      opinion)
        if opinion is not None:
            _say(f"the e5 second opinion is installed: messages it is asked for (the fast model below "
                 f"{max(opinion.ask_below, threshold):.2f}) are scored as revised by it")
        metrics = evaluate(model, examples, min_confidence=threshold, second_opinion=opinion)
        if as_json:
            click.echo(json.dumps(metrics, ensure_ascii=False))
        else:
            click.echo(format_report(metrics))

    @group.command(help="Show the top labels for one message text.")
    @click.argument("text")
    @_model_dir
    @click.option("-k", "--top", default=3, show_default=True, type=click.IntRange(1, 20))
    def predict(text: str, model_dir: Path, top: int) -> None:
        from classifier.training import ensure_default_model

        model = _fail_clearly(lambda: ensure_default_model(model_dir, _say, key=model_key()))
        problem = content_problem(text)
        if problem is not None:
            click.echo(f"no usable content ({problem.value}): this goes to manual triage", err=True)
        click.echo(format_predictions(model.predict(text, k=top), unit_for_label))

    return group


cli = build_group()


def _read(paths: Sequence[Path]) -> list[Example]:
    examples = _fail_clearly(lambda: [example for path in paths for example in read_examples(path)])
    if not examples:
        raise click.ClickException("no labelled rows in " + ", ".join(str(p) for p in paths))
    return examples


def _words(path: Path | None) -> tuple[str, ...]:
    if path is None:
        return ()
    return tuple(line.strip() for line in path.read_text(encoding="utf-8-sig").splitlines() if line.strip())


def _fail_clearly(action):  # type: ignore[no-untyped-def]
    try:
        return action()
    except ClassifierError as error:
        raise click.ClickException(str(error)) from error


def _say(message: str) -> None:
    click.echo(message, err=True)


class ProgressPrinter:
    """Progress on stderr. A terminal gets one line redrawn; a pipe or a log, which cannot
    redraw, gets a line when a step starts, at each quarter and when it ends, so that a long
    step (fitting takes minutes on the full data) is not silent until it is over."""

    def __init__(self) -> None:
        self._quarters: dict[str, int] = {}

    def __call__(self, step: str, done: int, total: int) -> None:
        if sys.stderr.isatty():
            click.echo(f"\r{step} {done}/{total}   ", nl=False, err=True)
            if done >= total:
                click.echo("", err=True)
            return
        quarter = 4 * done // total if total else 4
        if quarter > self._quarters.get(step, -1):
            self._quarters[step] = quarter
            click.echo(f"{step} {done}/{total}", err=True)


if __name__ == "__main__":
    cli()
