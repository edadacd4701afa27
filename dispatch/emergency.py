"""Emergencies at intake: which emergency numbers (110 / 119 / 120 / 122) the words of a
request point to, so that the console offers 即时转 while the request is still being typed.
A hint for the operator, who decides; the words are the vocabulary's (EMERGENCY_WORDS)."""
from __future__ import annotations

from dataclasses import dataclass

from dispatch.vocabulary import EMERGENCY_WORDS, EmergencyService


@dataclass(frozen=True)
class EmergencyHint:
    service: EmergencyService
    words: tuple[str, ...]   # the words found, in the order the text says them


def emergency_hints(text: str) -> list[EmergencyHint]:
    """The services the text's words call for, the one named earliest in the text first
    (a crash with someone hurt: 122 and 120, as the caller tells it)."""
    hints: list[tuple[int, EmergencyHint]] = []
    for service, words in EMERGENCY_WORDS.items():
        found = sorted((text.find(word), word) for word in words if word in text)
        if found:
            hints.append((found[0][0], EmergencyHint(service, tuple(word for _, word in found))))
    return [hint for _, hint in sorted(hints, key=lambda pair: pair[0])]
