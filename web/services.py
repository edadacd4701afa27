"""What the app shares between requests, built once in the lifespan from the settings."""
from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import secrets
import threading
from dataclasses import dataclass, field, replace
from typing import Any, Callable, TypeVar

import anyio
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from dispatch import catalogue, routing_rules, similarity, site_secrets, unit_cache
from dispatch.actions import ActionContext
from dispatch.attachments import AttachmentLimits
from dispatch.catalogue_match import Catalogue
from dispatch.catalogue_file import DeadlineClass
from dispatch.assessment import AssessmentRules
from dispatch.chasing import ChasePolicy
from dispatch.db import DB_THREADS, make_engine, make_sessionmaker, storage_fault
from dispatch.deadlines import load_policy
from dispatch.follow_up import FollowUpPolicy
from dispatch.gram_index import GramIndex
from dispatch.hotspots import HotspotRules, hotspots
from dispatch.intake import IntakeRequest, IntakeRules, proposal_for, proposals_for
from dispatch.intake_many import intake_many, intake_one
from dispatch.routing import Router, RoutingAnswer, city_router
from dispatch.kb_search import KbIndexCache, Synonyms
from dispatch.reports import CallPolicy
from dispatch.wallboard import WallboardPolicy
from dispatch.unit_cache import UnitCache
from dispatch.units import DEMO_CITY, City, load_city
from web.config import Settings
from web.intake_batch import IntakeBatcher
from web.proposal_batch import ProposalBatcher

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
    # The classifier model file the router uses (web/classification.py swaps in newer ones),
    # and whether a guarded retrain is running in this process.
    model_file: str | None = None
    retraining: bool = False
    # The same for the hotspot clusters: their pool would push the ticket pages' out of the other.
    hotspot_index: GramIndex = field(default_factory=similarity.new_index)
    # The knowledge base's search index, rebuilt when an article changes.
    kb_index: KbIndexCache = field(default_factory=KbIndexCache)
    # The units as the pages list them (dispatch/unit_cache.py: at most 30 s old).
    units: UnitCache = field(default_factory=UnitCache)
    # dispatch.unit_cache.stamp as the router's catalogue was last read: web/config_changes.py
    # reads everything again when the database's differs (a change by another process).
    catalogue_stamp: tuple[int, int] | None = None

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
                            policy=replace(load_policy(settings.deadlines_file),
                                           redispatch_restarts=settings.redispatch_restarts_deadline,
                                           extension_max_working_days=settings.extension_max_working_days))
        city = load_city(settings.city_file or DEMO_CITY)
        for level1, count in (city.catalogue.without_unit() if city.catalogue else {}).items():
            log.warning("catalogue entries without a unit: tickets under them wait for manual dispatch",
                        extra={"event": "catalogue_without_unit", "level1": level1, "entries": count})
        follow_up = FollowUpPolicy(max_attempts=settings.follow_up_max_attempts,
                                   close_after=dt.timedelta(days=settings.follow_up_close_after_days),
                                   retry_after=dt.timedelta(minutes=settings.follow_up_retry_minutes))
        return cls(settings=settings, engine=engine, sessions=make_sessionmaker(engine), rules=rules,
                   city=city, router=city_router(city, min_confidence=settings.routing_min_confidence,
                                                 catalogue=catalogue.from_city(city)),
                   follow_up=follow_up,
                   kb_index=KbIndexCache(Synonyms.from_file(settings.kb_synonyms_file)))

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

    def hotspot_rules(self) -> HotspotRules:
        s = self.settings
        return HotspotRules(baseline_days=s.hotspot_baseline_days, min_count=s.hotspot_min_count,
                            min_score=s.hotspot_min_score, cluster_min_score=s.hotspot_cluster_min_score,
                            open_days=s.similar_days)

    def hotspots(self, session: Session, since: dt.date, until: dt.date) -> dict[str, Any]:
        """热点 with the city's place names and the settings' thresholds (page and API alike)."""
        return hotspots(session, since, until, rules=self.hotspot_rules(), index=self.hotspot_index,
                        calendar=self.rules.policy.calendar)

    def assessment_rules(self) -> AssessmentRules:
        s = self.settings
        return AssessmentRules(response_hours=s.response_hours, weights=s.assessment_weights,
                               tier_cuts=s.assessment_tier_cuts, max_interval=s.assessment_max_interval)

    @property
    def attachment_limits(self) -> AttachmentLimits:
        """HOTLINE_ATTACHMENT_MAX_BYTES and HOTLINE_ATTACHMENTS_PER_TICKET."""
        return AttachmentLimits(max_bytes=self.settings.attachment_max_bytes,
                                per_ticket=self.settings.attachments_per_ticket)

    def action_context(self) -> ActionContext:
        """What dispatch.actions.perform needs from the configuration."""
        return ActionContext(city=self.city, follow_up=self.follow_up, deadlines=self.rules.policy,
                             reply_min_chars=self.settings.reply_min_chars,
                             max_body_chars=self.rules.max_body_chars, places=self.places)

    def deadline_classes(self) -> dict[str, DeadlineClass]:
        """The catalogue's deadline classes (urgent, quick) by code, for the pages."""
        return dict(self.city.catalogue.deadline_classes) if self.city.catalogue else {}

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

    async def propose(self, request: IntakeRequest) -> RoutingAnswer | None:
        """Routing's proposal for a request, in a worker thread and outside any transaction
        (intake(proposal=...)): the second opinion, when asked, takes hundreds of ms, and on
        SQLite a transaction holds the one write lock. Not on the database's limiter either."""
        return await self.proposals.run(request)  # with the requests that came meanwhile

    async def classify(self, function: Callable[[], T]) -> T:
        """Classifying outside the proposal batches (the console's typed request), on the
        threads they use: it is CPU work under the GIL, more threads would only take turns."""
        return await anyio.to_thread.run_sync(function, limiter=self._classifying)

    async def refresh_rules(self) -> None:
        """Give the router the rules as they now stand (city file + rules page)."""
        self.router.rules = await self.run(lambda session: routing_rules.router_rules(session, self.city))

    async def forget_units(self) -> None:
        """A unit changed (here or in another process): the pages read the table again."""
        self.units.clear()

    async def refresh_catalogue(self) -> None:
        """Give the router the dispatch catalogue as it now stands: seeded from the city file
        the first time, then as supervisors change it. Until the city's units are imported,
        the city file's own (tickets then record no entry)."""

        def work(session: Session) -> tuple[tuple[int, int], Catalogue]:
            catalogue.seed(session, self.city)
            # Read before the catalogue: a change committed in between is read twice, not missed.
            return unit_cache.stamp(session), catalogue.load(session)

        stamp, found = await self.run(work)
        self.router.catalogue = found if len(found) else catalogue.from_city(self.city)
        self.catalogue_stamp = stamp

    def run_sync(self, work: Callable[[Session], T]) -> T:
        with self._one_at_a_time(), self.sessions.begin() as session:
            return work(session)

    async def read(self, work: Callable[[Session], T]) -> T:
        """run() for a page's reads (and single-statement writes: a counter's upsert, a last-seen
        time), without BEGIN and COMMIT on PostgreSQL: each statement commits by itself. Under
        READ COMMITTED each statement of a transaction saw its own snapshot anyway, and the two
        round trips cost a loaded machine more than a page's own statements. SQLite: run()."""
        return await self.off_loop(self.read_sync, work)

    def read_sync(self, work: Callable[[Session], T]) -> T:
        if self._lock is not None:
            return self.run_sync(work)
        with self.sessions(bind=self._autocommit) as session:
            result = work(session)
            session.commit()   # what the ORM held back (each statement committed as it ran)
            return result

    def __post_init__(self) -> None:
        # SQLite has one writer and every transaction here takes the write lock up front
        # (BEGIN IMMEDIATE); threads that find it taken poll with sleeps. Queueing them on a
        # lock of our own hands the database over without the sleeps.
        self._lock = threading.Lock() if self.engine.dialect.name == "sqlite" else None
        # The same pool, its connections lent in autocommit (read()).
        self._autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        # PostgreSQL: as many threads as the pool has connections for (dispatch.db). More
        # only waited in the pool's queue, or opened connections beyond it, and every thread
        # woken fought the others for the GIL while a transaction held its row locks.
        self._limiter = anyio.CapacityLimiter(1 if self._lock is not None else DB_THREADS)
        # Classifying is CPU work under the GIL: more threads at it only take turns, and
        # take the GIL from the transactions between their round trips.
        self._classifying = anyio.CapacityLimiter(2)
        self.proposals = ProposalBatcher(lambda requests: proposals_for(requests, self.rules, self.router),
                                         lambda request: proposal_for(request, self.rules, self.router),
                                         self._classifying)
        self.intake_batch = IntakeBatcher(
            self, lambda session, batch: intake_many(session, batch, self.rules, self.settings.limits, router=self.router),
            lambda session, one: intake_one(session, one, self.rules, self.settings.limits, router=self.router))

    def _one_at_a_time(self) -> contextlib.AbstractContextManager[object]:
        return self._lock if self._lock is not None else contextlib.nullcontext()

    def close(self) -> None:
        self.engine.dispose()
