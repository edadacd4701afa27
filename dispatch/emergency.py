"""Emergencies at intake: which emergency numbers (110 / 119 / 120 / 122) the words of a
request point to, so that the console offers 即时转 while the request is still being typed.
A hint for the operator, who decides; the words are the vocabulary's (EMERGENCY_WORDS).
A word denied just before it (没有着火, 未受伤) points nowhere; said again undenied, it does."""
from __future__ import annotations

from dataclasses import dataclass

from dispatch.errors import InvalidInput, Reason
from dispatch.models import Ticket
from dispatch.vocabulary import (EMERGENCY_NEGATION_FILLERS, EMERGENCY_NEGATIONS, EMERGENCY_WORDS, EmergencyService,
                                 RequestType, Urgency)

# A caller handed over to an emergency number asked for help, whatever the form's default
# (咨询) said; a complaint or report the operator chose stays one.
_HANDED_OVER_TYPES = (RequestType.HELP, RequestType.COMPLAINT, RequestType.REPORT)


@dataclass(frozen=True)
class EmergencyHint:
    service: EmergencyService
    words: tuple[str, ...]   # the words found, in the order the text says them


def emergency_hints(text: str) -> list[EmergencyHint]:
    """The services the text's words call for, the one named earliest in the text first
    (a crash with someone hurt: 122 and 120, as the caller tells it)."""
    hints: list[tuple[int, EmergencyHint]] = []
    for service, words in EMERGENCY_WORDS.items():
        found = sorted((at, word) for word in words if (at := _first_undenied(text, word)) >= 0)
        if found:
            hints.append((found[0][0], EmergencyHint(service, tuple(word for _, word in found))))
    return [hint for _, hint in sorted(hints, key=lambda pair: pair[0])]


def _first_undenied(text: str, word: str) -> int:
    """Where `word` is first said without a denial just before it; -1 if never."""
    at = text.find(word)
    while at >= 0 and _denied(text, at):
        at = text.find(word, at + 1)
    return at


def _denied(text: str, at: int) -> bool:
    """A negation ends right before `at`, or one of the few fillers away (没有人受伤). A
    question of the A-not-A form (是不是着火了, 有没有人受伤) asks and denies nothing."""
    ends = [at] + [at - len(f) for f in EMERGENCY_NEGATION_FILLERS if text.endswith(f, 0, at)]
    for end in ends:
        for negation in EMERGENCY_NEGATIONS:
            start = end - len(negation)
            if start >= 0 and text.startswith(negation, start) and not _asks(text, start):
                return True
    return False


def _asks(text: str, start: int) -> bool:
    return text[start] in "不没" and 0 < start < len(text) - 1 and text[start - 1] == text[start + 1]


def handover_terms(request_type: RequestType) -> tuple[RequestType, Urgency]:
    """The type and urgency of a ticket filed and handed over at once (the console's 即时转):
    always urgent, and help unless the operator chose a complaint or a report."""
    kind = request_type if request_type in _HANDED_OVER_TYPES else RequestType.HELP
    return kind, Urgency.URGENT


def check_direct_answer(text: str, *, confirmed: bool) -> None:
    """直接办结 at intake of words that point to an emergency number needs the operator's
    confirmation that it is none: the hint is a word match (a question about a gas alarm
    names 燃气泄漏), so it asks rather than forbids, but a misclick no longer answers a fire."""
    hints = emergency_hints(text)
    if hints and not confirmed:
        raise InvalidInput("body", Reason.EMERGENCY_NOT_ANSWERED, numbers=[h.service.value for h in hints])


def check_ticket_answer(ticket: Ticket, *, confirmed: bool) -> None:
    """check_direct_answer() for a ticket already filed (the ticket page's 直接办结, the staff
    API's `answer`): its title and request read as the console reads the form's."""
    check_direct_answer(f"{ticket.title or ''}\n{ticket.body or ''}", confirmed=confirmed)
