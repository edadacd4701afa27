"""The PBX bridge seen from a process that does not hold it. Several processes serve the
pages but one alone is logged in to the PBX (web/leadership.py); a call button pressed on
any of them is carried over the relay to the holder, which dials and answers. The holder
answers only the bridge's own actions, named here."""
from __future__ import annotations

import dataclasses
from typing import Any

from callcenter.bridge import ActionFailed, AmiBridge, AmiError, OriginateResult
from callcenter.events import CoreShowChannel
from web.relay import NoAnswer, Relay, RemoteError

# An action's own wait on the PBX, plus the time for the request and answer to cross.
EXTRA_SECONDS = 10.0
ACTION_SECONDS = 15.0


class RemoteBridge:
    """What web/pages use of AmiBridge (originate, live_channels, redirect, pause), done by the
    process that holds the bridge. Its errors arrive as the bridge's own: ActionFailed when
    the PBX refused, AmiError when no holder answered or the PBX link is down."""

    def __init__(self, relay: Relay) -> None:
        self._relay = relay

    async def _ask(self, action: str, arguments: dict[str, Any], timeout: float) -> Any:
        try:
            return await self._relay.request(action, arguments, timeout)
        except NoAnswer:
            raise AmiError(f"no process holding the PBX bridge answered {action}") from None
        except RemoteError as exc:
            if exc.kind in ("ActionFailed", "LoginFailed"):
                raise ActionFailed(action, exc.message) from None
            raise AmiError(str(exc)) from None

    async def originate(self, channel: str, exten: str, context: str, caller_id: str, *,
                        ring_timeout: float = 30.0, priority: int = 1,
                        answer_timeout: float = 65.0) -> OriginateResult:
        answer = await self._ask("originate", {"channel": channel, "exten": exten, "context": context,
                                               "caller_id": caller_id, "ring_timeout": ring_timeout,
                                               "priority": priority, "answer_timeout": answer_timeout},
                                 ring_timeout + answer_timeout + ACTION_SECONDS + EXTRA_SECONDS)
        return OriginateResult(**answer)

    async def live_channels(self) -> list[CoreShowChannel]:
        return [CoreShowChannel(**c) for c in await self._ask("live_channels", {}, ACTION_SECONDS + EXTRA_SECONDS)]

    async def redirect(self, channel: str, exten: str, context: str, *, priority: int = 1) -> None:
        await self._ask("redirect", {"channel": channel, "exten": exten, "context": context, "priority": priority},
                        ACTION_SECONDS + EXTRA_SECONDS)

    async def pause(self, interface: str, paused: bool, reason: str = "", *, queue: str | None = None) -> None:
        await self._ask("pause", {"interface": interface, "paused": paused, "reason": reason, "queue": queue},
                        ACTION_SECONDS + EXTRA_SECONDS)


def answering(bridge: AmiBridge) -> Any:
    """The holder's side: do what another process asked of the bridge, as plain data."""

    async def answer(action: str, arguments: dict[str, Any]) -> Any:
        if action == "originate":
            return dataclasses.asdict(await bridge.originate(**arguments))
        if action == "live_channels":
            return [dataclasses.asdict(c) for c in await bridge.live_channels()]
        if action == "redirect":
            await bridge.redirect(**arguments)
            return None
        if action == "pause":
            await bridge.pause(**arguments)
            return None
        raise ValueError(f"not a bridge action: {action}")

    return answer
