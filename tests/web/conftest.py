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
