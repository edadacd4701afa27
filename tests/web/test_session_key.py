"""With no HOTLINE_SECRET_KEY the site makes its session key once and keeps it in the
database: a restart (or a second web process) signs and reads the same cookies."""
from __future__ import annotations

import logging
from typing import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from dispatch import site_secrets
from dispatch.demo import seed
from dispatch.models import SiteSecret
from tests.web.pages_support import csrf, login
from web.app import create_app
from web.config import Settings
from web.services import Services


def _started(database_url: str, **env: str) -> Iterator[TestClient]:
    """The app as `hotline serve` builds it, from the environment alone: a start."""
    services = Services.build(Settings.from_env({"HOTLINE_DATABASE_URL": database_url,
                                                 "HOTLINE_TRAIN_ON_START": "no", **env}))
    try:
        with TestClient(create_app(services.settings, services), follow_redirects=False) as client:
            yield client
    finally:
        services.close()


@pytest.fixture
def seeded(database_url: str, sessions: sessionmaker[Session]) -> None:
    services = Services.build(Settings(database_url=database_url, secret_key=None))
    services.run_sync(lambda s: seed(s, services.city, services.rules))
    services.close()


def test_a_staff_cookie_survives_a_restart_when_no_key_is_set(database_url: str, seeded: None,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    first = _started(database_url)
    client = next(first)
    login(client, "operator")
    cookies = dict(client.cookies)
    assert client.get("/operator").status_code == 200
    first.close()  # the app stops

    with sessions_of(database_url) as session:
        [key] = session.scalars(select(SiteSecret.value).where(SiteSecret.name == site_secrets.SESSION_KEY)).all()
    generated = [r for r in caplog.records if getattr(r, "event", None) == "secret_key_generated"]
    assert len(generated) == 1 and generated[0].levelno == logging.WARNING
    assert all(key not in r.getMessage() and key not in str(r.__dict__) for r in caplog.records)

    second = _started(database_url)
    client = next(second)
    client.cookies.update(cookies)
    page = client.get("/operator")
    assert page.status_code == 200 and "话务台" in page.text
    second.close()


def test_with_an_explicit_key_a_cookie_is_not_read_under_another_key(database_url: str, seeded: None) -> None:
    """The check can fail: the same story with two different explicit keys logs out."""
    first = _started(database_url, HOTLINE_SECRET_KEY="k" * 40)
    client = next(first)
    login(client, "operator")
    cookies = dict(client.cookies)
    first.close()
    second = _started(database_url, HOTLINE_SECRET_KEY="z" * 40)
    client = next(second)
    client.cookies.update(cookies)
    assert client.get("/operator").status_code == 303  # to the login page
    second.close()
    with sessions_of(database_url) as session:
        assert session.scalar(select(func.count()).select_from(SiteSecret)) == 0  # nothing generated


def test_processes_starting_together_agree_on_one_key(database_url: str, sessions: sessionmaker[Session]) -> None:
    made = iter(["first-candidate", "second-candidate"])
    with sessions.begin() as session:
        assert site_secrets.stored_secret(session, "session_key", lambda: next(made)) == ("first-candidate", True)
    with sessions.begin() as session:
        assert site_secrets.stored_secret(session, "session_key", lambda: next(made)) == ("first-candidate", False)


def test_a_key_made_by_another_process_between_our_read_and_insert_wins(
        database_url: str, sessions: sessionmaker[Session]) -> None:
    """Insert-if-absent: the candidate loses to the row already there, without an error."""
    from dispatch.clock import utcnow

    def make_while_another_process_inserts() -> str:
        with sessions.begin() as other:
            other.add(SiteSecret(name="session_key", value="from-the-other-process", created_at=utcnow()))
        return "ours"

    if sessions.kw["bind"].dialect.name == "sqlite":
        pytest.skip("SQLite serialises writers: the other process cannot insert inside our transaction")
    with sessions.begin() as session:
        assert site_secrets.stored_secret(session, "session_key", make_while_another_process_inserts) == \
            ("from-the-other-process", False)


def sessions_of(database_url: str):  # type: ignore[no-untyped-def]
    from dispatch.db import make_engine, make_sessionmaker

    engine = make_engine(database_url)
    factory = make_sessionmaker(engine)

    class _Scope:
        def __enter__(self) -> Session:
            self.session = factory()
            return self.session

        def __exit__(self, *exc: object) -> None:
            self.session.close()
            engine.dispose()

    return _Scope()


def test_a_database_that_refuses_writes_still_starts_with_a_random_key_and_says_so(
        database_url: str, sessions: sessionmaker[Session], caplog: pytest.LogCaptureFixture) -> None:
    from tests.read_only import read_only_url

    caplog.set_level(logging.INFO)
    services = Services.build(Settings(database_url=read_only_url(database_url)))
    try:
        first, second = services.session_key(), services.session_key()
    finally:
        services.close()
    assert first and second and first != second  # random each time: nothing could be kept
    refused = [r for r in caplog.records if getattr(r, "event", None) == "secret_key_not_stored"]
    assert len(refused) == 2 and all(first not in str(r.__dict__) for r in refused)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(SiteSecret)) == 0


def test_a_key_already_stored_is_read_from_a_database_that_refuses_writes(
        database_url: str, sessions: sessionmaker[Session]) -> None:
    from tests.read_only import read_only_url

    with sessions.begin() as session:
        stored, _ = site_secrets.stored_secret(session, site_secrets.SESSION_KEY)
    services = Services.build(Settings(database_url=read_only_url(database_url)))
    try:
        assert services.session_key() == stored  # the restart logs nobody out
    finally:
        services.close()
