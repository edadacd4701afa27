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


def test_one_text_without_a_matrix_matches_the_matrix_path(small_model: TrainedModel) -> None:
    features = small_model.features
    matrix = features.transform(TEXTS)
    for i, text in enumerate(TEXTS):
        columns, values = features.transform_one(text)
        row = matrix.getrow(i)
        order = np.argsort(columns)
        assert np.array_equal(columns[order], row.indices), text
        np.testing.assert_allclose(values[order], row.data, rtol=1e-6, atol=1e-7)
    # And the model's single-text answer is the batch answer, on both sides of the switch.
    for text in TEXTS + ["商户占道经营，" * 60]:
        one, batch = small_model.predict(text, 7), small_model.predict_many([text], 7)[0]
        assert [p.label for p in one][:3] == [p.label for p in batch][:3], text
        np.testing.assert_allclose([p.probability for p in one], [p.probability for p in batch], atol=1e-5)
