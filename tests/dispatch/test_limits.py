"""The limits against abuse, on the domain: lookups by query code, API intake, staff logins."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from dispatch import limits, rate_counters
from dispatch.errors import RateLimited, Reason
from dispatch.limits import Limits, SmsLimits
from tests.dispatch.helpers import new_ticket

NOW = dt.datetime(2026, 11, 23, 4, 0, tzinfo=dt.timezone.utc)


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def test_wrong_codes_from_one_address_are_refused_after_the_limit_even_the_right_one(session: Session) -> None:
    ticket = new_ticket(session, phone="13812345678")
    rules = Limits.build(lookup_failures_per_address=10)
    for _ in range(10):
        assert limits.limited_lookup(session, rules, ticket.number, _wrong(ticket.query_code), "10.0.0.1", NOW) is None
    with pytest.raises(RateLimited) as refused:
        limits.limited_lookup(session, rules, ticket.number, ticket.query_code, "10.0.0.1", NOW)
    assert refused.value.reason is Reason.TOO_MANY_LOOKUPS and refused.value.retry_after > 0
    assert refused.value.params["seconds"] == refused.value.retry_after
    # Another address may still look its own ticket up.
    assert limits.limited_lookup(session, rules, ticket.number, ticket.query_code, "10.0.0.2", NOW) is ticket


def test_wrong_codes_for_one_ticket_from_many_addresses_are_refused_after_the_limit(session: Session) -> None:
    ticket = new_ticket(session, phone="13812345678")
    rules = Limits.build(lookup_failures_per_address=10, lookup_failures_per_ticket=20)
    for n in range(20):
        limits.limited_lookup(session, rules, ticket.number, _wrong(ticket.query_code), f"10.0.1.{n}", NOW)
    with pytest.raises(RateLimited):
        limits.limited_lookup(session, rules, ticket.number, _wrong(ticket.query_code), "10.0.2.1", NOW)


def test_a_limit_of_zero_is_off(session: Session) -> None:
    ticket = new_ticket(session, phone="13812345678")
    rules = Limits.build(lookup_failures_per_address=0, lookup_failures_per_ticket=0, api_intake_per_minute=0)
    for _ in range(50):
        limits.limited_lookup(session, rules, ticket.number, _wrong(ticket.query_code), "10.0.0.1", NOW)
        limits.count_intake(session, rules, "10.0.0.1", NOW)


def test_api_intake_is_refused_past_the_limit_per_minute(session: Session) -> None:
    rules = Limits.build(api_intake_per_minute=3)
    for _ in range(3):
        limits.count_intake(session, rules, "10.0.0.1", NOW)
    with pytest.raises(RateLimited) as refused:
        limits.count_intake(session, rules, "10.0.0.1", NOW)
    assert refused.value.retry_after == 60 and refused.value.reason is Reason.TOO_MANY_INTAKES
    limits.count_intake(session, rules, "10.0.0.2", NOW)
    limits.count_intake(session, rules, "10.0.0.1", NOW + dt.timedelta(minutes=1))


def test_login_failures_lock_only_the_pair_of_user_and_address(session: Session) -> None:
    rules = Limits.build(login_failures_per_user_address=5, login_failures_per_address=30)
    for _ in range(5):
        limits.count_login_attempt(session, rules, "operator", "10.0.0.1", NOW)
    with pytest.raises(RateLimited):
        limits.count_login_attempt(session, rules, "operator", "10.0.0.1", NOW)
    limits.count_login_attempt(session, rules, "operator", "10.0.0.2", NOW)
    limits.count_login_attempt(session, rules, "supervisor", "10.0.0.1", NOW)


def test_login_failures_across_names_lock_the_address(session: Session) -> None:
    rules = Limits.build(login_failures_per_user_address=5, login_failures_per_address=3)
    for name in ("a", "b", "c"):
        limits.count_login_attempt(session, rules, name, "10.0.0.1", NOW)
    with pytest.raises(RateLimited):
        limits.count_login_attempt(session, rules, "operator", "10.0.0.1", NOW)


def test_a_right_password_clears_the_pair_but_not_the_address(session: Session) -> None:
    rules = Limits.build(login_failures_per_user_address=2, login_failures_per_address=4)
    for name in ("a", "a", "b"):
        limits.count_login_attempt(session, rules, name, "10.0.0.1", NOW)
    with pytest.raises(RateLimited):
        limits.count_login_attempt(session, rules, "a", "10.0.0.1", NOW)
    limits.count_login_attempt(session, rules, "b", "10.0.0.1", NOW)   # b with its right password:
    limits.login_succeeded(session, rules, "b", "10.0.0.1", NOW)        # b's failure is cleared,
    limits.count_login_attempt(session, rules, "b", "10.0.0.1", NOW)
    with pytest.raises(RateLimited):                                    # the address's is not
        limits.count_login_attempt(session, rules, "c", "10.0.0.1", NOW)


def test_logins_in_flight_count_before_their_passwords_are_checked(session: Session) -> None:
    # Five guesses counted, none of them checked yet: the sixth is refused all the same.
    rules = Limits.build(login_failures_per_user_address=5, login_failures_per_address=30)
    for _ in range(5):
        limits.count_login_attempt(session, rules, "operator", "10.0.0.1", NOW)
    with pytest.raises(RateLimited):
        limits.count_login_attempt(session, rules, "operator", "10.0.0.1", NOW)
    # A refused attempt is not counted against the address; a right password gives its
    # attempt back to the address, and clears the pair.
    assert rate_counters.count(session, rules.login_failures_per_address, "10.0.0.1", NOW) == 5
    limits.login_succeeded(session, rules, "operator", "10.0.0.1", NOW)
    assert rate_counters.count(session, rules.login_failures_per_address, "10.0.0.1", NOW) == 4
    limits.count_login_attempt(session, rules, "operator", "10.0.0.1", NOW)


def test_texts_go_only_to_the_allowed_countries() -> None:
    china_only = SmsLimits()
    assert china_only.country_allowed("+8613812345678")
    assert not china_only.country_allowed("+447700900123")
    assert not china_only.country_allowed("+8525550100")   # +852 Hong Kong is not +86
    assert SmsLimits(allowed_country_codes=("86", "852")).country_allowed("+8525550100")
