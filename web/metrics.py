"""GET /metrics in Prometheus' text format, for a Prometheus on the same host or one that
holds the token (HOTLINE_METRICS_ALLOW, HOTLINE_METRICS_TOKEN): it tells volumes and link
states, and each scrape may cost a few database queries, so it is not public.

- HTTP requests per route template (never the raw path: no ticket or phone numbers in
  labels), method and status, with a latency histogram (RequestMetrics, a plain ASGI
  middleware; time to the response's first byte, so a live stream does not count its life);
- tickets, the outbox and today's calls read from the database at scrape time
  (dispatch/monitoring.py), at most once every CACHE_SECONDS;
- the AMI link, read from the bridge's own counters;
- the leader roles this process holds (Metrics.hold), 1 or 0 per role.

Each app has its own registry (tests build many apps in one process). Under `hotline serve
--workers N` (PROMETHEUS_MULTIPROC_DIR set before the workers start) every worker writes its
counters to files in that folder and a scrape, whichever worker answers it, reads them all
(prometheus_client's multiprocess mode): the AMI families then come from the bridge's
holder, copied in as it runs (AmiCollector.sync).
"""
from __future__ import annotations

import asyncio
import glob
import hmac
import ipaddress
import logging
import os
import re
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dispatch.monitoring import Snapshot, snapshot
from web import leadership
from web.auth import client_address
from web.messages import METRICS_FORBIDDEN
from web.services import Services

log = logging.getLogger(__name__)

CACHE_SECONDS = 5.0
# The roles one process of a cluster holds alone (elected in web/leadership.py).
ROLES = leadership.ROLES
# Any other method a client invents would add a label value per request.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # 404s and slash redirects: the raw path never becomes a label
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Headers a proxy adds: seen from a peer that is not a trusted proxy, the real client is unknown.
PROXY_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
# How often the bridge's holder copies the AMI counters into the shared files.
AMI_SYNC_SECONDS = 2.0
AMI_COUNTERS = (("events", "events_seen", "AMI events received"),
                ("events_applied", "events_applied", "AMI events that became a call or agent event"),
                ("connections", "connections", "AMI logins (1 + reconnects)"),
                ("calls_recovered", "recovered", "Calls rebuilt from queue_log after an outage"),
                ("write_retries", "write_retries", "Call records the database refused and that were retried"))


def shared_folder() -> str | None:
    """The folder the workers share their counters in, when several serve."""
    return os.environ.get(MULTIPROCESS_DIR) or None


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("hotline_http_requests", "HTTP requests answered, by route template and status",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("hotline_http_request_duration_seconds",
                                 "Time to the response's first byte, by route template",
                                 ["method", "route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        # Across workers: the highest of the live processes', so 1 while any of them holds it.
        self.leader = Gauge("hotline_leader", "1 when this process holds the role (runs it), else 0",
                            ["role"], registry=self.registry, multiprocess_mode="livemax")
        for role in ROLES:
            self.leader.labels(role).set(0)
        ProcessCollector(registry=self.registry)
        self.database = DatabaseCollector()
        self.ami = AmiCollector(self.registry if shared_folder() else None)
        self.registry.register(self.database)
        if not shared_folder():
            self.registry.register(self.ami)
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def hold(self, role: str, held: bool = True) -> None:
        """Say whether this process runs `role`: web/leadership.py calls it as it wins or
        loses one."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        self.leader.labels(role).set(1 if held else 0)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:  # labels() takes a lock and builds a tuple: once per key
            children = self._children[key] = (self.requests.labels(method, route, str(status)),
                                               self.latency.labels(method, route))
        children[0].inc()
        children[1].observe(seconds)


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    if isinstance(route, Route):
        return route.path
    if isinstance(route, Mount):
        return route.path + "/{path}"
    return UNMATCHED


class RequestMetrics:
    """Counts every HTTP request by the template of the route that answered it."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        answered = False

        async def send_observed(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.start" and not answered:
                answered = True
                self._observe(scope, message["status"], started)
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        except Exception:  # the server error handler outside answers 500 (a cancelled request: nobody)
            if not answered:
                self._observe(scope, 500, started)
            raise

    def _observe(self, scope: Scope, status: int, started: float) -> None:
        method = scope["method"] if scope["method"] in METHODS else "other"
        self.metrics.observe(method, route_template(scope), status, time.perf_counter() - started)


class DatabaseCollector(Collector):
    """Tickets, outbox and calls from the last snapshot; refresh() (async, off the event
    loop) takes a new one when the last is older than CACHE_SECONDS."""

    def __init__(self) -> None:
        self.snapshot: Snapshot | None = None
        self.ok = False
        self._taken = 0.0
        self._lock = asyncio.Lock()

    async def refresh(self, services: Services) -> None:
        async with self._lock:  # concurrent scrapes share one query
            if time.monotonic() - self._taken < CACHE_SECONDS:
                return
            try:
                self.snapshot = await services.run(snapshot)
                self.ok = True
            except Exception as exc:  # /metrics still answers, with the database marked down
                self.ok = False
                log.warning("metrics: database counts unavailable", extra={
                    "event": "metrics_database_error", "error": type(exc).__name__})
            self._taken = time.monotonic()

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily("hotline_metrics_database_ok",
                                "1 when the last scrape could read the database counts", value=int(self.ok))
        s = self.snapshot
        if s is None or not self.ok:
            return
        yield CounterMetricFamily("hotline_tickets_received", "Tickets received, ever (running totals)",
                                  value=s.tickets_received)
        yield GaugeMetricFamily("hotline_tickets_received_today", "Tickets received today (China time)",
                                value=s.tickets_received_today)
        yield _by("hotline_tickets_open", "Open tickets by state", "state", s.open_by_state)
        yield _by("hotline_tickets_overdue", "Open tickets past their deadline (超期), by state", "state",
                  s.overdue_by_state)
        yield _by("hotline_outbox_messages", "SMS outbox messages by status (submitted ones not counted)",
                  "status", s.outbox_by_status)
        yield GaugeMetricFamily("hotline_outbox_depth", "SMS outbox messages waiting to be sent (pending + sending)",
                                value=s.outbox_by_status["pending"] + s.outbox_by_status["sending"])
        yield GaugeMetricFamily("hotline_outbox_retrying", "Pending SMS messages whose earlier attempt failed",
                                value=s.outbox_retrying)
        yield GaugeMetricFamily("hotline_outbox_oldest_waiting_seconds", "Age of the oldest message waiting",
                                value=s.outbox_oldest_waiting_seconds)
        calls = s.calls_today
        for name, value in (("offered", calls.offered), ("answered", calls.answered),
                            ("abandoned", calls.abandoned)):
            yield GaugeMetricFamily(f"hotline_calls_{name}_today", f"Calls {name} to the hotline queue today "
                                    "(China time; the report's definition)", value=value)


def _by(name: str, documentation: str, label: str, values: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for key, value in values.items():
        family.add_metric([key], value)
    return family


class AmiCollector(Collector):
    """The AMI link from the bridge's own counters (callcenter/bridge.py); rate() of
    hotline_ami_events_total is the events per second. With several workers, the holder
    copies them into shared counters and gauges instead (sync), since a scrape may reach
    another worker."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.bridge: Any = None  # callcenter.bridge.AmiBridge while one runs
        self._copied: dict[str, int] = {}
        self._shared = None if registry is None else {
            "configured": Gauge("hotline_ami_configured", "1 when a process runs an AMI bridge",
                                registry=registry, multiprocess_mode="livemax"),
            "up": Gauge("hotline_ami_up", "1 while the AMI link is logged in", registry=registry,
                        multiprocess_mode="livemax"),
            **{name: Counter(f"hotline_ami_{name}", documentation, registry=registry)
               for name, _, documentation in AMI_COUNTERS}}

    def collect(self) -> Iterator[Metric]:
        bridge = self.bridge
        yield GaugeMetricFamily("hotline_ami_configured", "1 when this process runs an AMI bridge",
                                value=int(bridge is not None))
        yield GaugeMetricFamily("hotline_ami_up", "1 while the AMI link is logged in",
                                value=int(bridge is not None and bridge.connected))
        if bridge is None:
            return
        for name, attribute, documentation in AMI_COUNTERS:
            yield CounterMetricFamily(f"hotline_ami_{name}", documentation, value=getattr(bridge, attribute))

    def sync(self) -> None:
        """Copy the bridge's counters into the shared files (what grew since the last copy:
        a dead holder's counts stay in its file, so the totals never go back)."""
        if self._shared is None:
            return
        bridge = self.bridge
        self._shared["configured"].set(int(bridge is not None))
        self._shared["up"].set(int(bridge is not None and bridge.connected))
        if bridge is None:
            self._copied.clear()  # a new bridge counts from zero
            return
        for name, attribute, _ in AMI_COUNTERS:
            value = int(getattr(bridge, attribute))
            grown = value - self._copied.get(name, 0)
            if grown > 0:
                self._shared[name].inc(grown)
            self._copied[name] = value

    async def syncing(self) -> None:
        """Run in each worker: keeps the shared AMI figures current while it holds the bridge."""
        while True:
            self.sync()
            await asyncio.sleep(AMI_SYNC_SECONDS)


def forget_dead_workers(folder: str) -> None:
    """A worker that died (or was replaced) leaves its files: drop its live gauges, so that
    'livemax' means the living. Its counters stay, as a total must."""
    pids = {int(m.group(1)) for path in glob.glob(os.path.join(folder, "gauge_live*_*.db"))
            if (m := re.search(r"_(\d+)\.db$", path))}
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            multiprocess.mark_process_dead(pid, folder)
        except PermissionError:  # alive, someone else's
            pass


def exposition(metrics: Metrics) -> bytes:
    """This process's registry, or, with several workers, every worker's counters read from
    the shared folder beside this process's database and process families."""
    folder = shared_folder()
    if folder is None:
        return generate_latest(metrics.registry)
    metrics.ami.sync()
    forget_dead_workers(folder)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, folder)
    registry.register(metrics.database)
    return generate_latest(registry)


def allowed(request: Request) -> bool:
    settings = request.app.state.services.settings
    token = settings.metrics_token
    if token is not None:
        given = request.headers.get("authorization", "")
        if hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return True
    peer = request.client.host if request.client else ""
    trusted = settings.trusted_proxies
    if not _within(peer, trusted) and any(h in request.headers for h in PROXY_HEADERS):
        return False  # came through a proxy nobody declared: the real client is unknown
    address = client_address(peer, request.headers.getlist("x-forwarded-for"), trusted)
    return _within(address, settings.metrics_allow)


def _within(address: str, networks: tuple[Any, ...]) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in networks)


async def metrics_endpoint(request: Request) -> Response:
    if not allowed(request):
        return PlainTextResponse(METRICS_FORBIDDEN, status_code=403)
    metrics: Metrics = request.app.state.metrics
    await metrics.database.refresh(request.app.state.services)
    return Response(exposition(metrics), media_type=CONTENT_TYPE_LATEST)


routes = [Route("/metrics", metrics_endpoint, methods=["GET"])]
