"""Training time of the default model, its SVMs fitted one after another and side by side.

    .venv/bin/python bench/classify_train.py [--rounds 1]

Trains the default model on the shipped data (what first start does, twice: the held-out
check, then the final model) with ModelSettings(threads=1), the baseline, and with
threads=2, alternating, and prints the load average beside each. liblinear releases the
GIL, so the calibration folds and the final SVM of both SVMs can fit at once.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from classifier.dataset import shipped_examples  # noqa: E402
from classifier.model import ModelSettings, texts_of, train  # noqa: E402
from classifier.text import read_user_dict  # noqa: E402


@click.command()
@click.option("--rounds", default=1, show_default=True)
def main(rounds: int) -> None:
    examples = shipped_examples()
    words = tuple(read_user_dict())
    texts = texts_of(examples[:500])
    tables = {}
    for round_ in range(1, rounds + 1):
        for threads in (1, 2):
            load = os.getloadavg()[0]
            started = time.perf_counter()
            model = train(examples, user_words=words, settings=ModelSettings(threads=threads))
            seconds = time.perf_counter() - started
            tables[threads] = model.probabilities(texts)
            click.echo(f"round {round_}  threads={threads}{' (baseline)' if threads == 1 else ''}  "
                       f"{len(examples)} rows  {seconds:6.1f} s  load average {load:.1f} -> {os.getloadavg()[0]:.1f}")
    diff = np.abs(tables[1] - tables[2]).max()
    same = (tables[1].argmax(1) == tables[2].argmax(1)).mean()
    click.echo(f"500 messages: max probability difference {diff:.2e}, same top label {same:.1%}")


if __name__ == "__main__":
    main()
