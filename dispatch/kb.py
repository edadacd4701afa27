"""The knowledge base (知识库): articles owned by units, written by them, published by a
supervisor (the centre's knowledge editor), versioned on every edit.

An article moves draft -> published -> retired (an edit of a retired one makes it a draft
again). Its row holds the newest version; operators and citizens read the published
version only, so an edit of a published article waits for the editor. Expired articles
(past valid_until) and those not yet valid are never offered; articles past their
review-by date are flagged to their unit (a notice) and on the supervisor's page.
Nothing here commits."""
from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch import catalogue, notices, staff_activity
from dispatch.actors import SUPERVISING_ROLES, Actor, require_role
from dispatch.clock import local_date, utcnow
from dispatch.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Reason
from dispatch.models import KbArticle, KbArticleVersion, Unit
from dispatch.vocabulary import KB_REVIEW_ZH, Role

MAX_TITLE_CHARS = 200
MAX_BODY_CHARS = 20_000
MAX_KEYWORDS_CHARS = 500
MAX_CATEGORY_CHARS = 64
IMPORT_FIELDS = ("title", "body", "keywords", "category", "unit", "public", "valid_until", "review_by")


class ArticleState(enum.StrEnum):
    DRAFT = "draft"            # 草稿
    PUBLISHED = "published"    # 已发布
    RETIRED = "retired"        # 已停用


@dataclass(frozen=True)
class ArticleText:
    """What an author writes; every edit stores one as a new version."""

    title: str
    body: str
    keywords: tuple[str, ...] = ()
    category: str | None = None
    public: bool = False
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    review_by: dt.date | None = None

    @property
    def keyword_text(self) -> str:
        return " ".join(self.keywords)


def _text(data: Mapping[str, Any], name: str, limit: int, *, required: bool = False,
          field: str | None = None) -> str | None:
    """`field` names it in errors when the form's word differs (an article's body is 正文)."""
    field = field or name
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise InvalidInput(field, Reason.REQUIRED)
        return None
    if not isinstance(value, str):
        raise InvalidInput(field, Reason.NOT_TEXT)
    value = value.strip()
    if required and not value:
        raise InvalidInput(field, Reason.REQUIRED)
    if len(value) > limit:
        raise InvalidInput(field, Reason.TOO_LONG, limit=limit)
    return value or None


def _date(data: Mapping[str, Any], name: str) -> dt.date | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise InvalidInput(name, Reason.BAD_DATE, value=str(value)[:40])
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(name, Reason.BAD_DATE, value=value[:40]) from None


def _keywords(value: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        words = value.replace("，", " ").replace(",", " ").replace("、", " ").split()
    elif isinstance(value, list) and all(isinstance(w, str) for w in value):
        words = [w.strip() for w in value if w.strip()]
    else:
        raise InvalidInput("keywords", Reason.NOT_TEXT)
    kept = tuple(dict.fromkeys(words))
    if len(" ".join(kept)) > MAX_KEYWORDS_CHARS:
        raise InvalidInput("keywords", Reason.TOO_LONG, limit=MAX_KEYWORDS_CHARS)
    return kept


def _public(value: Any) -> bool:
    if value is None or value == "":
        return False
    if isinstance(value, bool):
        return value
    if value in ("on", "true", "1", "yes"):
        return True
    if value in ("off", "false", "0", "no"):
        return False
    raise InvalidInput("public", Reason.NOT_BOOLEAN)


def parse_text(data: Mapping[str, Any]) -> ArticleText:
    """An article's fields from a form, a JSON line or the API; raises InvalidInput."""
    text = ArticleText(title=_text(data, "title", MAX_TITLE_CHARS, required=True) or "",
                       body=_text(data, "body", MAX_BODY_CHARS, required=True, field="article_body") or "",
                       keywords=_keywords(data.get("keywords")),
                       category=_text(data, "category", MAX_CATEGORY_CHARS),
                       public=_public(data.get("public")),
                       valid_from=_date(data, "valid_from"), valid_until=_date(data, "valid_until"),
                       review_by=_date(data, "review_by"))
    if text.valid_from and text.valid_until and text.valid_until < text.valid_from:
        raise InvalidInput("valid_until", Reason.PERIOD_REVERSED)
    return text


# -- who may do what ------------------------------------------------------------------------

def require_author(actor: Actor, unit_id: int) -> None:
    """Units write their own articles; the centre's editors (supervisors) and admins any."""
    if actor.is_system or actor.role in SUPERVISING_ROLES:
        return
    if actor.role is not Role.UNIT_STAFF or actor.unit_id != unit_id:
        raise PermissionDenied(Reason.NOT_YOUR_ARTICLE, actor=actor.label)


def may_edit(actor: Actor, article: KbArticle) -> bool:
    return actor.role in SUPERVISING_ROLES or (actor.role is Role.UNIT_STAFF and actor.unit_id == article.unit_id)


def visible_articles(actor: Actor):  # type: ignore[no-untyped-def]
    """The staff list: unit staff see their own articles and every published one."""
    query = select(KbArticle)
    if actor.role is Role.UNIT_STAFF:
        query = query.where((KbArticle.unit_id == actor.unit_id) | (KbArticle.state == ArticleState.PUBLISHED.value))
    elif actor.role not in SUPERVISING_ROLES:
        query = query.where(KbArticle.state == ArticleState.PUBLISHED.value)
    return query.order_by(KbArticle.changed_at.desc(), KbArticle.id.desc())


def get_article(session: Session, article_id: int) -> KbArticle:
    article = session.get(KbArticle, article_id)
    if article is None:
        raise NotFound(Reason.ARTICLE_NOT_FOUND, article_id=article_id)
    return article


# -- the category: from the dispatch catalogue ----------------------------------------------

@dataclass(frozen=True)
class Categories:
    """An article's category as the dispatch catalogue names it: a level 1 as it is, an
    entry by its code (a level path is read as its entry). Other words are kept as given: a
    city importing its existing base keeps its own classes rather than losing the line."""

    level1: frozenset[str]
    codes: frozenset[str]

    def checked(self, session: Session, value: str | None) -> str | None:
        if value is None or value in self.level1 or value in self.codes:
            return value
        try:
            return catalogue.find_current(session, value).code
        except InvalidInput:
            return value


def categories(session: Session) -> Categories:
    """Read once per transaction (an import checks every line against the same catalogue)."""
    found = session.info.get("kb_categories")
    if found is None:
        entries = catalogue.current_entries(session)
        found = session.info["kb_categories"] = Categories(frozenset(e.level1 for e in entries),
                                                           frozenset(e.code for e in entries))
    return found


def _with_category(session: Session, text: ArticleText) -> ArticleText:
    return replace(text, category=categories(session).checked(session, text.category))


# -- writing --------------------------------------------------------------------------------

def _store_version(session: Session, article: KbArticle, text: ArticleText, actor: Actor, now: dt.datetime) -> None:
    text = _with_category(session, text)
    for name in ("title", "body", "category", "public", "valid_from", "valid_until", "review_by"):
        setattr(article, name, getattr(text, name))
    article.keywords = text.keyword_text
    article.changed_at = now
    session.add(KbArticleVersion(article_id=article.id, version=article.version, title=text.title, body=text.body,
                                 keywords=text.keyword_text, category=text.category, public=text.public,
                                 valid_from=text.valid_from, valid_until=text.valid_until,
                                 review_by=text.review_by, edited_by=actor.label[:100], editor_id=actor.user_id,
                                 edited_at=now))


def create(session: Session, unit: Unit, text: ArticleText, actor: Actor, *, now: dt.datetime | None = None) -> KbArticle:
    """A new draft of `unit`'s, version 1."""
    require_author(actor, unit.id)
    now = now or utcnow()
    article = KbArticle(unit_id=unit.id, state=ArticleState.DRAFT.value, version=1, title=text.title,
                        body=text.body, keywords=text.keyword_text, public=text.public, created_at=now,
                        changed_at=now)
    session.add(article)
    session.flush()
    _store_version(session, article, text, actor, now)
    session.flush()
    return article


def edit(session: Session, article: KbArticle, text: ArticleText, actor: Actor, *,
         expected_version: int | None = None, now: dt.datetime | None = None) -> KbArticle:
    """A new version. A published article keeps showing its published version until the
    editor publishes this one; a retired one becomes a draft."""
    require_author(actor, article.unit_id)
    if expected_version is not None and expected_version != article.version:
        raise_conflict(article, expected_version)
    now = now or utcnow()
    article.version += 1
    if article.state == ArticleState.RETIRED.value:
        article.state = ArticleState.DRAFT.value
    _store_version(session, article, text, actor, now)
    session.flush()
    return article


def raise_conflict(article: KbArticle, seen: int) -> None:
    raise Conflict(Reason.ARTICLE_CHANGED, article_id=article.id, version=article.version, seen=seen)


def publish(session: Session, article: KbArticle, actor: Actor, *, expected_version: int | None = None,
            now: dt.datetime | None = None) -> KbArticle:
    """The editor publishes the newest version: it is what is offered from now on."""
    require_role(actor, SUPERVISING_ROLES, "publish articles")
    if expected_version is not None and expected_version != article.version:
        raise_conflict(article, expected_version)
    article.state = ArticleState.PUBLISHED.value
    article.published_version = article.version
    article.changed_at = now or utcnow()
    _activity(session, "kb_published", actor, article)
    return article


def retire(session: Session, article: KbArticle, actor: Actor, *, now: dt.datetime | None = None) -> KbArticle:
    """停用: no longer offered; its versions stay."""
    require_role(actor, SUPERVISING_ROLES, "retire articles")
    article.state = ArticleState.RETIRED.value
    article.changed_at = now or utcnow()
    _activity(session, "kb_retired", actor, article)
    return article


def _activity(session: Session, kind: str, actor: Actor, article: KbArticle) -> None:
    staff_activity.record(session, staff_activity.ActivityKind(kind), actor, target=f"kb:{article.id}",
                          detail={"version": article.version, "title": article.title[:80]})


def versions(session: Session, article: KbArticle) -> list[KbArticleVersion]:
    return list(session.scalars(select(KbArticleVersion).where(KbArticleVersion.article_id == article.id)
                                .order_by(KbArticleVersion.version.desc())))


def published_text(session: Session, article: KbArticle) -> KbArticleVersion | None:
    """The version citizens and operators read, or None while nothing is published."""
    if article.state != ArticleState.PUBLISHED.value or article.published_version is None:
        return None
    return session.scalar(select(KbArticleVersion).where(KbArticleVersion.article_id == article.id,
                                                         KbArticleVersion.version == article.published_version))


def offered(version: KbArticleVersion, today: dt.date) -> bool:
    """Within its validity: an expired article (or one not yet valid) is not offered."""
    return (version.valid_from is None or version.valid_from <= today) and \
        (version.valid_until is None or today <= version.valid_until)


# -- review ---------------------------------------------------------------------------------

def stale(session: Session, today: dt.date, *, unit_id: int | None = None) -> list[KbArticle]:
    """Published articles past their review-by date, oldest review first."""
    query = select(KbArticle).where(*_past_review(today))
    if unit_id is not None:
        query = query.where(KbArticle.unit_id == unit_id)
    return list(session.scalars(query.order_by(KbArticle.review_by, KbArticle.id)))


def stale_count(session: Session, today: dt.date) -> int:
    """How many articles stale() lists, without reading them (the supervisor's notice)."""
    return int(session.scalar(select(func.count()).select_from(KbArticle).where(*_past_review(today))) or 0)


def _past_review(today: dt.date) -> tuple[Any, ...]:
    return (KbArticle.state == ArticleState.PUBLISHED.value, KbArticle.review_by.is_not(None),
            KbArticle.review_by < today)


def flag_stale(session: Session, now: dt.datetime) -> int:
    """Tell each unit of its articles past review, once per article and review date (the
    scheduler runs it; the notice's key keeps it once)."""
    told = 0
    for article in stale(session, local_date(now)):
        unit = session.get(Unit, article.unit_id)
        if unit is None:
            continue
        text = KB_REVIEW_ZH.format(title=article.title, review_by=article.review_by)
        key = f"kb_review:{article.id}:{article.review_by}"
        if notices.tell(session, unit, notices.NoticeKind.KB_REVIEW, key, text, now=now) is not None:
            told += 1
    return told


# -- import and export ----------------------------------------------------------------------

@dataclass(frozen=True)
class ImportProblem:
    line: int
    error: InvalidInput


@dataclass(frozen=True)
class ImportResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: tuple[ImportProblem, ...] = ()


def _parse_line(raw: str, units: dict[str, Unit]) -> tuple[Unit, ArticleText]:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise InvalidInput("line", Reason.LINE_NOT_JSON_OBJECT) from None
    if not isinstance(data, dict):
        raise InvalidInput("line", Reason.LINE_NOT_JSON_OBJECT)
    unknown = sorted(set(data) - set(IMPORT_FIELDS) - {"valid_from", "id", "state", "version"})
    if unknown:
        raise InvalidInput(unknown[0], Reason.UNKNOWN_FIELD, name=unknown[0])
    code = data.get("unit")
    if not isinstance(code, str) or not code.strip():
        raise InvalidInput("unit", Reason.REQUIRED)
    unit = units.get(code.strip())
    if unit is None:
        raise InvalidInput("unit", Reason.UNKNOWN_UNIT, code=code[:64])
    return unit, parse_text(data)


def import_lines(session: Session, lines: Iterable[str], actor: Actor, *, publish_them: bool = True,
                 now: dt.datetime | None = None) -> ImportResult:
    """JSON lines with IMPORT_FIELDS. Every line is checked first; one bad line and nothing
    is stored (the problems name each line by number). An article of the same unit and
    title gets a new version when its text changed. Imported articles are published: a city
    brings the base it already answers from."""
    units = {u.code: u for u in session.scalars(select(Unit))}
    parsed: list[tuple[Unit, ArticleText]] = []
    problems: list[ImportProblem] = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            unit, text = _parse_line(raw, units)
            parsed.append((unit, _with_category(session, text)))
        except InvalidInput as exc:
            problems.append(ImportProblem(number, exc))
    if problems:
        return ImportResult(problems=tuple(problems))
    if not parsed:
        return ImportResult(problems=(ImportProblem(0, InvalidInput("lines", Reason.NOTHING_TO_IMPORT)),))
    now = now or utcnow()
    added = updated = unchanged = 0
    for unit, text in parsed:
        article = session.scalar(select(KbArticle).where(KbArticle.unit_id == unit.id, KbArticle.title == text.title)
                                 .order_by(KbArticle.id).limit(1))
        if article is None:
            article = create(session, unit, text, actor, now=now)
            added += 1
        elif _same(article, text):
            unchanged += 1
            continue
        else:
            edit(session, article, text, actor, now=now)
            updated += 1
        if publish_them:   # as an editor publishes: in the staff activity log
            publish(session, article, actor, now=now)
    session.flush()
    return ImportResult(added=added, updated=updated, unchanged=unchanged)


def _same(article: KbArticle, text: ArticleText) -> bool:
    return all(getattr(article, f.name) == getattr(text, f.name) for f in fields(ArticleText)
               if f.name != "keywords") and article.keywords == text.keyword_text


def export_lines(session: Session, *, include_all: bool = False) -> Iterable[str]:
    """Published articles (every article with include_all) as JSON lines that import_lines
    reads back: the published version's text."""
    codes = dict(session.execute(select(Unit.id, Unit.code)).all())
    query = select(KbArticle).order_by(KbArticle.id)
    if not include_all:
        query = query.where(KbArticle.state == ArticleState.PUBLISHED.value)
    for article in session.scalars(query):
        source: Any = published_text(session, article) or article
        yield json.dumps({
            "title": source.title, "body": source.body, "keywords": source.keywords.split(),
            "category": source.category, "unit": codes[article.unit_id], "public": source.public,
            "valid_from": source.valid_from.isoformat() if source.valid_from else None,
            "valid_until": source.valid_until.isoformat() if source.valid_until else None,
            "review_by": source.review_by.isoformat() if source.review_by else None,
        }, ensure_ascii=False)


def count(session: Session) -> int:
    return session.scalar(select(func.count(KbArticle.id))) or 0
