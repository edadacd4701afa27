"""Training time against the number of classes, with progress shown.

    .venv/bin/python bench/classify_classes.py [--classes 60] [--per-class 120]

Baseline, in the same run: the default model trained on the shipped data (7 classes).
Then the shipped texts with --classes labels (each category split in parts by duplicate
group: the same features, more classes), and synthetic messages (tests/classifier/synthetic.py)
with --classes classes and --per-class rows each (short texts: fewer features). LinearSVC fits one-vs-rest, so fitting grows with the
number of classes; calibration adds 3 folds of it.
"""
from __future__ import annotations

import sys
import time
import zlib
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from classifier.cli import ProgressPrinter  # noqa: E402
from classifier.dataset import Example, shipped_examples  # noqa: E402
from classifier.evaluation import evaluate  # noqa: E402
from classifier.model import train  # noqa: E402
from tests.classifier.synthetic import synthetic_examples  # noqa: E402


def _timed(name: str, examples, held=None) -> None:  # type: ignore[no-untyped-def]
    click.echo(f"{name}: {len(examples)} rows, {len({e.label for e in examples})} classes", err=True)
    started = time.perf_counter()
    model = train(examples, progress=ProgressPrinter())
    seconds = time.perf_counter() - started
    line = f"{name:28} {len(examples):6d} rows  {len(model.labels):4d} classes  {seconds:6.1f} s"
    if held:
        line += f"  held-out accuracy {evaluate(model, held)['accuracy']:.3f}"
    click.echo(line)


@click.command()
@click.option("--classes", default=60, show_default=True)
@click.option("--per-class", default=120, show_default=True)
def main(classes: int, per_class: int) -> None:
    shipped = shipped_examples()
    _timed("baseline: shipped data", shipped)
    labels = sorted({e.label for e in shipped})
    parts = -(-classes // len(labels))
    split = [Example(e.title, e.body, f"{e.label}-{zlib.crc32((e.group or e.title).encode()) % parts}") for e in shipped]
    _timed(f"shipped texts, {len(labels) * parts} labels", split)
    examples = synthetic_examples(classes, per_class + 20, seed=1)
    cut = classes * per_class
    _timed(f"synthetic, {classes} classes", examples[:cut], examples[cut:])


if __name__ == "__main__":
    main()
