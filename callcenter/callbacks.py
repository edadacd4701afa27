"""Calling a citizen back (回拨): ring the operator's phone, then the citizen, through the
PBX (AMI Originate), and log the attempt: on the callback list for a missed call, on the
ticket for a follow-up call (回访)."""
from __future__ import annotations

import asyncio
import logging

from sqlalchemy.orm import Session, sessionmaker

from callcenter.bridge import AmiBridge, AmiError
from dispatch import callback_dialing, follow_up, telephony
from dispatch.actors import Actor
from dispatch.models import Callback
from dispatch.public import ticket_by_number
from dispatch.vocabulary import DialResult

log = logging.getLogger(__name__)

CALLBACK_CONTEXT = "callback"       # the dialplan context of outgoing callbacks (docker/asterisk)
HOTLINE_CALLER_ID = "12345 <12345>"
# Asterisk's originate reasons, of the operator's phone: 4 answered, 5 busy, 1 hung up and 3
# no answer while ringing.
_REASONS = {4: DialResult.CONNECTED, 5: DialResult.BUSY, 1: DialResult.NO_ANSWER, 3: DialResult.NO_ANSWER}
# The dialplan's Dial from the operator's phone to the citizen (DialEnd's DialStatus);
# CANCEL: the operator's phone hung up while the citizen's rang.
_DIAL_STATUSES = {"ANSWER": DialResult.ANSWERED, "BUSY": DialResult.BUSY, "NOANSWER": DialResult.NO_ANSWER,
                  "CANCEL": DialResult.NO_ANSWER}


async def dial(bridge: AmiBridge, operator_channel: str, citizen: str) -> tuple[DialResult, int | None]:
    """Ring the operator's phone; once it is picked up, the dialplan dials the citizen. ANSWERED
    only when the citizen's leg was answered; CONNECTED when the operator's phone answered and
    the PBX told nothing more in time."""
    try:
        result = await bridge.originate(operator_channel, citizen, CALLBACK_CONTEXT, HOTLINE_CALLER_ID)
    except AmiError as exc:  # the PBX is down or silent: the attempt is still logged
        log.warning("originate failed", extra={"event": "originate_failed", "error": str(exc)})
        return DialResult.PBX_DOWN, None
    if result.success:
        if result.dial_status is None:
            return DialResult.CONNECTED, result.reason
        return _DIAL_STATUSES.get(result.dial_status, DialResult.FAILED), result.reason
    return _REASONS.get(result.reason or 0, DialResult.FAILED), result.reason


async def begin_call_back(sessions: sessionmaker[Session], callback_id: int, actor: Actor) -> str:
    """Mark the missed call as being called back (callback_dialing.begin); the number to dial.
    Refused at once (Conflict, NotFound) when it is done, gone or already being dialled."""
    def begin() -> str:
        with sessions.begin() as session:
            return callback_dialing.begin(session, callback_id, actor)

    return await asyncio.to_thread(begin)


async def finish_call_back(bridge: AmiBridge, sessions: sessionmaker[Session], callback_id: int, actor: Actor,
                           operator_channel: str, citizen: str) -> tuple[Callback, DialResult]:
    """Dial a missed call marked by begin_call_back and record what came of it; only the
    citizen answering takes it off the callback list. Otherwise it stays, with the attempt
    counted, until a later try reaches them or the operator records the outcome."""
    result, reason = await dial(bridge, operator_channel, citizen)
    log.info("callback attempt", extra={"event": "callback_attempt", "callback_id": callback_id,
                                        "reached": result.reached, "result": result.value})

    def save() -> Callback:
        with sessions.begin() as session:
            return telephony.record_callback_attempt(session, callback_id, actor,
                                                     f"{result.value} (originate reason {reason})",
                                                     reached=result.reached)

    return await asyncio.to_thread(save), result


async def call_back(bridge: AmiBridge, sessions: sessionmaker[Session], callback_id: int, actor: Actor,
                    operator_channel: str) -> tuple[Callback, DialResult]:
    """Call back a missed call and wait for the outcome (the console's click does not wait:
    it begins here and finishes in the background)."""
    citizen = await begin_call_back(sessions, callback_id, actor)
    return await finish_call_back(bridge, sessions, callback_id, actor, operator_channel, citizen)


async def call_about_ticket(bridge: AmiBridge, sessions: sessionmaker[Session], number: str, actor: Actor,
                            operator_channel: str) -> DialResult:
    """回访: call the citizen of a resolved ticket; the call is logged on the ticket, and the
    operator then records what the citizen said."""
    def target() -> str:
        with sessions() as session:
            return follow_up.call_target(session, ticket_by_number(session, number), actor)

    citizen = await asyncio.to_thread(target)
    result, reason = await dial(bridge, operator_channel, citizen)
    log.info("follow-up call", extra={"event": "follow_up_call", "ticket": number, "result": result.value})

    def save() -> None:
        with sessions.begin() as session:
            follow_up.record_call(session, ticket_by_number(session, number), actor, result,
                                  agent=operator_channel, reason=reason)

    await asyncio.to_thread(save)
    return result
