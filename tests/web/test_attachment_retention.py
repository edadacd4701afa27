"""HOTLINE_ATTACHMENT_RETENTION_DAYS as a city runs it: the scheduler removes the photos of a
ticket finished longer ago, the ticket page shows who removed them, when and why, and
`hotline attachments expire` does the same from a shell with its progress."""
from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

from click.testing import CliRunner
from sqlalchemy import func, select
from starlette.testclient import TestClient

from dispatch import attachments, lifecycle
from dispatch.actors import Actor
from dispatch.attachments import AttachmentLimits, Upload
from dispatch.clock import utcnow
from dispatch.models import Attachment, Ticket
from dispatch.vocabulary import PHOTO_EXPIRED_ZH, Role
from tests import images
from tests.dispatch.helpers import new_ticket
from tests.web.pages_support import client_for, login
from web import scheduler
from web.cli import main
from web.services import Services

OPERATOR = Actor(label="operator-wang", role=Role.OPERATOR)


def answered_with_photo(services: Services, days_ago: int) -> str:
    def make(session) -> str:  # type: ignore[no-untyped-def]
        at = utcnow() - dt.timedelta(days=days_ago)
        ticket = new_ticket(session, body="小区门口井盖破损，晚上很危险，请尽快处理。", now=at)
        attachments.add(session, ticket, OPERATOR, [Upload("井盖.png", images.PNG)], AttachmentLimits(), now=at)
        lifecycle.answer(session, ticket, OPERATOR, "已当场答复市民的咨询问题", now=at)
        return ticket.number
    return services.run_sync(make)


def photos(services: Services, number: str) -> int:
    return services.run_sync(lambda s: s.scalar(select(func.count()).select_from(Attachment).join(Ticket)
                                                .where(Ticket.number == number)) or 0)


def test_the_scheduler_removes_expired_photos_and_the_ticket_page_says_why(services: Services) -> None:
    old, fresh = answered_with_photo(services, 40), answered_with_photo(services, 5)
    keeping = dataclasses.replace(services, settings=dataclasses.replace(services.settings,
                                                                         attachment_retention_days=30))
    assert "attachment_retention" not in asyncio.run(scheduler.run_once(services))   # 0: kept
    assert photos(services, old) == 1
    done = asyncio.run(scheduler.run_once(keeping))
    assert done["attachment_retention"]["removed"] >= 1
    assert (photos(services, old), photos(services, fresh)) == (0, 1)
    for client in client_for(services):
        login(client, "operator")
        page = client.get(f"/tickets/{old}").text
    assert "系统（图片保存期限）" in page and PHOTO_EXPIRED_ZH.format(days=30) in page


def test_the_command_removes_expired_photos_batch_by_batch_and_says_how_far_it_got(
        services: Services, database_url: str) -> None:
    old = [answered_with_photo(services, 400) for _ in range(3)]
    env = {"HOTLINE_DATABASE_URL": database_url}
    runner = CliRunner()
    refused = runner.invoke(main, ["attachments", "expire"], env=env)
    assert refused.exit_code != 0 and "HOTLINE_ATTACHMENT_RETENTION_DAYS" in refused.output
    counted = runner.invoke(main, ["attachments", "expire", "--days", "365", "--dry-run"], env=env,
                            catch_exceptions=False)
    assert all(photos(services, n) == 1 for n in old)
    total = int(counted.output.split()[0])
    assert total >= 3
    swept = runner.invoke(main, ["attachments", "expire", "--batch", "2"],
                          env={**env, "HOTLINE_ATTACHMENT_RETENTION_DAYS": "365"}, catch_exceptions=False)
    assert f"removed 2/{total}" in swept.output and f"removed {total} photos" in swept.output
    assert all(photos(services, n) == 0 for n in old)
