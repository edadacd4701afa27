"""An article's Markdown as the plain text a citizen is sent (直接办结's reply: the ticket
page, /status, the API, a text message): no emphasis marks, headings or bullets, links as
"text (url)". Parsed as the article pages render it (CommonMark, raw HTML kept as text).
Replies stored before that was done are shown the same way (shown_reply), never rewritten."""
from __future__ import annotations

import functools
import re
from markdown_it import MarkdownIt
from markdown_it.token import Token


@functools.cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def _inline(children: list[Token]) -> str:
    out: list[str] = []
    links: list[tuple[str, int]] = []   # (href, where the link's text starts)
    for token in children:
        if token.type in ("text", "code_inline", "html_inline"):
            out.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            out.append("\n")
        elif token.type == "link_open":
            links.append((str(token.attrGet("href") or ""), len(out)))
        elif token.type == "link_close" and links:
            href, start = links.pop()
            if href and "".join(out[start:]).strip() != href:
                out.append(f" ({href})")
        elif token.type == "image":
            alt = "".join(child.content for child in token.children or [])
            src = str(token.attrGet("src") or "")
            out.append(f"{alt} ({src})" if alt and src else alt or src)
    return "".join(out)


def plain_text(markdown: str) -> str:
    """The text of `markdown` without its marks, one line a paragraph, heading or list item
    (an ordered list keeps its numbers: they are words, "第 1 步")."""
    lines: list[str] = []
    numbers: list[int | None] = []   # per open list: the next item's number, None for bullets
    prefix = ""
    for token in _parser().parse(markdown):
        if token.type == "bullet_list_open":
            numbers.append(None)
        elif token.type == "ordered_list_open":
            numbers.append(int(token.attrGet("start") or 1))
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            numbers.pop()
        elif token.type == "list_item_open" and numbers:
            number = numbers[-1]
            if number is not None:
                prefix = f"{number}. "
                numbers[-1] = number + 1
        elif token.type == "inline":
            lines.append(prefix + _inline(token.children or []))
            prefix = ""
        elif token.type in ("fence", "code_block", "html_block"):
            lines.append(token.content.rstrip("\n"))
    return "\n".join(line.strip() for line in lines if line.strip())


# 直接办结 from a public article replies "《title》" and the article's text on the next line
# (kb_use.answer_from_article).
_ARTICLE_REPLY = re.compile(r"《[^\n》]*》\n")


def shown_reply(reply: str) -> str:
    """A reply as citizens and staff read it. One answered from an article kept the
    article's Markdown until that was removed at answering, and stored rows stay as they
    were: such a reply is shown as plain text (the same text for one stored plain). Any
    other reply is the unit's or operator's own words, shown as written."""
    title = _ARTICLE_REPLY.match(reply)
    if title is None:
        return reply
    return title.group(0) + plain_text(reply[title.end():])
