"""`hotline kb import FILE` and `hotline kb export`: the knowledge base as JSON lines, one
article a line (title, body, keywords, category, unit, public, valid_until, review_by), so a
city brings the base it has. A file with a bad line is refused whole, each bad line named."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from web.config import Settings


def kb_group(get_settings: Callable[[], Settings]) -> click.Group:
    @click.group(name="kb", help="The knowledge base (知识库): import and export articles as JSON lines.")
    def group() -> None:
        pass

    @group.command(name="import", help="Import articles from FILE ('-' for standard input), one JSON object a "
                                       "line; nothing is stored if any line is wrong.")
    @click.argument("file", type=click.File("rb"))
    @click.option("--draft", is_flag=True, help="store them as drafts for the editors to publish")
    def import_file(file, draft: bool) -> None:  # type: ignore[no-untyped-def]
        import getpass

        from dispatch import kb
        from dispatch.actors import Actor
        from dispatch.text_files import decode_text
        from web import messages
        from web.cli_db import database_session

        with database_session(get_settings, write=True) as session:
            lines = decode_text(file.read(), Path(file.name).name).splitlines()
            result = kb.import_lines(session, lines, Actor.system(f"cli:{getpass.getuser()}"),
                                     publish_them=not draft)
            for p in result.problems:
                click.echo(messages.describe_at_line(p.line, p.error), err=True)
            if result.problems:
                raise click.ClickException(messages.ARTICLES_NOT_IMPORTED.format(file=Path(file.name).name,
                                                                                 count=len(result.problems)))
            click.echo(messages.ARTICLES_IMPORTED.format(added=result.added, updated=result.updated,
                                                         unchanged=result.unchanged,
                                                         state=messages.AS_DRAFTS if draft else messages.AS_PUBLISHED))

    @group.command(name="export", help="Print the published articles (the published version) as JSON lines.")
    @click.option("--all", "include_all", is_flag=True, help="every article, drafts and retired ones too")
    def export(include_all: bool) -> None:
        from dispatch import kb
        from web.cli_db import database_session

        with database_session(get_settings) as session:
            for line in kb.export_lines(session, include_all=include_all):
                click.echo(line)

    return group
