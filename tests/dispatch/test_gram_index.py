"""The gram index: cosines as sklearn's TF-IDF fit on the query and the pool gives them, and
what it keeps stays bounded."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfTransformer

from dispatch.gram_index import GRAMS, GramIndex

POOL = ["路灯不亮一个多月", "小区路灯坏了", "拖欠农民工工资", "", "灯", "噪音扰民 晚上施工"]


def sklearn_cosines(query: str, pool: list[str]) -> np.ndarray:
    matrix = TfidfTransformer(sublinear_tf=True).fit_transform(GRAMS.transform([query] + pool))
    return (matrix[1:] @ matrix[0].T).toarray().ravel()


@pytest.mark.parametrize("query", ["路灯不亮", "夜间施工噪音", "全新的话题没有重合", "灯灯灯灯"])
def test_cosines_are_sklearns(query: str) -> None:
    index = GramIndex(prepare=str.strip)
    got = index.cosines(query, POOL)
    assert got is not None
    np.testing.assert_allclose(got, sklearn_cosines(query, POOL), rtol=0, atol=1e-12)


def test_a_skipped_text_is_left_out_of_the_weights() -> None:
    index = GramIndex(prepare=str.strip)
    for skip in range(len(POOL)):
        got = index.cosines("小区路灯不亮", POOL, skip=skip)
        assert got is not None
        expected = sklearn_cosines("小区路灯不亮", POOL[:skip] + POOL[skip + 1:])
        np.testing.assert_allclose(np.delete(got, skip), expected, rtol=0, atol=1e-12)


def test_nothing_to_weigh_gives_none() -> None:
    assert GramIndex(prepare=str.strip).cosines("灯", ["", "路"]) is None
    assert GramIndex(prepare=str.strip).cosines("灯", ["路灯", "路"], skip=0) is None


def test_texts_are_read_through_prepare_once_and_kept_within_bounds() -> None:
    seen: list[str] = []

    def prepare(text: str) -> str:
        seen.append(text)
        return text

    index = GramIndex(prepare=prepare, max_texts=4, max_pools=1)
    index.cosines("路灯不亮", POOL[:3])
    index.cosines("路灯不亮", POOL[:3])
    assert sorted(seen) == sorted(["路灯不亮", *POOL[:3]])
    index.cosines("路灯不亮", POOL[3:])     # a new pool: past max_texts, the oldest go
    assert len(index._texts._items) == 4 and len(index._pools._items) == 1
