"""The choice lists rendered once: the same HTML as the loop they replace."""
from __future__ import annotations

from jinja2 import Environment

from web.pages.options import options

LOOP = Environment(autoescape=True).from_string(
    '{% for code, name in units %}<option value="{{ code }}"{% if selected == code %} selected{% endif %}>'
    '{{ name }}</option>{% endfor %}')


def test_the_options_are_the_loops_whatever_is_selected_and_escaped() -> None:
    units = [("water", "自来水公司"), ("a&b", '<"甲乙">'), ("tax", "税务局")]
    for selected in (None, "water", "a&b", "tax", "gone", ""):
        assert str(options(units, selected)) == LOOP.render(units=units, selected=selected), selected
    assert 'value="a&amp;b"' in options(units) and "&lt;&#34;甲乙&#34;&gt;" in options(units)
    # Rendered once a list: another list of choices is another rendering.
    assert "税务局" not in options(units[:2]) and options(units[:2], "tax") == options(units[:2])
