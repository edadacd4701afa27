"""Weights written once and mapped: built only when their file is missing or not sound, read
back exactly, shared between processes through the page cache."""
from __future__ import annotations

import hashlib
import json
import multiprocessing
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from classifier.mapped_weights import mapped_arrays, cache_name

KEY = "a" * 64


class Weights:
    """Arrays of known values that count how often they are built."""

    def __init__(self, seed: int = 0, rows: int = 64) -> None:
        generator = np.random.default_rng(seed)
        self.arrays = {"l0.w": generator.standard_normal((rows, 48), dtype=np.float32),
                       "l0.b": generator.standard_normal(48, dtype=np.float32),
                       "head.w": generator.standard_normal((48, 7), dtype=np.float32)}
        self.built = 0

    def __call__(self) -> Iterator[tuple[str, np.ndarray]]:
        self.built += 1
        yield from self.arrays.items()


def same(found: dict[str, np.ndarray], weights: Weights) -> bool:
    return list(found) == list(weights.arrays) and all(
        found[name].shape == array.shape and np.array_equal(found[name], array) for name, array in weights.arrays.items())


def test_built_once_then_mapped_read_only(tmp_path: Path) -> None:
    weights = Weights()
    first = mapped_arrays(tmp_path, KEY, weights)
    again = mapped_arrays(tmp_path, KEY, weights)
    assert weights.built == 1
    assert same(first, weights) and same(again, weights)
    for array in again.values():
        assert isinstance(array.base, np.memmap) and not array.flags.writeable
    with pytest.raises(ValueError):
        again["l0.b"][0] = 1.0


def test_a_file_that_does_not_match_its_digest_is_built_again(tmp_path: Path) -> None:
    weights = Weights()
    mapped_arrays(tmp_path, KEY, weights)
    data = tmp_path / f"{KEY}.f32"
    damaged = bytearray(data.read_bytes())
    damaged[100] ^= 0xFF
    data.write_bytes(bytes(damaged))
    assert same(mapped_arrays(tmp_path, KEY, weights), weights)
    assert weights.built == 2
    data.write_bytes(data.read_bytes()[:-4])   # cut short
    assert same(mapped_arrays(tmp_path, KEY, weights), weights)
    assert weights.built == 3


def test_with_a_secret_a_file_signed_otherwise_is_built_again(tmp_path: Path) -> None:
    weights = Weights()
    mapped_arrays(tmp_path, KEY, weights)                        # written with no secret: unsigned
    mapped_arrays(tmp_path, KEY, weights, secret="city secret")
    assert weights.built == 2
    assert same(mapped_arrays(tmp_path, KEY, weights, secret="city secret"), weights)
    assert weights.built == 2
    mapped_arrays(tmp_path, KEY, weights, secret="another secret")
    assert weights.built == 3
    index = tmp_path / f"{KEY}.json"                             # a digest rewritten by hand, unsigned
    recorded = json.loads(index.read_text())
    data = tmp_path / f"{KEY}.f32"
    values = np.memmap(data, dtype="<f4", mode="r+")
    values[0] += 1
    values.flush()
    del values
    recorded["sha256"] = hashlib.sha256(data.read_bytes()).hexdigest()
    index.write_text(json.dumps(recorded))
    assert same(mapped_arrays(tmp_path, KEY, weights, secret="another secret"), weights)
    assert weights.built == 4


def test_new_sources_replace_the_old_file(tmp_path: Path) -> None:
    old, new = tmp_path / "old.bin", tmp_path / "new.bin"
    old.write_bytes(b"weights of last year")
    new.write_bytes(b"weights of this year")
    cache = tmp_path / "cache"
    old_key, new_key = cache_name([old], layout="test"), cache_name([new], layout="test")
    assert old_key != new_key and old_key == cache_name([old], layout="test") != cache_name([old], layout="other")
    mapped_arrays(cache, old_key, Weights(seed=1))
    (cache / f"{new_key}.f32.999999.tmp").write_bytes(b"half a file of a builder that died")
    weights = Weights(seed=2)
    assert same(mapped_arrays(cache, new_key, weights), weights)
    assert sorted(p.name for p in cache.iterdir() if not p.name.startswith(".")) == [f"{new_key}.f32", f"{new_key}.json"]


def test_where_the_folder_cannot_be_written_the_arrays_are_kept_in_memory(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    weights = Weights()
    found = mapped_arrays(tmp_path / "file" / "cache", KEY, weights)
    assert same(found, weights)
    assert not any(isinstance(array.base, np.memmap) for array in found.values())


class SlowWeights(Weights):
    """Built slowly, each build written down in a file that the processes share."""

    def __init__(self, log: Path) -> None:
        super().__init__()
        self.log = log

    def __call__(self) -> Iterator[tuple[str, np.ndarray]]:
        with open(self.log, "a") as file:
            file.write("built\n")
        time.sleep(0.5)
        yield from super().__call__()


def _start_together(folder: Path, log: Path, go) -> None:  # type: ignore[no-untyped-def]
    go.wait(30)
    weights = SlowWeights(log)
    assert same(mapped_arrays(folder, KEY, weights), weights)


def test_processes_starting_together_build_the_file_once(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    go, log = context.Event(), tmp_path / "builds.log"
    processes = [context.Process(target=_start_together, args=(tmp_path / "cache", log, go)) for _ in range(3)]
    for process in processes:
        process.start()
    go.set()
    for process in processes:
        process.join(60)
    assert [process.exitcode for process in processes] == [0, 0, 0]
    assert log.read_text().splitlines() == ["built"]


def _map_and_hold(folder: Path, ready, done) -> None:  # type: ignore[no-untyped-def]
    arrays = mapped_arrays(folder, KEY, Weights(rows=40_000))
    ready.put(float(sum(float(a.sum()) for a in arrays.values())))   # every page read
    done.wait(30)


def _clean_pages(path: Path) -> tuple[int, int]:
    """This process's (shared, private) clean kB of its mapping of `path` (/proc/self/smaps)."""
    shared = private = 0
    inside = False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        fields = line.split()
        if fields and "-" in fields[0] and len(fields) >= 5:
            inside = len(fields) >= 6 and fields[-1] == str(path)
        elif inside and fields[0] == "Shared_Clean:":
            shared += int(fields[1])
        elif inside and fields[0] == "Private_Clean:":
            private += int(fields[1])
    return shared, private


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/smaps")
def test_two_processes_share_one_copy(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    ready, done = context.Queue(), context.Event()
    child = context.Process(target=_map_and_hold, args=(tmp_path, ready, done))
    child.start()
    try:
        total = ready.get(timeout=60)
        arrays = mapped_arrays(tmp_path, KEY, Weights(rows=40_000))
        assert float(sum(float(a.sum()) for a in arrays.values())) == total
        shared, private = _clean_pages(tmp_path / f"{KEY}.f32")
        size = (tmp_path / f"{KEY}.f32").stat().st_size // 1024   # 7.5 MB
        assert shared > 0.9 * size and private < 0.1 * size, (shared, private, size)
    finally:
        done.set()
        child.join(30)
