from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from classifier.dataset import Example
from classifier.evaluation import evaluate
from classifier.model import ROW_PATH_CHARS, TrainedModel, texts_of
from classifier.text import ContentProblem, Tokenizer, content_problem, has_content, normalise


def test_model_beats_majority_class_baseline_on_held_out_messages(small_model, slices):
    train_part, held_out = slices
    majority_label, _ = Counter(e.label for e in train_part).most_common(1)[0]
    majority_accuracy = sum(e.label == majority_label for e in held_out) / len(held_out)

    metrics = evaluate(small_model, held_out)

    assert metrics["accuracy"] >= majority_accuracy + 0.45
    assert metrics["macro_f1"] >= 0.75
    assert sum(map(sum, metrics["confusion_matrix"])) == len(held_out)


def test_operator_sees_three_labels_sorted_by_calibrated_probability(small_model):
    predictions = small_model.predict("小区物业乱收停车费，业主投诉无人处理", k=3)

    assert len(predictions) == 3
    probabilities = [p.probability for p in predictions]
    assert probabilities == sorted(probabilities, reverse=True)
    assert 0 < sum(probabilities) <= 1.0 + 1e-9
    assert len({p.label for p in predictions}) == 3


def test_batch_prediction_matches_single_prediction(small_model):
    texts = ["学校乱收补课费", "医院看病排队太久", "公交车不按站停靠"]
    batch = small_model.predict_many(texts, k=2)
    single = [small_model.predict(text, k=2) for text in texts]
    # The single-text path sums in another order: the same labels, probabilities to float32 noise.
    assert [[p.label for p in row] for row in batch] == [[p.label for p in row] for row in single]
    for batch_row, single_row in zip(batch, single):
        assert [p.probability for p in batch_row] == pytest.approx([p.probability for p in single_row], abs=1e-6)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", ContentProblem.EMPTY),
        ("   \n\t\u3000 ", ContentProblem.EMPTY),
        ("😀😡🎉🚗", ContentProblem.NO_CHINESE),
        ("13800138000 2024", ContentProblem.NO_CHINESE),
        ("The street light is broken!!!", ContentProblem.NO_CHINESE),
        ("小区噪音扰民" * 20000, ContentProblem.TOO_LONG),
        ("某文本", ContentProblem.NO_CONTENT_WORDS),
        ("你好，请问一下", ContentProblem.NO_CONTENT_WORDS),
        ("测试测试 test", ContentProblem.NO_CONTENT_WORDS),
        ("哈哈哈哈哈", ContentProblem.NO_CONTENT_WORDS),
        ("一二三四五", ContentProblem.NO_CONTENT_WORDS),
        ("我要投诉！", ContentProblem.NO_CONTENT_WORDS),
        ("你好，灯", ContentProblem.TOO_SHORT),
    ],
)
def test_text_without_usable_content_is_flagged_and_never_crashes(small_model, text, problem):
    assert content_problem(text) is problem
    assert not has_content(text)
    predictions = small_model.predict(text)
    assert len(predictions) == 3
    assert all(0 <= p.probability <= 1 for p in predictions)


def test_a_real_request_has_content():
    assert has_content("A3区某小区楼下烧烤店油烟扰民")


@pytest.mark.parametrize("text", ["路灯坏了", "停水了", "漏水", "狗叫", "没有热水", "井盖丢了", "公积金怎么提取"])
def test_a_short_real_complaint_has_content(text):
    assert content_problem(text) is None


def test_no_message_of_the_shipped_data_is_taken_for_one_without_content():
    from classifier.dataset import SHIPPED_DATA, read_examples
    from classifier.features import message_text

    flagged = [e.title for path in SHIPPED_DATA for e in read_examples(path)
               if e.body and content_problem(message_text(e.title, e.body)) is not None]
    assert flagged == []


def test_unknown_labels_count_as_errors_not_skipped(small_model, slices):
    held_out = slices[1][:100]
    known = evaluate(small_model, held_out)
    relabelled = [Example(e.title, e.body, "消防安全") for e in held_out[:20]] + held_out[20:]

    metrics = evaluate(small_model, relabelled)

    assert metrics["examples"] == 100
    assert metrics["unknown_labels"] == ["消防安全"]
    assert metrics["per_class"]["消防安全"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 20}
    correct_before = round(known["accuracy"] * 100)
    guesses = small_model.predict_labels(texts_of(held_out[20:]))
    correct_in_kept_rows = sum(g == e.label for g, e in zip(guesses, held_out[20:]))
    assert round(metrics["accuracy"] * 100) == correct_in_kept_rows <= correct_before


def test_user_words_stay_whole_and_survive_pickling():
    import pickle

    tokenizer = Tokenizer(["高亭司镇"])
    tokenizer.add_user_words(["十联村"])
    assert {"高亭司镇", "十联村"} <= set(tokenizer("J5县高亭司镇十联村村民反映"))
    assert "十联村" in pickle.loads(pickle.dumps(tokenizer))("高亭司镇十联村")
    assert "十联村" not in Tokenizer()("高亭司镇十联村")  # no leak between tokenizers


def test_model_knows_its_labels(small_model: TrainedModel):
    assert len(small_model.labels) == 7


def test_probabilities_are_the_mean_of_the_raw_and_log_tf_svms(small_model, slices):
    texts = texts_of(slices[1][:40])
    features, estimator = small_model.partner
    assert features.settings.sublinear_tf and not small_model.features.settings.sublinear_tf
    raw = small_model.estimator.predict_proba(small_model.features.transform(texts))
    log_tf = estimator.predict_proba(features.transform(texts))

    assert small_model.probabilities(texts) == pytest.approx((raw + log_tf) / 2)
    # The one-message path gives the same numbers.
    one = {p.label: p.probability for p in small_model.predict(texts[0], k=100)}
    assert [one[label] for label in small_model.labels] == pytest.approx(list((raw[0] + log_tf[0]) / 2), abs=1e-6)


def test_a_model_file_from_before_the_partner_still_predicts(small_model, slices):
    import pickle

    old = TrainedModel(small_model.features, small_model.estimator, small_model.settings)
    state = pickle.dumps(old)
    del old.__dict__["partner"]  # files saved before the partner have no such attribute
    loaded = pickle.loads(pickle.dumps(old))
    texts = texts_of(slices[1][:5])

    assert loaded.partner is None and state
    assert loaded.probabilities(texts) == pytest.approx(
        small_model.estimator.predict_proba(small_model.features.transform(texts)))


def _probabilities_one_cut_per_svm(model: TrainedModel, texts: list[str]) -> np.ndarray:
    """How probabilities were computed before the two SVMs shared each text's words and the
    product read the weights in place: each SVM cuts the texts itself, scores = matrix @ coef_.T."""
    from scipy.special import softmax

    table = None
    for features, estimator in [(model.features, model.estimator), model.partner]:
        scores = np.asarray(features.transform(texts) @ estimator.coef_.T) + estimator.intercept_
        probabilities = softmax(scores / estimator.temperature, axis=1)
        table = probabilities if table is None else (table + probabilities) / 2
    return table


def test_probabilities_are_those_of_each_svm_cutting_the_texts_itself(small_model: TrainedModel, tmp_path):
    import csv

    from classifier.dataset import SHIPPED_DATA
    from classifier.features import message_text
    from classifier.storage import load_model, save_model

    with open(SHIPPED_DATA[0], encoding="utf-8") as file:
        texts = [message_text(row["title"], row["body"]) for row, _ in zip(csv.DictReader(file), range(600))]
    saved = save_model(small_model, tmp_path, data_hash="test", metrics={})
    loaded = load_model(tmp_path, saved.name)  # as the app has it: from a file
    assert loaded.partner is not None and loaded.partner[0].reads_like(loaded.features)
    for model in (small_model, loaded):
        expected = _probabilities_one_cut_per_svm(model, texts)
        assert np.array_equal(model.probabilities(texts), expected)  # to the bit
        long = [(text, row) for text, row in zip(texts, expected) if len(text) >= ROW_PATH_CHARS][:50]
        for text, row in long:  # one at a time, as routing asks
            assert [p.probability for p in model.predict(text, 3)] == sorted(row.tolist(), reverse=True)[:3]


def _probabilities_from_gram_strings(model: TrainedModel, texts: list[str]) -> np.ndarray:
    """The straightforward computation: each SVM's features built from gram strings
    (vectorizer.char_ngrams, word_ngrams), with no fast path and nothing shared."""
    import scipy.sparse as sp

    from classifier.vectorizer import char_ngrams, word_ngrams

    table = None
    for features, estimator in [(model.features, model.estimator), model.partner]:
        settings = features.settings
        cleaned = [normalise(text, settings.max_chars) for text in texts]
        words = features._words.transform(word_ngrams(features.tokenizer(t), *settings.word_ngrams) for t in cleaned)
        chars = features._chars.transform(char_ngrams(t, *settings.char_ngrams) for t in cleaned)
        probabilities = estimator.predict_proba(sp.hstack([words, chars], format="csr"))
        table = probabilities if table is None else (table + probabilities) / 2
    return table


def test_the_two_svms_count_each_text_once_and_answer_as_from_gram_strings(small_model: TrainedModel, tmp_path):
    import csv

    from classifier.dataset import SHIPPED_DATA
    from classifier.features import message_text
    from classifier.storage import load_model, save_model

    with open(SHIPPED_DATA[0], encoding="utf-8") as file:
        texts = [message_text(row["title"], row["body"]) for row, _ in zip(csv.DictReader(file), range(400))]
    texts += ["", "hello 123", "😡😡", "𠀀罕见字𪚥", "老板拖欠农民工工资三个月" * 40]
    saved = save_model(small_model, tmp_path, data_hash="test", metrics={})
    loaded = load_model(tmp_path, saved.name)
    for model in (small_model, loaded):
        assert model._partner_counts_alike()  # the shared counting is the path taken
        assert np.array_equal(model.probabilities(texts), _probabilities_from_gram_strings(model, texts))
    assert "_counts_alike" not in loaded.__getstate__()  # the model file is as before


def test_predictions_of_texts_together_are_each_ones_own(small_model: TrainedModel, slices):
    texts = texts_of(slices[1][:60]) + ["路灯坏了", "", "😡😡", "老板拖欠农民工工资三个月" * 40]
    assert {len(t) >= ROW_PATH_CHARS for t in texts} == {True, False}  # both paths taken
    assert small_model.predict_each(texts, 3) == [small_model.predict(text, 3) for text in texts]
    assert small_model.predict_each([], 3) == []


def test_a_short_text_counted_once_for_both_svms_gets_each_svms_own_numbers(small_model: TrainedModel, slices):
    short = [t for t in texts_of(slices[1][:200]) if len(t) < ROW_PATH_CHARS][:30] + ["路灯坏了", "停水了"]
    assert small_model._partner_counts_alike()
    for text in short:
        rows = [estimator.predict_proba_row(*features.transform_one(text))  # each counting for itself
                for features, estimator in [(small_model.features, small_model.estimator), small_model.partner]]
        expected = (rows[0] + rows[1]) / 2
        one = {p.label: p.probability for p in small_model.predict(text, k=100)}
        assert [one[label] for label in small_model.labels] == [float(x) for x in expected], text  # to the bit
