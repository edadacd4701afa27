"""One inbound text, start to end, inside the caller's transaction: log it once, throttle a
flood, read the command, let dispatch act, and choose the reply text."""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import Callable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispatch import inbox, lifecycle, media_fetches, notifications as texts, outbox
from dispatch.clock import utcnow
from dispatch.errors import Conflict, InvalidInput, RateLimited
from dispatch.intake import IntakeRequest, IntakeRules, proposal_for
from dispatch.limits import Limits
from dispatch.models import Unit
from dispatch.notifications import Throttle, Verdict
from dispatch.phone import normalise_phone
from dispatch.public import public_view
from dispatch.routing import Router, RoutingAnswer
from dispatch.vocabulary import Channel
from sms_gateway import keywords
from sms_gateway.webhook import InboundSms

log = logging.getLogger(__name__)


def answer(session: Session, sms: InboundSms, rules: IntakeRules, throttle: Throttle,
           now: dt.datetime | None = None, router: Router | None = None,
           proposal: RoutingAnswer | None = None, limits: Limits = Limits()) -> str | None:
    """The reply to text back (None: no reply). The same MessageSid again gets the same reply.

    Of two concurrent deliveries of one message, the second fails on the unique MessageSid
    at commit; run it again (answer_once() does) and it finds the first one's reply here.
    Of two texts from one number changing one ticket at once, the second gets Conflict; run
    again, it acts on the ticket as the first left it.
    """
    now = now or utcnow()
    earlier = inbox.earlier_record(session, sms.message_sid)
    if earlier is not None:
        log.info("sms retry answered from the log", extra={"event": "sms_retry_in", "sid": sms.message_sid})
        return earlier.reply
    intent, reply, ticket_id = _decide(session, sms, rules, throttle, now, router, proposal, limits)
    if sms.media_urls and ticket_id is not None and intent in FILED:
        # The photos are fetched after commit (web/media_fetcher.py): Twilio waits for no download.
        media_fetches.enqueue(session, ticket_id, sms.message_sid, sms.media_urls, sms.media_types, now)
    inbox.log_inbound(session, sms.message_sid, sms.sender, "\n".join([sms.body, *sms.media_urls]), now,
                      intent=intent, reply=reply, ticket_id=ticket_id)
    log.info("sms answered", extra={"event": "sms_in", "sid": sms.message_sid, "intent": intent,
                                    "ticket_id": ticket_id})
    return reply


def answer_once(run: Callable[[Callable[[Session], str | None]], str | None], sms: InboundSms,
                rules: IntakeRules, throttle: Throttle, router: Router | None = None,
                limits: Limits = Limits()) -> str | None:
    """answer() in a transaction of its own (`run`), run again when it lost a race (see
    _run_again_on_race). A text that may become a ticket is classified first, outside the
    transaction (see intake.proposal_for)."""
    proposal = _proposal(sms, rules, router)
    return _run_again_on_race(run, lambda session: answer(session, sms, rules, throttle, router=router,
                                                          proposal=proposal, limits=limits))


def file_spooled(run: Callable[[Callable[[Session], str | None]], str | None], sms: InboundSms,
                 rules: IntakeRules, throttle: Throttle, router: Router | None = None,
                 limits: Limits = Limits()) -> str | None:
    """A text kept in the spool while the database refused writes, filed now. Its webhook
    was answered long ago, so the reply goes out through the outbox; a text already filed
    (the same MessageSid) is left alone."""
    proposal = _proposal(sms, rules, router)

    def work(session: Session) -> str | None:
        if inbox.earlier_record(session, sms.message_sid) is not None:
            return None
        reply = answer(session, sms, rules, throttle, router=router, proposal=proposal, limits=limits)
        if reply:
            outbox.enqueue_reply(session, sms.sender, reply)
        return reply

    return _run_again_on_race(run, work)


# Texts racing for one ticket: additions wait for its row (inbox.attach) and need one run
# each; ratings behind the first run once more and find nothing left to rate. A run is lost
# only to a change of the ticket meanwhile (a staff action, a rating), never to a burst of
# the citizen's own texts.
RUNS = 5


def _run_again_on_race(run: Callable[[Callable[[Session], str | None]], str | None],
                       work: Callable[[Session], str | None]) -> str | None:
    """Run `work` again when a concurrent transaction committed first: a delivery of the
    same message (IntegrityError on the unique MessageSid: this run finds its reply), or
    another text from the same number that changed the same ticket (Conflict from the
    version check: two ratings sent together, the second then finds nothing to rate). The
    text is logged and answered either way, never lost to a 409."""
    for attempt in range(1, RUNS + 1):
        try:
            return run(work)
        except (IntegrityError, Conflict):
            if attempt == RUNS:
                raise
            log.info("sms run again after a concurrent change", extra={"event": "sms_retry_race", "attempt": attempt})
    raise AssertionError("unreachable")


def _proposal(sms: InboundSms, rules: IntakeRules, router: Router | None) -> RoutingAnswer | None:
    command = _with_media(keywords.parse(sms.body), sms.media_urls)
    if router is None or not isinstance(command, keywords.Request):
        return None
    return proposal_for(IntakeRequest(channel=Channel.SMS, body=command.text, phone=sms.sender), rules, router)


def _decide(session: Session, sms: InboundSms, rules: IntakeRules, throttle: Throttle, now: dt.datetime,
            router: Router | None, proposal: RoutingAnswer | None,
            limits: Limits) -> tuple[str, str | None, int | None]:
    verdict, recent = throttle.verdict(session, sms.sender, now)
    if verdict is not Verdict.ALLOW and _rating_waited_for(session, sms):
        # A rating is let through: it acts only on this number's ticket that a unit resolved
        # and that asked for it, once (rated, the ticket is closed or reopened), so a flood
        # of digits gets no further than the throttle.
        log.info("sms over the throttle let through: a rating asked for",
                 extra={"event": "sms_throttle_rating", "sender": sms.sender, "sid": sms.message_sid,
                        "recent": recent})
        verdict = Verdict.ALLOW
    if verdict is not Verdict.ALLOW:
        log.warning("sms throttled: too many messages from one number",
                    extra={"event": "sms_throttled", "sender": sms.sender, "sid": sms.message_sid,
                           "recent": recent, "limit": throttle.max_messages,
                           "window_s": int(throttle.window.total_seconds())})
        return texts.THROTTLED, texts.reply_throttled(throttle.window) if verdict is Verdict.WARN else None, None
    try:
        phone = normalise_phone(sms.sender)
    except InvalidInput:
        # Alphanumeric senders and short codes cannot file a ticket nor be answered usefully.
        log.info("sms from a sender that is not a phone number",
                 extra={"event": "sms_bad_sender", "sid": sms.message_sid})
        return "bad_sender", None, None
    command = _with_media(keywords.parse(sms.body), sms.media_urls)
    return _act(session, command, phone, sms, rules, now, router, proposal, limits)


def _rating_waited_for(session: Session, sms: InboundSms) -> bool:
    """A rating (1 / 2 / 3, 满意 ...) from a number with a ticket waiting for it."""
    if not isinstance(keywords.parse(sms.body), keywords.RatingReply):
        return False
    try:
        phone = normalise_phone(sms.sender)
    except InvalidInput:
        return False
    return inbox.ticket_to_rate(session, phone) is not None


def _reopening(rules: IntakeRules, router: Router | None) -> lifecycle.Reopening:
    """What sets 重办's new deadline, as the pages have it: the policy and the city's classes."""
    catalogue = router.city.catalogue if router is not None else None
    return lifecycle.Reopening(rules.policy, catalogue.deadline_classes if catalogue else {})


# The intents whose text went onto a ticket (created, added to, or joined as a repeat): a
# picture message's photos follow it there. A keyword's picture (a status query's) is not filed.
FILED = frozenset({"request", "addition", "repeat"})
MEDIA_LINE = "[彩信图片] {url}"
MEDIA_ONLY = "（彩信，无文字）"


def _with_media(command: keywords.Command, media_urls: tuple[str, ...]) -> keywords.Command:
    """A picture message keeps its pictures: their Twilio links follow the words in the ticket
    text, and a picture without words is a request (or an addition) all the same."""
    if not media_urls:
        return command
    lines = [MEDIA_LINE.format(url=url) for url in media_urls]
    if isinstance(command, keywords.Request):
        return dataclasses.replace(command, text="\n".join([command.text, *lines]))
    if isinstance(command, keywords.Empty):
        return keywords.Request("\n".join([MEDIA_ONLY, *lines]))
    return command  # a keyword with a picture attached: the keyword is what it asks


def _act(session: Session, command: keywords.Command, phone: str, sms: InboundSms, rules: IntakeRules,
         now: dt.datetime, router: Router | None, proposal: RoutingAnswer | None,
         limits: Limits) -> tuple[str, str | None, int | None]:
    if isinstance(command, keywords.OptOut):
        texts.opt_out(session, phone, command.word, now)
        return "opt_out", texts.REPLY_OPTED_OUT, None
    if isinstance(command, keywords.OptIn):
        texts.opt_in(session, phone)
        return "opt_in", texts.REPLY_OPTED_IN, None
    if isinstance(command, keywords.StatusQuery):
        try:
            ticket = inbox.ticket_for_status(session, phone, command.number, command.code, limits, now)
        except RateLimited as exc:
            return "query", texts.reply_lookups_refused(exc.retry_after), None
        if ticket is None:
            return "query", texts.REPLY_NOT_FOUND if command.number else texts.REPLY_NO_TICKETS, None
        return "query", texts.reply_status(public_view(session, ticket)), ticket.id
    if isinstance(command, keywords.RatingReply):
        rated = inbox.rate_by_text(session, phone, command.rating, now, reopening=_reopening(rules, router))
        if rated is None:
            return "rating", texts.REPLY_NOTHING_TO_RATE, None
        unit = session.get(Unit, rated.unit_id) if rated.unit_id else None
        return "rating", texts.reply_rated(rated, command.rating.value, unit.name if unit else None), rated.id
    if isinstance(command, keywords.RatingHelp):
        waiting = inbox.ticket_to_rate(session, phone)
        return "rating_help", texts.reply_how_to_rate(waiting), waiting.id if waiting else None
    if isinstance(command, keywords.Empty):
        return "empty", texts.REPLY_EMPTY, None
    try:
        taken = inbox.take_text(session, phone=phone, body=command.text, message_sid=sms.message_sid,
                                rules=rules, now=now, addition=command.addition, force_new=command.force_new,
                                router=router, proposal=proposal)
    except InvalidInput as exc:
        log.info("sms request refused", extra={"event": "sms_invalid", "sid": sms.message_sid,
                                               "reason": exc.message})
        return "invalid", texts.REPLY_INVALID, None
    if taken.attached:
        return "addition", texts.reply_attached(taken.ticket), taken.ticket.id
    if taken.repeat:
        return "repeat", texts.reply_repeat(taken.ticket), taken.ticket.id
    reply = texts.reply_received(taken.ticket)
    if command.addition:
        reply = texts.REPLY_NOTHING_TO_ADD_TO + reply.removeprefix(texts.SIGNATURE)
    return "request", reply, taken.ticket.id
