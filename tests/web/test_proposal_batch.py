"""Requests waiting for routing's proposal are classified together (web/proposal_batch.py):
each still gets its own answer, and a batch that fails as a whole is proposed for again one
request at a time, so that only the request at fault gets an error."""
from __future__ import annotations

import asyncio
import threading

import anyio
import pytest

from dispatch.intake import IntakeRequest
from dispatch.vocabulary import Channel
from web.proposal_batch import MAX_BATCH, ProposalBatcher


class Proposer:
    """Proposes each request's body back, slowly enough for the others to queue; 'bad' fails."""

    def __init__(self) -> None:
        self.batches: list[int] = []
        self.release = threading.Event()

    def many(self, requests: list[IntakeRequest]) -> list[str | None]:
        self.batches.append(len(requests))
        self.release.wait(5)
        return [self.one(request) for request in requests]

    def one(self, request: IntakeRequest) -> str | None:
        if request.body == "bad":
            raise ValueError("bad")
        return None if not request.body else f"<{request.body}>"


def _request(body: str) -> IntakeRequest:
    return IntakeRequest(channel=Channel.WEB, body=body)


def test_waiting_requests_are_proposed_for_together_each_getting_its_own_answer() -> None:
    proposer = Proposer()

    async def main() -> list[object]:
        batcher = ProposalBatcher(proposer.many, proposer.one, anyio.CapacityLimiter(2))
        first = [asyncio.ensure_future(batcher.run(_request(f"a{i}"))) for i in range(2)]
        await asyncio.sleep(0.2)  # the first batch is running: the next one starts beside it
        rest = [asyncio.ensure_future(batcher.run(_request(f"b{i}"))) for i in range(MAX_BATCH + 10)]
        rest.append(asyncio.ensure_future(batcher.run(_request(""))))
        await asyncio.sleep(0.1)
        proposer.release.set()
        return await asyncio.gather(*first, *rest)

    answers = asyncio.run(main())
    assert answers == ["<a0>", "<a1>"] + [f"<b{i}>" for i in range(MAX_BATCH + 10)] + [None]
    # Two batches at once, as two threads classified before; the rest waits for either.
    assert proposer.batches == [2, MAX_BATCH, 11]


def test_a_failed_batch_is_proposed_for_one_by_one() -> None:
    proposer = Proposer()
    proposer.release.set()

    async def main() -> list[object]:
        batcher = ProposalBatcher(proposer.many, proposer.one, anyio.CapacityLimiter(1))
        return await asyncio.gather(*(batcher.run(_request(b)) for b in ["x", "bad", "y", "z"]),
                                    return_exceptions=True)

    answers = asyncio.run(main())
    assert answers[0] == "<x>" and answers[2:] == ["<y>", "<z>"]
    assert isinstance(answers[1], ValueError)


def test_a_failed_single_request_gets_its_error() -> None:
    proposer = Proposer()
    proposer.release.set()

    async def main() -> object:
        batcher = ProposalBatcher(proposer.many, proposer.one, anyio.CapacityLimiter(1))
        return await batcher.run(_request("bad"))

    with pytest.raises(ValueError):
        asyncio.run(main())
