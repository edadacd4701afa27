"""Calling a citizen back (回拨): ring the operator's phone, then the citizen, through the
PBX (AMI Originate), and log the attempt on the callback list."""
from __future__ import annotations

import asyncio
import logging

from sqlalchemy.orm import Session, sessionmaker

from callcenter.bridge import AmiBridge, AmiError
from dispatch import telephony
from dispatch.actors import Actor
from dispatch.errors import NotFound
from dispatch.models import Callback
from dispatch.phone import national_form

log = logging.getLogger(__name__)

CALLBACK_CONTEXT = "callback"       # the dialplan context of outgoing callbacks (docker/asterisk)
HOTLINE_CALLER_ID = "12345 <12345>"


async def call_back(bridge: AmiBridge, sessions: sessionmaker[Session], callback_id: int, actor: Actor,
                    operator_channel: str) -> Callback:
    def number() -> str:
        with sessions() as session:
            callback = session.get(Callback, callback_id)
            if callback is None or not callback.caller:
                raise NotFound(f"no callback {callback_id} with a number to call")
            return national_form(callback.caller)

    citizen = await asyncio.to_thread(number)
    try:
        result = await bridge.originate(operator_channel, citizen, CALLBACK_CONTEXT, HOTLINE_CALLER_ID)
        reached, outcome = result.success, f"originate reason {result.reason}"
    except AmiError as exc:  # the PBX is down or silent: the attempt is still logged
        reached, outcome = False, f"PBX error: {exc}"
    log.info("callback attempt", extra={"event": "callback_attempt", "callback_id": callback_id,
                                        "reached": reached, "result": outcome})

    def save() -> Callback:
        with sessions.begin() as session:
            return telephony.record_callback_attempt(session, callback_id, actor, outcome, reached=reached)

    return await asyncio.to_thread(save)
