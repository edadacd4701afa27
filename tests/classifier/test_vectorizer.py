"""The fast word/char paths of the vectorizer give exactly what the general path gives."""
from __future__ import annotations

import numpy as np

from classifier.model import TrainedModel
from classifier.text import normalise
from classifier.vectorizer import char_ngrams, word_ngrams

TEXTS = ["济水大街路灯坏了一周，晚上很黑。", "", "hello 123", "😡😡", "老板拖欠农民工工资三个月" * 40,
         "ＡＢＣ１２３全角字符", "𠀀罕见字𪚥"]


def _same(fast, slow) -> None:  # type: ignore[no-untyped-def]
    assert fast.shape == slow.shape
    assert (fast != slow).nnz == 0 and np.array_equal(fast.indices, slow.indices)


def test_fast_char_and_word_paths_match_the_general_path(small_model: TrainedModel) -> None:
    features = small_model.features
    cleaned = [normalise(t, features.settings.max_chars) for t in TEXTS]
    tokens = [features.tokenizer(t) for t in cleaned]
    chars, words = features._chars, features._words  # the two fitted vectorizers
    for low, high in [(1, 1), (1, 2), (2, 2)]:
        _same(chars.transform_chars(cleaned, low, high), chars.transform(char_ngrams(t, low, high) for t in cleaned))
        _same(words.transform_tokens(tokens, low, high), words.transform(word_ngrams(d, low, high) for d in tokens))
