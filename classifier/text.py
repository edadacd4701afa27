"""Text clean-up, the content check and jieba tokenisation with a user dictionary.

Tokenising is the cost of classifying, so it goes through rjieba (jieba-rs): jieba's own
algorithm and dictionary in precise mode, about 20 times faster than jieba.lcut. Each
Tokenizer owns its own rjieba.Jieba instance, so user words never leak between models and
there is no module-level dictionary to mutate.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from enum import Enum
from pathlib import Path
from typing import Any

USER_DICT = Path(__file__).parent / "data" / "user_dict.txt"
STOP_WORDS = Path(__file__).parent / "data" / "stop_words.txt"

# Longest input the model reads: the (repeated) title and the body's start carry the topic;
# reading 3,000 instead scored the same on validation (EXPERIMENTS.md) and is slower.
MODEL_CHARS = 1000
# Longer than any real message (training maximum: 12,220): a paste, not a request.
PASTE_CHARS = 20000
# Fewer Han characters than this is not a Chinese request we can classify.
MIN_HAN_CHARS = 2
# Texts up to this many Han characters are cut into words to see whether any says what the
# matter is ("某文本", "你好", "测试一下" say nothing; "路灯坏了" does). A longer text without
# one is not a citizen's message, and cutting every long text would cost each intake.
WORD_CHECK_HAN_CHARS = 40
# Fewer Han characters than this in the content words is too little to route ("某灯").
MIN_CONTENT_HAN_CHARS = 2

_WHITESPACE = re.compile(r"\s+")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_PUNCTUATION_ONLY = re.compile(r"^[\W_]+$")


class ContentProblem(str, Enum):
    """Why a text has no content the model can use; the caller sends it to manual triage."""

    EMPTY = "empty"
    NO_CHINESE = "no_chinese"  # digits, emoji, Latin letters, punctuation only
    TOO_LONG = "too_long"  # a paste far longer than any message
    NO_CONTENT_WORDS = "no_content_words"  # only stop words, greetings, fillers after jieba
    TOO_SHORT = "too_short"  # content words of a single character ("某灯")


# The compatibility characters almost every message has (full-width ASCII such as "，" and
# "１", the ideographic space), each mapped to its NFKC form. Replacing a character by its NFKC
# form leaves the string's NFKC unchanged, so after this the (fast) is_normalized check
# usually lets us skip the full NFKC pass; the result is always exactly NFKC(text).
_FULL_WIDTH = {code: unicodedata.normalize("NFKC", chr(code)) for code in [*range(0xFF01, 0xFF5F), 0x3000]}


def normalise(text: str, max_chars: int = MODEL_CHARS) -> str:
    """Fold full-width forms, drop whitespace (as the training data did) and truncate."""
    # Truncate before NFKC so a 100k-character paste costs no more than a message.
    text = text[: max_chars * 2]
    if not text.isascii():  # ASCII is already NFKC
        text = text.translate(_FULL_WIDTH)
        if not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
    return _WHITESPACE.sub("", text)[:max_chars]


def content_problem(text: str | None) -> ContentProblem | None:
    """None when the text is usable; otherwise the reason it is not."""
    if not text or not text.strip():
        return ContentProblem.EMPTY
    if len(text) > PASTE_CHARS:
        return ContentProblem.TOO_LONG
    han = len(_HAN.findall(text[:MODEL_CHARS]))
    if han < MIN_HAN_CHARS:
        return ContentProblem.NO_CHINESE
    if han <= WORD_CHECK_HAN_CHARS:
        words = content_words(text)
        if not words:
            return ContentProblem.NO_CONTENT_WORDS
        if sum(len(_HAN.findall(word)) for word in words) < MIN_CONTENT_HAN_CHARS:
            return ContentProblem.TOO_SHORT
    return None


def content_words(text: str) -> list[str]:
    """The words of a text that may say what the matter is: Chinese words that are not stop
    words, a character repeated ("哈哈哈", "写写") or numerals alone ("一二三")."""
    words = []
    for word in _content_tokenizer()(normalise(text)):
        if not _HAN.search(word) or word in _stop_words():
            continue
        if len(word) > 1 and len(set(word)) == 1:
            continue
        if set(word) <= _NUMERALS:
            continue
        words.append(word)
    return words


_NUMERALS = set("〇零一二三四五六七八九十百千万亿两")


@functools.cache
def _stop_words() -> frozenset[str]:
    return frozenset(read_user_dict(STOP_WORDS, all_words=True))


@functools.cache
def _content_tokenizer() -> Tokenizer:
    # Its own tokenizer, never handed out: no caller can add words to it.
    return Tokenizer(read_user_dict())


def has_content(text: str | None) -> bool:
    """True when the text holds enough Chinese for the model's answer to mean something."""
    return content_problem(text) is None


def read_user_dict(path: Path = USER_DICT, *, all_words: bool = False) -> tuple[str, ...]:
    """Words from a jieba-style dictionary file: one word a line, frequency/tag ignored
    (all_words: every word of a line, for a list of words written several to a line)."""
    words: list[str] = []
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        word = line.split("#", 1)[0].split()
        if word:
            words.extend(word if all_words else word[:1])
    return tuple(words)


class Tokenizer:
    """jieba precise-mode words, with user words; picklable (the rjieba handle is rebuilt)."""

    def __init__(self, user_words: Iterable[str] = ()) -> None:
        self._user_words: list[str] = []
        self._jieba: Any = None
        self.add_user_words(user_words)

    @property
    def user_words(self) -> tuple[str, ...]:
        return tuple(self._user_words)

    def add_user_words(self, words: Iterable[str]) -> None:
        """Make words (government terms, the city's place names) single tokens."""
        known = set(self._user_words)
        for word in words:
            word = _WHITESPACE.sub("", word)
            if word and word not in known:
                known.add(word)
                self._user_words.append(word)
                if self._jieba is not None:
                    self._jieba.add_word(word, None, None)

    def __call__(self, text: str) -> list[str]:
        if self._jieba is None:
            self._jieba = self._build()
        # Punctuation tokens carry no topic; dropping them keeps the vocabulary smaller. The
        # cheap isalnum() test first: a regex per token costs as much as the cut itself.
        return [token for token in self._jieba.cut(text, True)
                if token.isalnum() or not _PUNCTUATION_ONLY.match(token)]

    def _build(self) -> Any:
        import rjieba  # its dictionary takes 0.1 s to load: only when text is cut

        jieba = rjieba.Jieba()
        for word in self._user_words:
            jieba.add_word(word, None, None)  # freq None: jieba-rs picks one that keeps it whole
        return jieba

    def __getstate__(self) -> dict[str, Any]:
        return {"user_words": list(self._user_words)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._user_words = list(state["user_words"])
        self._jieba = None
