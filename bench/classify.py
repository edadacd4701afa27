"""Classifier speed: model load, single-message latency, batch throughput, beside jieba.lcut.

    .venv/bin/python bench/classify.py [--model-dir models] [--messages 2000]

Texts are dev.csv messages (title。body), the same strings for every line of the report.
Trains the default model into --model-dir first if there is none (not timed).
"""
from __future__ import annotations

import logging
import statistics
import sys
import time
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from classifier.dataset import SHIPPED_DATA, read_examples  # noqa: E402
from classifier.storage import load_model  # noqa: E402
from classifier.training import ensure_default_model  # noqa: E402


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:8.0f} messages/s"


@click.command()
@click.option("--model-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("models"), show_default=True)
@click.option("--messages", default=2000, show_default=True, help="How many dev.csv messages to run.")
@click.option("--batch", default=256, show_default=True, help="Batch size for predict_many.")
def main(model_dir: Path, messages: int, batch: int) -> None:
    import jieba  # the reference; its dictionary is global, fine in a benchmark

    jieba.setLogLevel(logging.WARNING)
    ensure_default_model(model_dir, lambda message: click.echo(message, err=True))
    texts = [f"{e.title}。{e.body}" for e in read_examples(SHIPPED_DATA[0])][:messages]
    chars = sum(map(len, texts)) / len(texts)
    click.echo(f"{len(texts)} messages, mean {chars:.0f} characters")

    loads = []
    for _ in range(3):
        started = time.perf_counter()
        model = load_model(model_dir)
        loads.append(time.perf_counter() - started)
    click.echo(f"model load (sha256 check + unpickle), best of 3 : {min(loads) * 1000:6.0f} ms (worst {max(loads) * 1000:.0f} ms)")

    # First calls build the rjieba dictionary and the long-text path's tables; a server does
    # it once. Warm both paths: short texts take another one (TrainedModel.predict).
    model.predict(max(texts, key=len))
    model.predict(min(texts, key=len))
    latencies = []
    for text in texts:
        started = time.perf_counter()
        model.predict(text)
        latencies.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(latencies, n=100)
    click.echo(f"single message latency      : p50 {cuts[49]:5.2f} ms   p99 {cuts[98]:5.2f} ms   max {max(latencies):5.2f} ms")

    started = time.perf_counter()
    for start in range(0, len(texts), batch):
        model.predict_many(texts[start : start + batch])
    ours = time.perf_counter() - started
    click.echo(f"classifier predict_many ({batch}) : {_rate(len(texts), ours)}")

    jieba.initialize()
    started = time.perf_counter()
    for text in texts:
        jieba.lcut(text)
    reference = time.perf_counter() - started
    click.echo(f"raw jieba.lcut               : {_rate(len(texts), reference)}")
    click.echo(f"classifier / jieba.lcut      : {reference / ours:8.1f} x")


if __name__ == "__main__":
    main()
