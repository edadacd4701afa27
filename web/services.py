"""What the app shares between requests, built once in the lifespan from the settings."""
from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

import anyio
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from dispatch import routing_rules, similarity, site_secrets
from dispatch.actions import ActionContext
from dispatch.chasing import ChasePolicy
from dispatch.db import make_engine, make_sessionmaker, storage_fault
from dispatch.deadlines import load_policy
from dispatch.follow_up import FollowUpPolicy
from dispatch.gram_index import GramIndex
from dispatch.intake import IntakeRules
from dispatch.routing import Router, city_router
from dispatch.reports import CallPolicy
from dispatch.wallboard import WallboardPolicy
from dispatch.units import DEMO_CITY, City, load_city
from web.config import Settings

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    rules: IntakeRules
    city: City
    router: Router
    follow_up: FollowUpPolicy = FollowUpPolicy()
    # Gram counts of open tickets, kept between requests (a pure function of their texts).
    similar_index: GramIndex = field(default_factory=similarity.new_index)

    def call_policy(self) -> CallPolicy:
        """How calls are counted (service level, short abandons), from the settings."""
        return CallPolicy(service_level_seconds=self.settings.service_level_seconds,
                          short_abandon_seconds=self.settings.short_abandon_seconds)

    def wallboard_policy(self) -> WallboardPolicy:
        return WallboardPolicy(calls=self.call_policy(), wrap_up_seconds=self.settings.wrap_up_seconds)

    def chase_policy(self) -> ChasePolicy:
        """The deadline chasing rules, on the same working-day calendar as the deadlines."""
        return ChasePolicy(near_due=dt.timedelta(hours=self.settings.near_due_hours),
                           escalate_every_working_days=self.settings.escalate_every_working_days,
                           calendar=self.rules.policy.calendar)

    @classmethod
    def build(cls, settings: Settings) -> Services:
        engine = make_engine(settings.database_url)
        rules = IntakeRules(max_body_chars=settings.max_body_chars,
                            repeat_window=dt.timedelta(hours=settings.repeat_window_hours),
                            policy=load_policy(settings.deadlines_file))
        city = load_city(settings.city_file or DEMO_CITY)
        follow_up = FollowUpPolicy(max_attempts=settings.follow_up_max_attempts,
                                   close_after=dt.timedelta(days=settings.follow_up_close_after_days))
        return cls(settings=settings, engine=engine, sessions=make_sessionmaker(engine), rules=rules,
                   city=city, router=city_router(city, min_confidence=settings.routing_min_confidence),
                   follow_up=follow_up)

    def session_key(self) -> str:
        """The key that signs staff cookies and CSRF tokens: HOTLINE_SECRET_KEY, else the one
        this site generated once and keeps in its database (never logged)."""
        if self.settings.secret_key:
            return str(self.settings.secret_key)
        try:
            key, made = self.run_sync(lambda s: site_secrets.stored_secret(s, site_secrets.SESSION_KEY))
        except Exception as exc:
            if not isinstance(exc, SQLAlchemyError) and storage_fault(exc) is None:
                raise
            kept = site_secrets.read_without_writing(self.engine, site_secrets.SESSION_KEY)
            if kept is not None:
                log.info("HOTLINE_SECRET_KEY is not set: using the session key stored in the database "
                         "(read while the database refuses writes)", extra={"event": "secret_key_from_database"})
                return kept
            # No table yet, or a database that refuses writes (SQLite's BEGIN IMMEDIATE even
            # for the read): serve anyway, but sessions end at the next restart. Not the
            # exception's text: a failed INSERT's message carries its parameters, the key.
            log.warning("HOTLINE_SECRET_KEY is not set and no key could be kept in the database: "
                        "using a random key until the next restart (staff will have to log in again)",
                        extra={"event": "secret_key_not_stored", "error": type(exc).__name__})
            return secrets.token_urlsafe(48)
        if made:
            log.warning("HOTLINE_SECRET_KEY is not set: generated a session key and stored it in the "
                        "database (site_secrets); set HOTLINE_SECRET_KEY to choose your own",
                        extra={"event": "secret_key_generated"})
        else:
            log.info("HOTLINE_SECRET_KEY is not set: using the session key stored in the database",
                     extra={"event": "secret_key_from_database"})
        return key

    def action_context(self) -> ActionContext:
        """What dispatch.actions.perform needs from the configuration."""
        return ActionContext(city=self.city, follow_up=self.follow_up, deadlines=self.rules.policy)

    def places(self, text: str) -> list[str]:
        """The townships a text names (for similar-ticket scoring)."""
        return [code for _, code in self.router.gazetteer.find(text)]

    async def run(self, work: Callable[[Session], T]) -> T:
        """One session and transaction per request, off the event loop; commit on success."""
        return await self.off_loop(self.run_sync, work)

    async def off_loop(self, function: Callable[..., T], *args: Any) -> T:
        """Run blocking database work in a worker thread. On SQLite, one at a time: the
        others wait on the event loop, not as threads queued on the write lock (which cost
        a thread wake-up and a fight for the GIL per hand-over)."""
        return await anyio.to_thread.run_sync(functools.partial(function, *args), limiter=self._limiter)

    async def refresh_rules(self) -> None:
        """Give the router the rules as they now stand (city file + rules page)."""
        self.router.rules = await self.run(lambda session: routing_rules.router_rules(session, self.city))

    def run_sync(self, work: Callable[[Session], T]) -> T:
        with self._one_at_a_time(), self.sessions.begin() as session:
            return work(session)

    def __post_init__(self) -> None:
        # SQLite has one writer and every transaction here takes the write lock up front
        # (BEGIN IMMEDIATE); threads that find it taken poll with sleeps. Queueing them on a
        # lock of our own hands the database over without the sleeps. PostgreSQL needs none.
        self._lock = threading.Lock() if self.engine.dialect.name == "sqlite" else None
        self._limiter = anyio.CapacityLimiter(1) if self._lock is not None else None

    def _one_at_a_time(self) -> contextlib.AbstractContextManager[object]:
        return self._lock if self._lock is not None else contextlib.nullcontext()

    def close(self) -> None:
        self.engine.dispose()
