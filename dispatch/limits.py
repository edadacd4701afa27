"""The limits the hotline keeps against abuse, and the checks that apply them. Every count
lives in the database (rate_counters.py), so a limit holds however many processes serve.

- intake through the public API: N requests a minute per client address;
- the web form: N complaints per 10 minutes per client address; staff forms kept across an
  expired login: 20 per 10 minutes per address; "这解决了我的问题" on a knowledge base
  article: 10 per 10 minutes per address; public knowledge base searches recorded for the
  gap list: N per 10 minutes per address (past it a search is answered, not recorded);
- intake through Open311: N requests a minute per client key (an app files for many citizens
  from one address, so its key is counted, not the address);
- query-code lookups (API, /status and texts): wrong codes per address, per (ticket, address),
  and, far more loosely, per ticket from anywhere, so that someone guessing from elsewhere
  cannot lock the citizen out;
- staff logins: failures per (user name, address), and more loosely per address, so that
  someone guessing from elsewhere cannot lock a user out by this share; and, far more
  loosely, per user name from anywhere, against guessing spread over many addresses (the
  price: anyone can lock an account out of new logins for a window; its sessions and API
  tokens keep working);
- the console's proposals while a request is typed (/operator/draft): N a minute per staff
  account, each a run of the classifier (a script, or a stuck key, must not keep it busy);
- text messages to citizens: only to the allowed countries, at most N a day to one number
  and M an hour in all (see outbox.py, which applies them to every notification).

Every per-address limit counts an IPv6 client by its /64 (address_key): one subscriber's
network, so rotating addresses within it buys no new share.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import logging
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from dispatch import rate_counters, staff_activity
from dispatch.clock import utcnow
from dispatch.errors import NotFound, RateLimited, Reason
from dispatch.models import Ticket
from dispatch.numbering import QUERY_CODE_DIGITS
from dispatch.public import lookup
from dispatch.rate_counters import Limit

log = logging.getLogger(__name__)

# Why a limit bit (its words, with how long to wait, are in web/messages.py).
TOO_MANY_INTAKES = Reason.TOO_MANY_INTAKES
TOO_MANY_LOOKUPS = Reason.TOO_MANY_LOOKUPS
TOO_MANY_LOGINS = Reason.TOO_MANY_LOGINS
ACCOUNT_LOCKED = Reason.ACCOUNT_LOCKED

MINUTE, HOUR, DAY = dt.timedelta(minutes=1), dt.timedelta(hours=1), dt.timedelta(days=1)
LOOKUP_WINDOW = dt.timedelta(minutes=10)
FORM_WINDOW = dt.timedelta(minutes=10)
LOGIN_WINDOW = dt.timedelta(minutes=15)
# Days of texts are counted from midnight in China.
CHINA_OFFSET = dt.timedelta(hours=8)

# Wrong query codes for one ticket from all addresses together, an hour. One address has its
# own small share (20 an hour for a ticket), so the cap on the ticket is only against guessing
# spread over many addresses, and must stay far enough above that share that one stranger
# cannot lock the citizen out. A code is one of 10**6 (QUERY_CODE_DIGITS digits); guessers
# held to C wrong codes an hour find it within a week (168 hours) with a chance of at most
# 168 * C / 10**6: under 1% takes C <= 59, about three addresses' shares (two more digits in the
# code would allow 100 times as many). At 59 an hour, finding a code takes 8,475 hours (nearly
# a year) of guessing on average.
SAFE_GUESSING = 0.01, 7 * 24   # chance, over hours
LOOKUP_FAILURES_PER_TICKET = int(10 ** QUERY_CODE_DIGITS * SAFE_GUESSING[0] / SAFE_GUESSING[1])

# Failed logins for one user name from all addresses together, per LOGIN_WINDOW: four
# addresses' shares. Low enough that guessing spread over addresses gets 1,920 tries a day,
# high enough that a user mistyping from a couple of places never meets it.
LOGIN_FAILURES_PER_USER = 20
# An IPv6 client is counted by this network (a subscriber's usual allocation), IPv4 by address.
IPV6_CLIENT_PREFIX = 64


@dataclass(frozen=True)
class SmsLimits:
    """Which numbers get notifications, and how many."""

    allowed_country_codes: tuple[str, ...] = ("86",)
    per_recipient: Limit = Limit("sms_recipient_day", 10, DAY, CHINA_OFFSET)
    overall: Limit = Limit("sms_all_hour", 500, HOUR)

    def country_allowed(self, phone: str) -> bool:
        """E.164 country codes are prefix-free: '+44...' is never taken for '+4...'."""
        return any(phone.startswith("+" + code) for code in self.allowed_country_codes)


@dataclass(frozen=True)
class Limits:
    api_intake_per_address: Limit = Limit("api_intake_address", 10, MINUTE)
    web_form_per_address: Limit = Limit("web_form_address", 10, FORM_WINDOW)
    kept_forms_per_address: Limit = Limit("kept_forms_address", 20, FORM_WINDOW)
    deflections_per_address: Limit = Limit("kb_deflection_address", 10, FORM_WINDOW)
    # A public search is answered whatever the count; past it, it is not recorded, so a
    # script cannot flood the gap list supervisors read.
    kb_searches_per_address: Limit = Limit("kb_search_address", 60, FORM_WINDOW)
    open311_intake_per_client: Limit = Limit("open311_intake_client", 60, MINUTE)
    # Listing requests masks up to a thousand texts (about half a second of CPU) and needs no key.
    open311_lists_per_address: Limit = Limit("open311_list_address", 30, MINUTE)
    lookup_failures_per_address: Limit = Limit("lookup_fail_address", 10, LOOKUP_WINDOW)
    lookup_failures_per_ticket_address: Limit = Limit("lookup_fail_ticket_address", 20, HOUR)
    lookup_failures_per_ticket: Limit = Limit("lookup_fail_ticket", LOOKUP_FAILURES_PER_TICKET, HOUR)
    login_failures_per_user_address: Limit = Limit("login_fail_user_address", 5, LOGIN_WINDOW)
    login_failures_per_address: Limit = Limit("login_fail_address", 30, LOGIN_WINDOW)
    login_failures_per_user: Limit = Limit("login_fail_user", LOGIN_FAILURES_PER_USER, LOGIN_WINDOW)
    # Not a limit on people: one hit per locked account and window, so that the staff
    # activity log hears of a lock once however many processes refuse logins meanwhile.
    login_locks_logged: Limit = Limit("login_lock_logged", 1, LOGIN_WINDOW)
    drafts_per_operator: Limit = Limit("operator_draft", 60, MINUTE)
    sms: SmsLimits = field(default_factory=SmsLimits)

    @classmethod
    def build(cls, *, api_intake_per_minute: int = 10, web_form_per_address: int = 10,
              open311_intake_per_minute: int = 60, open311_lists_per_minute: int = 30,
              lookup_failures_per_address: int = 10, lookup_failures_per_ticket_address: int = 20,
              lookup_failures_per_ticket: int = LOOKUP_FAILURES_PER_TICKET, login_failures_per_user_address: int = 5,
              login_failures_per_address: int = 30, login_failures_per_user: int = LOGIN_FAILURES_PER_USER,
              drafts_per_operator_per_minute: int = 60, kb_searches_per_address: int = 60,
              sms_countries: tuple[str, ...] = ("86",),
              sms_per_recipient_per_day: int = 10, sms_per_hour: int = 500) -> Limits:
        return cls(
            api_intake_per_address=Limit("api_intake_address", api_intake_per_minute, MINUTE),
            web_form_per_address=Limit("web_form_address", web_form_per_address, FORM_WINDOW),
            kb_searches_per_address=Limit("kb_search_address", kb_searches_per_address, FORM_WINDOW),
            open311_intake_per_client=Limit("open311_intake_client", open311_intake_per_minute, MINUTE),
            open311_lists_per_address=Limit("open311_list_address", open311_lists_per_minute, MINUTE),
            lookup_failures_per_address=Limit("lookup_fail_address", lookup_failures_per_address, LOOKUP_WINDOW),
            lookup_failures_per_ticket_address=Limit("lookup_fail_ticket_address", lookup_failures_per_ticket_address,
                                                     HOUR),
            lookup_failures_per_ticket=Limit("lookup_fail_ticket", lookup_failures_per_ticket, HOUR),
            login_failures_per_user_address=Limit("login_fail_user_address", login_failures_per_user_address,
                                                  LOGIN_WINDOW),
            login_failures_per_address=Limit("login_fail_address", login_failures_per_address, LOGIN_WINDOW),
            login_failures_per_user=Limit("login_fail_user", login_failures_per_user, LOGIN_WINDOW),
            drafts_per_operator=Limit("operator_draft", drafts_per_operator_per_minute, MINUTE),
            sms=SmsLimits(allowed_country_codes=sms_countries,
                          per_recipient=Limit("sms_recipient_day", sms_per_recipient_per_day, DAY, CHINA_OFFSET),
                          overall=Limit("sms_all_hour", sms_per_hour, HOUR)))


# ---- intake ---------------------------------------------------------------------------

def count_intake(session: Session, limits: Limits, client: str, now: dt.datetime | None = None) -> None:
    """Count one intake through the public API; RateLimited past the limit (the caller's
    transaction then rolls back, the count of the refused request with it)."""
    client = address_key(client)
    limit = limits.api_intake_per_address
    if not limit.on:
        return
    now = now or utcnow()
    if rate_counters.hit(session, limit, client, now) > limit.limit:
        rate_counters.refuse([(limit, client)], TOO_MANY_INTAKES, now)


def count_web_form(session: Session, limits: Limits, client: str, now: dt.datetime | None = None) -> None:
    """Count one complaint through the web form before it is filed (so that forms sent side
    by side cannot all pass the limit); RateLimited past the address's share. A repeat joined
    to an open ticket counts too: each adds to the ticket's log and may text its phone."""
    client = address_key(client)
    rate_counters.take(session, [(limits.web_form_per_address, client)], TOO_MANY_INTAKES, now)


def web_form_share_left(session: Session, limits: Limits, client: str, now: dt.datetime | None = None) -> None:
    """Before a form's body is read: RateLimited when the address has already used its whole
    share, so the body (photos, tens of MB) is refused unread. Only read here: the form is
    counted by count_web_form once read."""
    client = address_key(client)
    limit = limits.web_form_per_address
    if not limit.on:
        return
    now = now or utcnow()
    if rate_counters.count(session, limit, client, now) >= limit.limit:
        rate_counters.refuse([(limit, client)], TOO_MANY_INTAKES, now)


def count_deflection(session: Session, limits: Limits, client: str, now: dt.datetime | None = None) -> None:
    """Count one "这解决了我的问题" from an address; RateLimited past its share."""
    client = address_key(client)
    limit = limits.deflections_per_address
    if not limit.on:
        return
    now = now or utcnow()
    if rate_counters.hit(session, limit, client, now) > limit.limit:
        rate_counters.refuse([(limit, client)], Reason.TOO_MANY_DEFLECTIONS, now)


def kept_form_allowed(session: Session, limits: Limits, client: str, now: dt.datetime | None = None) -> bool:
    """Count one staff form kept for an address; False (not kept) past its share."""
    client = address_key(client)
    limit = limits.kept_forms_per_address
    return not limit.on or rate_counters.hit(session, limit, client, now) <= limit.limit


def kept_form_share_left(session: Session, limits: Limits, client: str, now: dt.datetime | None = None) -> bool:
    """Before a kept form's body is read: whether the address has any of its share left (only
    read here; kept_form_allowed counts the form once read)."""
    client = address_key(client)
    limit = limits.kept_forms_per_address
    return not limit.on or rate_counters.count(session, limit, client, now) < limit.limit


def kb_search_recorded(session: Session, limits: Limits, client: str, now: dt.datetime | None = None) -> bool:
    """Count one public knowledge base search from an address; False (answered, but not
    recorded) past its share."""
    client = address_key(client)
    limit = limits.kb_searches_per_address
    return not limit.on or rate_counters.hit(session, limit, client, now) <= limit.limit


def count_open311_list(session: Session, limits: Limits, client: str, now: dt.datetime | None = None) -> None:
    """Count one GET requests list from an address; RateLimited past the limit."""
    client = address_key(client)
    limit = limits.open311_lists_per_address
    if not limit.on:
        return
    now = now or utcnow()
    if rate_counters.hit(session, limit, client, now) > limit.limit:
        rate_counters.refuse([(limit, client)], Reason.TOO_MANY_LOOKUPS, now)


def count_open311_intake(session: Session, limits: Limits, client_id: int, now: dt.datetime | None = None) -> None:
    """Count one request filed with an Open311 client's key; RateLimited past the limit."""
    limit = limits.open311_intake_per_client
    if not limit.on:
        return
    now = now or utcnow()
    subject = str(client_id)
    if rate_counters.hit(session, limit, subject, now) > limit.limit:
        rate_counters.refuse([(limit, subject)], TOO_MANY_INTAKES, now)


def count_draft(session: Session, limits: Limits, user_id: int, now: dt.datetime | None = None) -> None:
    """Count one proposal for the console's typed request before it is classified (drafts
    asked side by side must not all pass); RateLimited past the account's share."""
    rate_counters.take(session, [(limits.drafts_per_operator, str(user_id))], Reason.TOO_MANY_DRAFTS, now)


# ---- query-code lookups ---------------------------------------------------------------

def limited_lookup(session: Session, limits: Limits, number: str, code: str, client: str,
                   now: dt.datetime | None = None) -> Ticket | None:
    """The ticket if the code matches, None if not (the failure counted: the caller commits,
    then says not found). RateLimited once the address (for any ticket), the address for this
    ticket, or the ticket from all addresses together had too many wrong codes, whether or
    not this one is right: a stranger's wrong codes use up their own address's share, and
    only guessing from many addresses at once reaches the ticket's cap.

    Every lookup is counted as a failure before the code is compared and a right one gives
    its count back: checked first and counted after, lookups sent side by side all passed
    the check. Each count is given back on its own (no transaction needed: /status runs
    statement by statement)."""
    now, client = now or utcnow(), address_key(client)
    number = number.strip()[:40]
    checks = [(limits.lookup_failures_per_address, client),
              (limits.lookup_failures_per_ticket_address, f"{number}@{client}"),
              (limits.lookup_failures_per_ticket, number)]
    rate_counters.take(session, checks, TOO_MANY_LOOKUPS, now)
    try:
        ticket = lookup(session, number, code)
    except NotFound:
        log.info("lookup with a wrong number or code", extra={"event": "lookup_failed", "client": client,
                                                             "number": number})
        return None
    rate_counters.give_back_each(session, checks, now)
    return ticket


# ---- staff logins ---------------------------------------------------------------------

def address_key(client: str) -> str:
    """What every per-address limit counts a client as: an IPv6 address by its /64 (a
    subscriber gets a whole /64 and may take any address in it), an IPv4 address (or one
    mapped into IPv6) as it is, anything else as given."""
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return client
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, IPV6_CLIENT_PREFIX), strict=False))
    return str(address)


def _login_checks(limits: Limits, username: str, client: str) -> list[tuple[Limit, str]]:
    network = address_key(client)
    return [(limits.login_failures_per_user_address, f"{username}@{network}"),
            (limits.login_failures_per_address, network),
            (limits.login_failures_per_user, username)]


def count_login_attempt(session: Session, limits: Limits, username: str, client: str,
                        now: dt.datetime | None = None) -> None:
    """Count a login as failed before its password is checked (argon2 takes a while, and a
    burst of guesses checked side by side must not all pass the limit); RateLimited past
    any limit: ACCOUNT_LOCKED when the user name's own cap is used up (whatever the
    address), else TOO_MANY_LOGINS. A right password takes the count back (login_succeeded)."""
    now = now or utcnow()
    try:
        rate_counters.take(session, _login_checks(limits, username, client), TOO_MANY_LOGINS, now)
    except RateLimited:
        account = limits.login_failures_per_user
        if account.on and rate_counters.count(session, account, username, now) >= account.limit:
            raise RateLimited(ACCOUNT_LOCKED, retry_after=account.retry_after(now), limit=account.name) from None
        raise


def record_account_lock(session: Session, limits: Limits, username: str, client: str,
                        now: dt.datetime | None = None, *, via: str = "page") -> bool:
    """Log a locked account in the staff activity log, once per lock (the first refusal in
    the window, whichever process has it); True when this call logged it. Its own
    transaction: the refused login's is rolled back."""
    now = now or utcnow()
    if rate_counters.hit(session, limits.login_locks_logged, username, now) > 1:
        return False
    account = limits.login_failures_per_user
    until = account.window_start(now) + account.window
    staff_activity.record_login_lock(session, username, client, failures=account.limit, until=until, via=via)
    log.warning("account locked", extra={"event": "login_locked", "username": username, "client": client,
                                         "until": until.isoformat()})
    return True


def login_succeeded(session: Session, limits: Limits, username: str, client: str,
                    now: dt.datetime | None = None) -> None:
    """A right password clears the pair's failures, but gives the address and the user name
    back only the attempt it counted (a sprayer who knows one password must not reset its
    count of the others, nor a user's login the count against their account). `now` as
    given to count_login_attempt()."""
    (pair, pair_subject), *others = _login_checks(limits, username, client)
    rate_counters.reset(session, pair, pair_subject, now)
    rate_counters.give_back_each(session, others, now)
