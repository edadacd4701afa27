"""Routing's proposals for the requests that arrive together, made together.

Classifying a request is CPU work in a worker thread, outside any transaction. One thread
hop a request cost the event loop a wake-up each, and the model its fixed costs (numpy's
and scipy's calls on arrays of one text) each time. Here the requests waiting while a
batch is classified go in the next batch: one thread hop and one model call for them all
(dispatch.intake.proposals_for, the same answers as proposal_for one by one).

Up to two batches run at once, as two threads classified before: a slow second opinion
on one text holds up its own batch, not every proposal. Should a batch fail as a whole
(a bug), its requests are proposed for again one at a time, each getting its own answer
or error.
"""
from __future__ import annotations

import asyncio
from typing import Any, Callable

import anyio

from dispatch.intake import IntakeRequest
from dispatch.routing import RoutingAnswer
from web.batching import cancel, settle

MAX_BATCH = 64
MAX_RUNNING = 2

ProposeMany = Callable[[list[IntakeRequest]], list[RoutingAnswer | None]]
ProposeOne = Callable[[IntakeRequest], RoutingAnswer | None]


class ProposalBatcher:
    def __init__(self, propose_many: ProposeMany, propose_one: ProposeOne, limiter: anyio.CapacityLimiter) -> None:
        self._propose_many = propose_many
        self._propose_one = propose_one
        self._limiter = limiter
        self._waiting: list[tuple[IntakeRequest, asyncio.Future[Any]]] = []
        self._running: set[asyncio.Task[None]] = set()

    async def run(self, request: IntakeRequest) -> RoutingAnswer | None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._waiting.append((request, future))
        # Only this loop's tasks count: a test's app may have run on a loop now closed.
        self._running = {t for t in self._running if not t.done() and t.get_loop() is loop}
        if len(self._running) < MAX_RUNNING:
            self._running.add(loop.create_task(self._propose_while_waiting(), name="proposal-batch"))
        return await future

    async def _propose_while_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            try:
                outcomes = await anyio.to_thread.run_sync(self._propose, [r for r, _ in batch],
                                                          limiter=self._limiter)
            except BaseException:  # cancelled: so are they
                cancel(batch)
                raise
            settle(batch, outcomes)

    def _propose(self, requests: list[IntakeRequest]) -> list[tuple[bool, Any]]:
        try:
            return [(True, answer) for answer in self._propose_many(requests)]
        except Exception as exc:
            if len(requests) == 1:
                return [(False, exc)]
        outcomes: list[tuple[bool, Any]] = []
        for request in requests:
            try:
                outcomes.append((True, self._propose_one(request)))
            except Exception as exc:
                outcomes.append((False, exc))
        return outcomes
