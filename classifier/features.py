"""Turning a message into TF-IDF features: jieba word n-grams beside character n-grams.

Words carry the topic ("公积金", "噪音扰民"); character n-grams catch what the dictionary
splits badly (new place names, typos) and keep short texts from being all out of vocabulary.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from classifier.text import MODEL_CHARS, Tokenizer, normalise
from classifier.vectorizer import Counts, NgramTfidf, char_ngrams, word_ngrams

Progress = Callable[[str, int, int], None]
Prepared = tuple[list[str], list[list[str]]]  # texts normalised, and each one's words
GramCounts = tuple[Counts, Counts] | None  # words' and characters' (None: off the fast paths)
RowCounts = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]  # one text's, the same

# Repeating the title gives it more weight: titles are short and name the topic, while bodies
# wander. Measured on the validation folds (EXPERIMENTS.md): 3 beat 1, 2 and 4.
TITLE_REPEAT = 3
TITLE_END = "。"


def message_text(title: str, body: str, *, title_repeat: int = TITLE_REPEAT) -> str:
    """The one text the model reads for a message with a title and a body."""
    title = title.strip()
    if not title:
        return body
    return (title + TITLE_END) * title_repeat + body


@dataclass(frozen=True)
class FeatureSettings:
    word_ngrams: tuple[int, int] = (1, 2)
    # Char 1-2 scored as well as 1-3 on validation with a third of the vocabulary and faster
    # predictions; char 2-3 (no single characters) scored worse.
    char_ngrams: tuple[int, int] = (1, 2)
    sublinear_tf: bool = False  # raw counts beat log(1+tf) with the repeated title (EXPERIMENTS.md)
    min_df: int = 2  # grams seen once are mostly noise and double the model's size
    max_chars: int = MODEL_CHARS


class Features:
    """Fits and applies both vectorizers; texts are normalised and tokenised once."""

    def __init__(self, tokenizer: Tokenizer, settings: FeatureSettings = FeatureSettings()) -> None:
        self.tokenizer = tokenizer
        self.settings = settings
        self._words = NgramTfidf(min_df=settings.min_df, sublinear_tf=settings.sublinear_tf)
        self._chars = NgramTfidf(min_df=settings.min_df, sublinear_tf=settings.sublinear_tf)

    def fit_transform(self, texts: Sequence[str], progress: Progress | None = None) -> sp.csr_matrix:
        return self.fit_prepared(*self.prepare(texts, progress), progress)

    def fit_prepared(self, cleaned: list[str], tokens: list[list[str]], progress: Progress | None = None) -> sp.csr_matrix:
        """fit_transform() of texts already through prepare() (another Features' with the same
        tokenizer and max_chars: the log-tf partner reuses the tokens)."""
        if progress:
            progress("vectorising", 0, 2)
        words = self._words.fit_transform(self._word_grams(tokens))
        if progress:
            progress("vectorising", 1, 2)
        chars = self._chars.fit_transform(self._char_grams(cleaned))
        if progress:
            progress("vectorising", 2, 2)
        return sp.hstack([words, chars], format="csr")

    def transform(self, texts: Sequence[str], prepared: Prepared | None = None) -> sp.csr_matrix:
        """prepared: what prepare(texts) gave, from these Features or others that read
        alike (reads_like), so that two models on one tokenizer cut each text once."""
        cleaned, tokens = prepared if prepared is not None else self.prepare(texts)
        # transform_tokens/transform_chars give exactly transform(self._word_grams(...)) and
        # transform(self._char_grams(...)), without building gram strings (vectorizer.py).
        words = self._words.transform_tokens(tokens, *self.settings.word_ngrams)
        chars = self._chars.transform_chars(cleaned, *self.settings.char_ngrams)
        return sp.hstack([words, chars], format="csr")

    def counts(self, texts: Sequence[str], prepared: Prepared | None = None) -> GramCounts:
        """The texts' word and character gram counts, for weigh(): transform() is
        weigh(counts()) where both paths are the fast ones, else None."""
        cleaned, tokens = prepared if prepared is not None else self.prepare(texts)
        words = self._words.count_tokens(tokens, *self.settings.word_ngrams)
        chars = self._chars.count_chars(cleaned, *self.settings.char_ngrams)
        return None if words is None or chars is None else (words, chars)

    def weigh(self, counts: tuple[Counts, Counts]) -> sp.csr_matrix:
        """transform()'s matrix from counts() of these Features or of others that count alike."""
        words, chars = counts
        return sp.hstack([self._words.weigh(words), self._chars.weigh(chars)], format="csr")

    def counts_like(self, other: Features) -> bool:
        """True when other's counts() are these Features' own: they read alike and have the
        same grams and vocabularies (the raw and log-tf SVMs' do: they differ in weights only)."""
        return (self.reads_like(other) and self.settings.word_ngrams == other.settings.word_ngrams
                and self.settings.char_ngrams == other.settings.char_ngrams
                and self._words.same_vocabulary(other._words) and self._chars.same_vocabulary(other._chars))

    def reads_like(self, other: Features) -> bool:
        """True when other prepares texts exactly as these do: the same tokenizer, the same cut."""
        return self.tokenizer is other.tokenizer and self.settings.max_chars == other.settings.max_chars

    def transform_one(self, text: str, prepared: tuple[str, list[str]] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """One text's row of transform() as (column indices, values), without a sparse matrix.
        prepared: the text normalised and its words, as prepare() gives them."""
        cleaned, words = prepared if prepared is not None else self.prepare_one(text)
        word_columns, word_values = self._words.row(word_ngrams(words, *self.settings.word_ngrams))
        char_columns, char_values = self._chars.row(char_ngrams(cleaned, *self.settings.char_ngrams))
        return (np.concatenate([word_columns, char_columns + len(self._words.vocabulary)]),
                np.concatenate([word_values, char_values]))

    def row_counts(self, text: str, prepared: tuple[str, list[str]] | None = None) -> RowCounts:
        """One text's word and character gram counts, for weigh_row(): transform_one() is
        weigh_row(row_counts())."""
        cleaned, words = prepared if prepared is not None else self.prepare_one(text)
        return (self._words.row_counts(word_ngrams(words, *self.settings.word_ngrams)),
                self._chars.row_counts(char_ngrams(cleaned, *self.settings.char_ngrams)))

    def weigh_row(self, counts: RowCounts) -> tuple[np.ndarray, np.ndarray]:
        """transform_one() from row_counts() of these Features or of others that count alike."""
        (word_indices, word_counts), (char_indices, char_counts) = counts
        word_columns, word_values = self._words.weigh_row(word_indices, word_counts)
        char_columns, char_values = self._chars.weigh_row(char_indices, char_counts)
        return (np.concatenate([word_columns, char_columns + len(self._words.vocabulary)]),
                np.concatenate([word_values, char_values]))

    def prepare_one(self, text: str) -> tuple[str, list[str]]:
        cleaned = normalise(text, self.settings.max_chars)
        return cleaned, self.tokenizer(cleaned)

    def _word_grams(self, tokens: list[list[str]]) -> Iterator[Iterator[str]]:
        low, high = self.settings.word_ngrams
        return (word_ngrams(doc, low, high) for doc in tokens)

    def _char_grams(self, cleaned: list[str]) -> Iterator[Iterator[str]]:
        low, high = self.settings.char_ngrams
        return (char_ngrams(text, low, high) for text in cleaned)

    def prepare(self, texts: Sequence[str], progress: Progress | None = None) -> Prepared:
        """The texts normalised and cut into words, for fit_prepared() or transform(prepared=...)."""
        cleaned = [normalise(text, self.settings.max_chars) for text in texts]
        tokens = []
        step = max(1, len(cleaned) // 20)
        for done, text in enumerate(cleaned, 1):
            tokens.append(self.tokenizer(text))
            if progress and (done % step == 0 or done == len(cleaned)):
                progress("tokenising", done, len(cleaned))
        return cleaned, tokens

    @property
    def size(self) -> int:
        return len(self._words.vocabulary) + len(self._chars.vocabulary)
