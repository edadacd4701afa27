"""诉求类型 from the words of a request, while it is typed: the console defaults the type to 咨询
and complaints were filed as consultations (a 3-day deadline instead of 10, and wrong figures).
The type whose cue word (REQUEST_TYPE_CUES) the request says first is suggested: a caller
says what they want early (我要投诉…, 请问…), and what comes later is detail (…建议尽快处理
ends many complaints, and those phrases, REQUEST_TYPE_NOT_CUES, are not cues at all). A hint
for the operator beside the select, never a change of what they chose."""
from __future__ import annotations

from dataclasses import dataclass

from dispatch.vocabulary import REQUEST_TYPE_CUES, REQUEST_TYPE_NOT_CUES, RequestType


@dataclass(frozen=True)
class RequestTypeHint:
    request_type: RequestType
    words: tuple[str, ...]   # its cue words the request says, in the order it says them


def request_type_hint(text: str) -> RequestTypeHint | None:
    """The type the request's first cue word names; None when it says none."""
    for phrase in REQUEST_TYPE_NOT_CUES:
        text = text.replace(phrase, "\n" * len(phrase))   # the same length: positions stay
    first: tuple[int, RequestType] | None = None
    found: dict[RequestType, list[tuple[int, str]]] = {}
    for kind, words in REQUEST_TYPE_CUES.items():
        for word in words:
            at = text.find(word)
            if at < 0:
                continue
            found.setdefault(kind, []).append((at, word))
            # The earliest; a longer word starting at the same place before a shorter one.
            if first is None or at < first[0]:
                first = (at, kind)
    if first is None:
        return None
    kind = first[1]
    return RequestTypeHint(kind, tuple(dict.fromkeys(word for _, word in sorted(found[kind]))))
