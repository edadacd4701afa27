"""Memory of the e5 second opinion in N processes at once, as `hotline serve --workers N` has
them: each builds its own float32 weights in memory (the baseline, `FineTunedE5()`), or all
map one file (`FineTunedE5(cache=...)`), first when the file is not there yet (the processes
start together: one builds it while the others wait), then when it is.

    .venv/bin/python bench/second_opinion_memory.py [--workers 2] [--cache /tmp/e5-bench]

Needs the `embeddings` extra. Each process imports numpy, scipy and scikit-learn first (the
app has them loaded), reads /proc/self/smaps_rollup, loads the models, answers one message,
waits until every process has done so, and reads it again: the figures are the growth. PSS
shares a page among the processes that map it, so its sum over the processes is what the
machine pays; private is what each pays alone.
"""
from __future__ import annotations

import argparse
import multiprocessing
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FIELDS = ("Rss", "Pss", "Private_Clean", "Private_Dirty")
TEXT = "噪音扰民。楼下饭店油烟和噪音每天到半夜，多次反映没人管。"


def _rollup() -> dict[str, int]:
    """kB by field, this process."""
    found = {}
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines():
        name, *rest = line.split()
        if name.rstrip(":") in FIELDS:
            found[name.rstrip(":")] = int(rest[0])
    return found


def _worker(cache: str | None, loaded, results) -> None:  # type: ignore[no-untyped-def]
    import numpy  # noqa: F401
    import scipy.special  # noqa: F401
    import sklearn.linear_model  # noqa: F401

    before = _rollup()
    from classifier.second_opinion import FineTunedE5

    started = time.perf_counter()
    model = FineTunedE5(cache=Path(cache) if cache else None)
    seconds = time.perf_counter() - started
    model(TEXT)
    loaded.wait()
    after = _rollup()
    results.put((seconds, {name: (after[name] - before[name]) / 1024 for name in FIELDS}))
    loaded.wait()    # held until every process has been read


def run(workers: int, cache: Path | None) -> tuple[float, dict[str, float], float]:
    """(slowest load in s, MB summed over the processes, largest private MB of one)."""
    context = multiprocessing.get_context("spawn")
    loaded, results = context.Barrier(workers), context.Queue()
    processes = [context.Process(target=_worker, args=(str(cache) if cache else None, loaded, results))
                 for _ in range(workers)]
    for process in processes:
        process.start()
    found = [results.get(timeout=600) for _ in processes]
    for process in processes:
        process.join(60)
    total = {name: sum(figures[name] for _, figures in found) for name in FIELDS}
    private = max(figures["Private_Clean"] + figures["Private_Dirty"] for _, figures in found)
    return max(seconds for seconds, _ in found), total, private


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/e5-bench-cache"))
    args = parser.parse_args()
    shutil.rmtree(args.cache, ignore_errors=True)
    print(f"{args.workers} processes, each with the three fine-tuned models; MB of growth")
    print(f"{'':38} {'load s':>7} {'RSS sum':>8} {'PSS sum':>8} {'private, one':>13}")
    for title, cache in (("built in memory (baseline)", None), ("mapped, file not there yet", args.cache),
                         ("mapped, file there", args.cache)):
        seconds, total, private = run(args.workers, cache)
        print(f"{title:38} {seconds:7.2f} {total['Rss']:8.0f} {total['Pss']:8.0f} {private:13.0f}")
    size = sum(path.stat().st_size for path in args.cache.glob("*.f32")) / 1e6
    print(f"weight file: {size:.0f} MB in {args.cache}")
    shutil.rmtree(args.cache, ignore_errors=True)


if __name__ == "__main__":
    main()
