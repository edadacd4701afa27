"""即时转 on the phone: the caller who is still on the line is sent on to the emergency
number (AMI Redirect into the dialplan's hand-over context), and the attempt is logged on
the ticket. dispatch.handover has already recorded the hand-over itself."""
from __future__ import annotations

import asyncio
import logging

from sqlalchemy.orm import Session, sessionmaker

from callcenter.bridge import ActionFailed, AmiBridge, AmiError
from dispatch import handover
from dispatch.actors import Actor
from dispatch.public import ticket_by_number
from dispatch.vocabulary import DialResult

log = logging.getLogger(__name__)

HANDOVER_CONTEXT = "handover"   # the dialplan context that dials 110/119/120/122 (docker/asterisk)


async def redirect_caller(bridge: AmiBridge, linkedid: str, number: str) -> DialResult:
    """Redirect the caller's own channel (the one whose Uniqueid is the call's Linkedid)."""
    try:
        channels = await bridge.live_channels()
        caller = next((c for c in channels if c.linkedid == linkedid and c.uniqueid == linkedid), None)
        if caller is None:
            return DialResult.HUNG_UP
        await bridge.redirect(caller.channel, number, HANDOVER_CONTEXT)
        return DialResult.REDIRECTED
    except ActionFailed as exc:  # the channel went away between the listing and the Redirect
        log.warning("handover redirect refused", extra={"event": "handover_refused", "linkedid": linkedid,
                                                       "error": str(exc)})
        return DialResult.HUNG_UP
    except AmiError as exc:
        log.warning("handover redirect failed", extra={"event": "handover_pbx_error", "linkedid": linkedid,
                                                      "error": str(exc)})
        return DialResult.PBX_DOWN


async def transfer_live_call(bridge: AmiBridge, sessions: sessionmaker[Session], ticket_number: str,
                             actor: Actor, numbers: dict[str, str]) -> DialResult | None:
    """After a hand-over: when the ticket's call is still live, send the caller on to the
    configured number for the service and log it. None when there is no live call."""
    def live() -> tuple[str, str] | None:
        with sessions() as session:
            ticket = ticket_by_number(session, ticket_number)
            linkedid = handover.live_call_to_transfer(session, ticket)
            return (linkedid, numbers.get(ticket.handover_to or "", ticket.handover_to or "")) if linkedid else None

    found = await asyncio.to_thread(live)
    if found is None:
        return None
    linkedid, number = found
    result = await redirect_caller(bridge, linkedid, number)
    log.info("handover call", extra={"event": "handover_call", "ticket": ticket_number, "result": result.value})

    def save() -> None:
        with sessions.begin() as session:
            ticket = ticket_by_number(session, ticket_number)
            handover.record_call_transfer(session, ticket, actor, result, number=number, linkedid=linkedid)

    await asyncio.to_thread(save)
    return result
