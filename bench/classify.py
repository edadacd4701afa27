"""Classifier speed: model load, single-message latency, batch throughput, beside jieba.lcut.

    .venv/bin/python bench/classify.py [--model-dir models] [--messages 2000] [--second-opinion]

Texts are dev.csv messages (title。body), the same strings for every line of the report.
Trains the default model into --model-dir first if there is none (not timed). The machine's
load average is printed at the start and the end (the machine is shared). The single-message
latency is also given for the confident messages alone (top probability >= --min-confidence:
the ones routed without the second opinion). --second-opinion (needs the `embeddings` extra)
times routing as the app does it: below the threshold, every label's probabilities and the
e5 second opinion.
"""
from __future__ import annotations

import logging
import os
import statistics
import sys
import time
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.memory import rss_mb  # noqa: E402
from classifier.dataset import SHIPPED_DATA, read_examples  # noqa: E402
from classifier.selective import routing_threshold  # noqa: E402
from classifier.storage import load_model  # noqa: E402
from classifier.training import ensure_default_model  # noqa: E402


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:8.0f} messages/s"


@click.command()
@click.option("--model-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("models"), show_default=True)
@click.option("--messages", default=2000, show_default=True, help="How many dev.csv messages to run.")
@click.option("--batch", default=256, show_default=True, help="Batch size for predict_many.")
@click.option("--min-confidence", type=float, default=None,
              help="The routing threshold (HOTLINE_ROUTING_MIN_CONFIDENCE). Default: routing's, with or without "
                   "the second opinion.")
@click.option("--second-opinion", is_flag=True, help="Also time the e5 second opinion where routing asks it.")
def main(model_dir: Path, messages: int, batch: int, min_confidence: float | None, second_opinion: bool) -> None:
    import jieba  # the reference; its dictionary is global, fine in a benchmark

    jieba.setLogLevel(logging.WARNING)
    click.echo(f"load average at start        : {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
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
    # Each text is timed with the model, then (same run, interleaved, so both see the same
    # machine) with the raw-tf SVM alone, as the model was before its log-tf partner.
    partner = model.partner
    fast_threshold = routing_threshold(min_confidence)
    latencies, confident, single, cpu = [], [], [], []
    for text in texts:
        started, cpu_started = time.perf_counter(), time.thread_time()
        top = model.predict(text)
        latencies.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - cpu_started) * 1000)
        confident.append(top[0].probability >= fast_threshold)
        if partner is not None:
            model.partner = None
            started = time.perf_counter()
            model.predict(text)
            single.append((time.perf_counter() - started) * 1000)
            model.partner = partner
    click.echo("single message latency      : " + _cuts(latencies))
    # Wall time includes the time the process waited for a core; on a shared, loaded machine
    # that is most of it. The thread's own CPU time is the cost of the fast path itself.
    click.echo("  its CPU time (thread_time)  : " + _cuts(cpu))
    sure = [ms for ms, ok in zip(latencies, confident) if ok]
    click.echo(f"  confident ones (>= {fast_threshold}, {len(sure) / len(texts):.1%}): " + _cuts(sure))
    if single:
        click.echo("  raw-tf SVM alone (baseline): " + _cuts(single))

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
    if second_opinion:
        _second_opinion(model, texts, min_confidence)
    click.echo(f"load average at end          : {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def _cuts(latencies: list[float]) -> str:
    cuts = statistics.quantiles(latencies, n=100)
    return f"p50 {cuts[49]:5.2f} ms   p99 {cuts[98]:5.2f} ms   max {max(latencies):5.2f} ms"


def _second_opinion(model, texts: list[str], min_confidence: float | None) -> None:  # type: ignore[no-untyped-def]
    """Per message as dispatch.routing.Router spends it: top three, then where it is asked
    every label's probabilities and the e5 second opinion."""
    from classifier.second_opinion import load_second_opinion

    before_load, started = rss_mb(), time.perf_counter()
    opinion = load_second_opinion(model.labels)
    if opinion is None:
        click.echo("second opinion: not available (pip install '.[embeddings]')")
        return
    click.echo(f"e5 second opinion load       : {time.perf_counter() - started:.2f} s; process memory "
               f"{before_load:.0f} MB with the fast model -> {rss_mb():.0f} MB")
    opinion.revise(texts[0], model.predict(texts[0], 1000))  # warm e5
    threshold = routing_threshold(min_confidence, opinion)
    routed, asked, slow = [], 0, []
    for text in texts:
        started = time.perf_counter()
        top = model.predict(text, 3)
        if opinion.asked(top[0].probability, threshold):
            asked += 1
            before = time.perf_counter()
            opinion.revise(text, model.predict(text, 1000))
            slow.append((time.perf_counter() - before) * 1000)
        routed.append((time.perf_counter() - started) * 1000)
    click.echo(f"with the e5 second opinion   : {asked} asked ({asked / len(texts):.1%}); all messages " + _cuts(routed)
               + f"; {len(texts) / (sum(routed) / 1000):.1f} messages/s one thread")
    if len(slow) > 1:   # the default model trained on these messages is rarely unsure of them
        click.echo("  e5 per asked message       : " + _cuts(slow))


if __name__ == "__main__":
    main()
