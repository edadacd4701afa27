"""The <option>s of a form's choice list, rendered once for each list of choices: the search
form's 55 units rendered through Jinja on every search were about a tenth of its page's
template (median render 1.22 -> 1.07-1.12 ms on a million tickets, in-process)."""
from __future__ import annotations

import functools
from collections.abc import Iterable

from markupsafe import Markup, escape


def options(choices: Iterable[tuple[str, str]], selected: str | None = None) -> Markup:
    """`<option value="…">…</option>` for each (value, text) of `choices`, in order, the one
    whose value is `selected` marked selected."""
    listed = tuple(choices)
    rendered, where, whole = _rendered(listed)
    i = where.get(selected) if selected is not None else None
    if i is None:
        return whole
    value, text = listed[i]
    return Markup("".join((*rendered[:i], f'<option value="{escape(value)}" selected>{escape(text)}</option>',
                           *rendered[i + 1:])))


@functools.lru_cache(maxsize=32)
def _rendered(choices: tuple[tuple[str, str], ...]) -> tuple[tuple[str, ...], dict[str, int], Markup]:
    rendered = tuple(f'<option value="{escape(value)}">{escape(text)}</option>' for value, text in choices)
    return rendered, {value: i for i, (value, _) in enumerate(choices)}, Markup("".join(rendered))
