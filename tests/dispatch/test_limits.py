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


def test_a_stranger_guessing_from_one_address_cannot_lock_the_citizen_out(session: Session) -> None:
    """With the limits as shipped: the stranger keeps guessing as fast as their address is let
    (10 every 10 minutes) until this ticket's share for that address (20 an hour) is gone."""
    ticket = new_ticket(session, phone="13812345678")
    rules = Limits.build()
    stranger, refused = "198.51.100.7", 0
    for minutes in range(0, 60, 10):
        for _ in range(10):
            try:
                limits.limited_lookup(session, rules, ticket.number, _wrong(ticket.query_code), stranger,
                                      NOW + dt.timedelta(minutes=minutes))
            except RateLimited:
                refused += 1
    assert refused == 40   # 20 of the 60 were counted; the rest refused, the right code too
    with pytest.raises(RateLimited):
        limits.limited_lookup(session, rules, ticket.number, ticket.query_code, stranger, NOW + dt.timedelta(minutes=55))
    # The citizen, from their own address, still sees their ticket within that hour.
    assert limits.limited_lookup(session, rules, ticket.number, ticket.query_code, "203.0.113.5",
                                 NOW + dt.timedelta(minutes=55)) is ticket


def test_guessing_spread_over_many_addresses_reaches_the_tickets_cap(session: Session) -> None:
    """Three addresses, each within its own share, reach the ticket's cap (59 an hour, from
    the code's six digits); then everyone is refused for the rest of the hour."""
    ticket = new_ticket(session, phone="13812345678")
    rules = Limits.build()
    assert rules.lookup_failures_per_ticket.limit == limits.LOOKUP_FAILURES_PER_TICKET == 59
    for n in range(59):
        address, minutes = f"198.51.100.{n % 3}", 10 * (n // 30)   # 10 every 10 minutes from each
        assert limits.limited_lookup(session, rules, ticket.number, _wrong(ticket.query_code), address,
                                     NOW + dt.timedelta(minutes=minutes)) is None
    with pytest.raises(RateLimited) as refused:
        limits.limited_lookup(session, rules, ticket.number, ticket.query_code, "203.0.113.5",
                              NOW + dt.timedelta(minutes=30))
    assert refused.value.reason is Reason.TOO_MANY_LOOKUPS and refused.value.retry_after == 30 * 60
    assert limits.limited_lookup(session, rules, ticket.number, ticket.query_code, "203.0.113.5",
                                 NOW + dt.timedelta(hours=1)) is ticket


def test_the_tickets_cap_keeps_a_guess_in_a_week_under_one_in_a_hundred() -> None:
    from dispatch.numbering import QUERY_CODE_DIGITS, new_query_code

    assert len(new_query_code()) == QUERY_CODE_DIGITS
    guesses_in_a_week = 7 * 24 * limits.LOOKUP_FAILURES_PER_TICKET
    assert guesses_in_a_week / 10 ** QUERY_CODE_DIGITS < 0.01 <= (guesses_in_a_week + 7 * 24) / 10 ** QUERY_CODE_DIGITS
    assert limits.LOOKUP_FAILURES_PER_TICKET > 2 * Limits.build().lookup_failures_per_ticket_address.limit


def test_a_limit_of_zero_is_off(session: Session) -> None:
    ticket = new_ticket(session, phone="13812345678")
    rules = Limits.build(lookup_failures_per_address=0, lookup_failures_per_ticket_address=0, lookup_failures_per_ticket=0,
                         api_intake_per_minute=0)
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


def test_failures_from_many_addresses_lock_the_account_from_every_address(session: Session) -> None:
    rules = Limits.build(login_failures_per_user_address=5, login_failures_per_address=30, login_failures_per_user=12)
    for n in range(12):
        limits.count_login_attempt(session, rules, "operator", f"10.0.0.{n % 3}", NOW)
    with pytest.raises(RateLimited) as refused:
        limits.count_login_attempt(session, rules, "operator", "10.0.9.9", NOW)
    assert refused.value.reason is Reason.ACCOUNT_LOCKED and refused.value.retry_after == 15 * 60
    limits.count_login_attempt(session, rules, "supervisor", "10.0.9.9", NOW)   # other names are not locked
    limits.count_login_attempt(session, rules, "operator", "10.0.9.9", NOW + dt.timedelta(minutes=15))


def test_a_right_password_gives_the_account_back_only_its_attempt(session: Session) -> None:
    rules = Limits.build(login_failures_per_user=3)
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        limits.count_login_attempt(session, rules, "operator", address, NOW)
    limits.login_succeeded(session, rules, "operator", "10.0.0.3", NOW)
    assert rate_counters.count(session, rules.login_failures_per_user, "operator", NOW) == 2


@pytest.mark.parametrize(("client", "counted_as"), [
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
    ("2001:DB8:1:2::ffff", "2001:db8:1:2::/64"),
    ("::ffff:10.0.0.1", "10.0.0.1"),
    ("10.0.0.1", "10.0.0.1"),
    ("testclient", "testclient"),
])
def test_the_limits_count_an_ipv6_client_by_its_network(client: str, counted_as: str) -> None:
    assert limits.address_key(client) == counted_as


def test_rotating_addresses_within_one_ipv6_network_buys_no_new_share(session: Session) -> None:
    rules = Limits.build(api_intake_per_minute=2, web_form_per_address=2, lookup_failures_per_address=2,
                         open311_lists_per_minute=2)
    ticket = new_ticket(session)
    subscriber = [f"2001:db8:1:2::{n}" for n in range(1, 4)]
    for count in (limits.count_intake, limits.count_web_form, limits.count_open311_list):
        count(session, rules, subscriber[0], NOW)
        count(session, rules, subscriber[1], NOW)
        with pytest.raises(RateLimited):
            count(session, rules, subscriber[2], NOW)
        count(session, rules, "2001:db8:1:3::1", NOW)   # the next network is another subscriber
    for client in subscriber[:2]:
        limits.limited_lookup(session, rules, ticket.number, _wrong(ticket.query_code), client, NOW)
    with pytest.raises(RateLimited):
        limits.limited_lookup(session, rules, ticket.number, ticket.query_code, subscriber[2], NOW)
