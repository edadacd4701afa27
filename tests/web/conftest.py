"""The demo site for the page tests: the demo city, staff and sample tickets, and a client.
(test_api.py defines its own plain `client`.)"""
from __future__ import annotations

from typing import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from tests.web.pages_support import client_for, demo_services
from web.services import Services


@pytest.fixture
def services(database_url: str, sessions: sessionmaker[Session]) -> Iterator[Services]:
    services = demo_services(database_url)
    yield services
    services.close()


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    yield from client_for(services)


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashes() -> Iterator[None]:
    """argon2 at its cheapest for the page tests: every test seeds the demo accounts and
    logs in a few times, and the production cost (~0.1-0.5 s a hash) made the seed most of
    each test's time. Verification reads the cost from each hash, so nothing else changes."""
    from argon2 import PasswordHasher

    from dispatch import staff

    production = staff._hasher
    staff._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    yield
    staff._hasher = production
