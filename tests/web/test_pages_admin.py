"""The administrator's pages, as an administrator uses them: accounts, units, the activity log."""
from __future__ import annotations

import contextlib
import datetime as dt
import html
import json
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from dispatch.models import StaffActivity, StaffUser, Unit
from dispatch.units import DEMO_CITY
from tests.held import held
from tests.web.pages_support import csrf, login
from tests.web.server import ServerThread
from web.app import create_app
from web.auth import SESSION_COOKIE
from web.services import Services

ADMIN_PAGES = ("/admin/users", "/admin/units", "/admin/tokens", "/admin/open311", "/admin/activity")


@contextlib.contextmanager
def browser_of(client: TestClient, cookie: str | None = None) -> Iterator[TestClient]:
    """Another person's browser on the same app (one app per test: a second one would start
    a second lifespan on the same services): the cookies are swapped in, then back."""
    kept = dict(client.cookies)
    client.cookies.clear()
    if cookie is not None:
        client.cookies.set(SESSION_COOKIE, cookie)
    try:
        yield client
    finally:
        client.cookies.clear()
        for name, value in kept.items():
            client.cookies.set(name, value)


def user_id(services: Services, username: str) -> int:
    return services.run_sync(lambda s: s.scalar(select(StaffUser.id).where(StaffUser.username == username)))


def unit(services: Services, code: str) -> Unit:
    return services.run_sync(lambda s: s.scalar(select(Unit).where(Unit.code == code)))


def post(client: TestClient, path: str, page: str | None = None, files=None, **fields: str):  # type: ignore[no-untyped-def]
    return client.post(path, data={"csrf_token": csrf(client, page or "/admin/users"), **fields}, files=files)


def activity(services: Services, kind: str) -> list[StaffActivity]:
    return services.run_sync(lambda s: list(s.scalars(select(StaffActivity).where(StaffActivity.kind == kind)
                                                      .order_by(StaffActivity.id))))


def logs_in(client: TestClient, username: str, password: str) -> bool:
    with browser_of(client) as fresh:
        response = fresh.post("/login", data={"csrf_token": csrf(fresh), "username": username, "password": password})
        return response.status_code == 303


# -- accounts -------------------------------------------------------------------------------


def test_the_admin_sees_every_account_with_role_unit_state_and_last_login(client: TestClient) -> None:
    login(client, "admin")
    page = client.get("/admin/users")
    assert page.status_code == 200
    row = re.search(r'<tr class="" data-username="housing">(.*?)</tr>', page.text, re.S)
    assert row and "承办单位工作人员" in row.group(1) and "住房和城乡建设局" in row.group(1) and "在用" in row.group(1)
    admin_row = re.search(r'data-username="admin">(.*?)</tr>', page.text, re.S)
    assert admin_row and re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", admin_row.group(1))  # logged in just now
    assert 'href="/admin/users"' in client.get("/supervisor").text  # the nav leads here


def test_people_who_are_not_administrators_get_403(client: TestClient, services: Services) -> None:
    housing = user_id(services, "housing")
    for username, home in (("supervisor", "/supervisor"), ("operator", "/operator"), ("housing", "/unit")):
        login(client, username)
        token = csrf(client, home)
        assert 'href="/admin/users"' not in client.get(home).text
        for path in (*ADMIN_PAGES, f"/admin/users/{housing}", f"/admin/units/{unit(services, 'housing').id}"):
            refused = client.get(path)
            assert refused.status_code == 403, (username, path)
            assert "退出" in refused.text and "工作人员登录" not in refused.text   # still shown as logged in
        for path in ("/admin/users", f"/admin/users/{housing}/deactivate", f"/admin/users/{housing}/password",
                     "/admin/units/import", "/admin/units/import/apply"):
            response = client.post(path, data={"csrf_token": token, "username": "x", "role": "admin",
                                               "password": "a long password"})
            assert response.status_code == 403, (username, path)
    assert services.run_sync(lambda s: s.scalar(select(StaffUser.active).where(StaffUser.id == housing)))


def test_the_admin_adds_an_account_that_logs_in(client: TestClient, services: Services) -> None:
    login(client, "admin")
    response = post(client, "/admin/users", username="zhang-wei", display_name="张伟", role="unit_staff",
                    unit="ecology-environment", password="correct horse 1")
    assert response.status_code == 303
    assert logs_in(client, "zhang-wei", "correct horse 1")
    added = activity(services, "user_added")
    assert added[-1].actor == "admin" and added[-1].target == "zhang-wei"
    assert added[-1].detail == {"role": "unit_staff", "unit": "ecology-environment", "generated": False}


def test_a_generated_password_is_shown_once_and_works(client: TestClient, services: Services) -> None:
    login(client, "admin")
    response = post(client, "/admin/users", username="li-na", role="operator")
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    password = re.search(r'id="generated-password">.*?<code>([^<]+)</code>', response.text, re.S).group(1)  # type: ignore[union-attr]
    assert len(password) == 19 and logs_in(client, "li-na", password)
    assert password not in client.get(f"/admin/users/{user_id(services, 'li-na')}").text


def test_bad_accounts_are_explained_in_chinese(client: TestClient) -> None:
    login(client, "admin")
    for fields, words in (({"username": "housing", "role": "operator", "password": "long enough 1"}, "已存在"),
                          ({"username": "wang", "role": "unit_staff", "password": "long enough 1"}, "必须属于一个单位"),
                          ({"username": "wang", "role": "operator", "password": "short"}, "密码至少 8 个字符"),
                          ({"username": "wang", "role": "operator", "password": "wang"}, "密码"),
                          ({"username": "a b", "role": "operator", "password": "long enough 1"}, "用户名为")):
        response = post(client, "/admin/users", **fields)
        assert response.status_code == 422 and words in response.text, (fields, response.text[:300])


@pytest.mark.parametrize("username, existing", [("Admin", "admin"), ("ADMIN", "admin"), ("ａｄｍｉｎ", "admin"),
                                                ("Ａｄｍｉｎ", "admin"), ("HOUSING", "housing")])
def test_a_username_that_reads_like_an_existing_one_is_refused(client: TestClient, services: Services,
                                                               username: str, existing: str) -> None:
    login(client, "admin")
    response = post(client, "/admin/users", username=username, role="admin", password="long enough 1")
    assert response.status_code == 422
    assert f"用户名「{username}」与已有账号「{existing}」只差大小写或全角半角" in response.text
    with services.sessions() as session:
        assert session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is None


# The read that finds whether an account reads like the new one (every account's name, or
# the one holding its key).
READS_LOOKALIKES = re.compile(r"SELECT staff_users\.username\s+FROM staff_users")


@pytest.mark.parametrize("names", [("Zhou", "ｚｈｏｕ"), ("zhou", "ZHOU"), ("zhou", "zhou")])
def test_two_admins_adding_look_alike_usernames_at_the_same_moment_store_one(
        services: Services, names: tuple[str, str]) -> None:
    with ServerThread(create_app(services.settings, services)) as server:
        browsers = [httpx.Client(base_url=server.url, timeout=60) for _ in names]
        for browser in browsers:
            login(browser, "admin")  # type: ignore[arg-type]
        tokens = [csrf(browser, "/admin/users") for browser in browsers]  # type: ignore[arg-type]

        def add(n: int) -> httpx.Response:
            return browsers[n].post("/admin/users", data={"csrf_token": tokens[n], "username": names[n],
                                                          "role": "operator", "password": "long enough 1"})

        # Each held after it found no look-alike, until the other has looked too: both then
        # insert. SQLite's one writer runs them one after the other.
        with held(services.engine, lambda statement: READS_LOOKALIKES.match(statement) is not None,
                  len(names)) as both_looked, ThreadPoolExecutor(len(names)) as pool:
            answers = list(pool.map(add, range(len(names))))
        for browser in browsers:
            browser.close()

    if services.engine.dialect.name == "postgresql":
        assert not both_looked.broken, "the two did not overlap"
    assert sorted(a.status_code for a in answers) == [303, 422], [a.text[:300] for a in answers]
    refused = next(n for n, a in enumerate(answers) if a.status_code == 422)
    loser, winner = names[refused], names[1 - refused]
    words = (f"用户名「{loser}」已存在。" if loser == winner else
             f"用户名「{loser}」与已有账号「{winner}」只差大小写或全角半角，容易混淆，请换一个。")
    assert words in answers[refused].text
    with services.sessions() as session:
        assert session.scalars(select(StaffUser.username).where(StaffUser.username.in_(names))).all() == [winner]


def test_deactivating_ends_sessions_and_tokens_and_reactivating_brings_neither_back(
        client: TestClient, services: Services) -> None:
    login(client, "housing")
    old_cookie = client.cookies[SESSION_COOKIE]
    token = client.post("/api/v1/auth/token", json={"username": "housing", "password": "hotline-demo"}).json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/unit").status_code == 200 and client.get("/api/v1/staff/tickets", headers=bearer).status_code == 200
    login(client, "admin")
    housing = user_id(services, "housing")
    assert post(client, f"/admin/users/{housing}/deactivate").status_code == 303
    with browser_of(client, old_cookie) as other:
        assert other.get("/unit").status_code == 303          # the old cookie is refused
    assert client.get("/api/v1/staff/tickets", headers=bearer).status_code == 401
    assert not logs_in(client, "housing", "hotline-demo")
    assert "已停用" in client.get("/admin/users").text
    assert post(client, f"/admin/users/{housing}/reactivate").status_code == 303
    assert logs_in(client, "housing", "hotline-demo")
    with browser_of(client, old_cookie) as other:
        assert other.get("/unit").status_code == 303
    assert client.get("/api/v1/staff/tickets", headers=bearer).status_code == 401
    assert [a.target for a in activity(services, "user_deactivated")] == ["housing"]
    assert [a.target for a in activity(services, "user_reactivated")] == ["housing"]


def test_deactivating_an_operator_asks_first_and_frees_their_extension_for_the_next(
        client: TestClient, services: Services) -> None:
    login(client, "admin")
    majun = user_id(services, "majun")
    page = client.get(f"/admin/users/{majun}").text
    form = re.search(r'<form [^>]*id="deactivate-form"[^>]*>', page, re.S)
    assert form and 'data-confirm="确定停用账号「majun」' in form.group(0) and "分机号 7008 随之释放" in form.group(0)
    assert '<script src="/static/confirm.js"' in page and client.get("/static/confirm.js").status_code == 200
    assert post(client, f"/admin/users/{majun}/deactivate").status_code == 303
    extension_of = lambda name: services.run_sync(  # noqa: E731
        lambda s: s.scalar(select(StaffUser.phone_extension).where(StaffUser.username == name)))
    assert extension_of("majun") is None
    assert activity(services, "user_deactivated")[-1].detail["phone_extension"] == ["7008", None]
    added = post(client, "/admin/users", username="gaoyan", display_name="话务员 高燕", role="operator",
                 phone_extension="7008", password="correct horse 1")
    assert added.status_code == 303, added.text
    assert extension_of("gaoyan") == "7008"


def test_an_extension_a_deactivated_account_still_holds_goes_to_the_new_account_in_the_log(
        client: TestClient, services: Services) -> None:
    def deactivated_keeping_extension(session: Session) -> None:   # as before deactivating freed it
        session.scalar(select(StaffUser).where(StaffUser.username == "majun")).active = False
    services.run_sync(deactivated_keeping_extension)
    login(client, "admin")
    added = post(client, "/admin/users", username="gaoyan", display_name="话务员 高燕", role="operator",
                 phone_extension="7008", password="correct horse 1")
    assert added.status_code == 303, added.text
    given_up = activity(services, "user_changed")[-1]
    assert given_up.target == "majun" and given_up.detail["phone_extension"] == ["7008", None]
    assert "gaoyan" in given_up.detail["note"]
    # An active account keeps its extension: still refused, naming it.
    lina = user_id(services, "lina")
    taken = post(client, f"/admin/users/{lina}", display_name="话务员 李娜", role="operator", phone_extension="7008")
    assert taken.status_code == 422 and "gaoyan" in taken.text


def test_the_admin_makes_a_token_for_a_units_system_that_works_until_revoked(client: TestClient,
                                                                              services: Services) -> None:
    login(client, "admin")
    housing = user_id(services, "housing")
    made = post(client, "/admin/tokens", "/admin/tokens", user_id=str(housing), name="住建局业务系统")
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    token = re.search(r'id="token-value">([^<]+)<', made.text).group(1)  # type: ignore[union-attr]
    assert "长期有效" in made.text
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/staff/tickets", headers=bearer).status_code == 200
    listed = client.get("/admin/tokens").text
    assert "住建局业务系统" in listed and token not in listed          # shown once, kept only as a digest
    [created] = activity(services, "token_created")
    assert created.actor == "admin" and created.detail == {"name": "住建局业务系统", "user": "housing"}
    token_id = created.target.split(":")[1]
    revoked = post(client, f"/admin/tokens/{token_id}/revoke", "/admin/tokens")
    assert revoked.status_code == 303 and revoked.headers["location"] == "/admin/tokens?done=token_revoked"
    assert client.get("/api/v1/staff/tickets", headers=bearer).status_code == 401
    assert "已撤销" in client.get("/admin/tokens").text
    assert [a.target for a in activity(services, "token_revoked")] == [f"token:{token_id}"]


def test_bad_tokens_are_explained_in_chinese_and_none_is_made(client: TestClient, services: Services) -> None:
    login(client, "admin")
    housing = str(user_id(services, "housing"))
    for fields, words in (({"user_id": housing, "name": " "}, "请填写令牌用途"),
                          ({"user_id": "", "name": "脚本"}, "请填写账号"),
                          ({"user_id": housing, "name": "脚本", "days": "0"}, "天数应在 1 到 3650 之间"),
                          ({"user_id": housing, "name": "脚本", "days": "三十"}, "天数应为整数"),
                          ({"user_id": "999999", "name": "脚本"}, "没有这个账号")):
        refused = post(client, "/admin/tokens", "/admin/tokens", **fields)
        assert refused.status_code == 422 and words in refused.text, (fields, refused.text[-500:])
        assert 'id="token-value"' not in refused.text
    assert activity(services, "token_created") == []
    assert post(client, "/admin/tokens/999999/revoke", "/admin/tokens").status_code == 404
    made = post(client, "/admin/tokens", "/admin/tokens", user_id=housing, name="报表脚本", days="30")
    assert made.status_code == 200 and "有效期至" in made.text


def test_the_admin_issues_an_open311_key_shown_once_that_files_until_revoked(client: TestClient,
                                                                            services: Services) -> None:
    login(client, "admin")
    assert 'href="/admin/open311"' in client.get("/admin/users").text
    made = post(client, "/admin/open311", page="/admin/open311", name="随手拍小程序")
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    key = re.search(r'id="key-value">([^<]+)<', made.text).group(1)  # type: ignore[union-attr]
    client_id = int(re.search(r'data-client="(\d+)"', made.text).group(1))  # type: ignore[union-attr]
    listed = client.get("/admin/open311").text
    assert "随手拍小程序" in listed and key not in listed          # shown that once only
    service = client.get("/open311/v2/services.json").json()[0]["service_code"]
    request = {"api_key": key, "service_code": service, "description": "天坛路井盖丢了，很危险。",
               "address_string": "天坛路与济水大街交叉口"}
    assert client.post("/open311/v2/requests.json", data=request).status_code == 201
    assert "—" not in re.search(rf'data-client="{client_id}".*?</tr>', client.get("/admin/open311").text,
                                re.S).group(0).split("</td>")[3]   # type: ignore[union-attr]  # last used: now
    revoked = post(client, f"/admin/open311/{client_id}/revoke", page="/admin/open311")
    assert revoked.status_code == 303 and revoked.headers["location"] == "/admin/open311?done=open311_revoked"
    assert "已撤销" in client.get("/admin/open311").text
    assert client.post("/open311/v2/requests.json", data=request).status_code == 403
    created, ended = activity(services, "token_created"), activity(services, "token_revoked")
    assert [(a.actor, a.target, a.detail) for a in created] == [("admin", f"open311:{client_id}", {"name": "随手拍小程序"})]
    assert [(a.actor, a.target) for a in ended] == [("admin", f"open311:{client_id}")]


def test_open311_keys_are_refused_in_chinese_and_kept_to_administrators(client: TestClient) -> None:
    login(client, "admin")
    empty = post(client, "/admin/open311", page="/admin/open311", name="  ")
    assert empty.status_code == 422 and 'id="admin-error"' in empty.text and 'id="made-key"' not in empty.text
    long = post(client, "/admin/open311", page="/admin/open311", name="长" * 101)
    assert long.status_code == 422 and "100" in long.text and 'value="' + "长" * 101 + '"' in long.text
    assert post(client, "/admin/open311/999999/revoke", page="/admin/open311").status_code == 404
    assert client.post("/admin/open311", data={"name": "无令牌"}).status_code == 403    # no CSRF token
    assert "无令牌" not in client.get("/admin/open311").text and 'data-client="' not in client.get("/admin/open311").text
    login(client, "supervisor")
    assert client.get("/admin/open311").status_code == 403
    assert post(client, "/admin/open311", page="/supervisor", name="督办员的").status_code == 403


def test_resetting_a_password_ends_the_old_one_and_its_sessions(client: TestClient, services: Services) -> None:
    login(client, "operator")
    operator_cookie = client.cookies[SESSION_COOKIE]
    login(client, "admin")
    operator = user_id(services, "operator")
    mismatch = post(client, f"/admin/users/{operator}/password", password="new password 1", confirm="other")
    assert mismatch.status_code == 422 and "不一致" in mismatch.text
    response = post(client, f"/admin/users/{operator}/password", password="new password 1", confirm="new password 1")
    assert response.status_code == 303
    with browser_of(client, operator_cookie) as other:
        assert other.get("/operator").status_code == 303
    assert not logs_in(client, "operator", "hotline-demo") and logs_in(client, "operator", "new password 1")
    generated = post(client, f"/admin/users/{operator}/password")
    password = re.search(r"<code>([^<]+)</code>", generated.text).group(1)  # type: ignore[union-attr]
    assert not logs_in(client, "operator", "new password 1") and logs_in(client, "operator", password)
    resets = activity(services, "password_reset")
    assert [(a.target, a.detail) for a in resets] == [("operator", {"generated": False}), ("operator", {"generated": True})]
    everything = services.run_sync(lambda s: [repr((a.actor, a.target, a.detail)) for a in s.scalars(select(StaffActivity))])
    assert not any("new password 1" in row or password in row for row in everything)


def test_an_admin_can_neither_deactivate_nor_demote_themselves_nor_the_last_admin(
        client: TestClient, services: Services) -> None:
    login(client, "admin")
    me = user_id(services, "admin")
    page = client.get(f"/admin/users/{me}")
    assert re.search(r'id="deactivate-form">.*?disabled', page.text, re.S)
    refused = post(client, f"/admin/users/{me}/deactivate")
    assert refused.status_code == 422 and "不能停用自己" in refused.text
    refused = post(client, f"/admin/users/{me}", display_name="管理员", role="supervisor")
    assert refused.status_code == 422 and "自己" in refused.text
    post(client, "/admin/users", username="admin2", role="admin", password="second admin 1")
    login(client, "admin2", "second admin 1")
    assert post(client, f"/admin/users/{me}/deactivate").status_code == 303
    assert services.run_sync(lambda s: s.get(StaffUser, me).active) is False


def test_the_last_active_admin_cannot_be_deactivated_from_the_command_line_either(services: Services) -> None:
    from dispatch import staff_admin
    from dispatch.actors import Actor
    from dispatch.errors import InvalidInput

    admin = user_id(services, "admin")
    with pytest.raises(InvalidInput, match="last_admin"):
        services.run_sync(lambda s: staff_admin.set_active(s, Actor.system("cli"), admin, False))


def test_unit_staff_are_bound_to_a_unit(client: TestClient, services: Services) -> None:
    login(client, "admin")
    operator = user_id(services, "operator")
    refused = post(client, f"/admin/users/{operator}", display_name="王", role="unit_staff", unit="")
    assert refused.status_code == 422 and "必须属于一个单位" in refused.text
    assert post(client, f"/admin/users/{operator}", display_name="王芳", role="unit_staff",
                unit="ecology-environment").status_code == 303
    login(client, "operator")
    inbox = client.get("/unit")
    assert inbox.status_code == 200 and "生态环境局" in inbox.text
    changed = activity(services, "user_changed")[-1]
    assert changed.target == "operator" and changed.detail["role"] == ["operator", "unit_staff"]
    assert changed.detail["unit"] == [None, "ecology-environment"]


def test_a_unit_picked_for_a_role_without_one_is_refused_not_dropped(client: TestClient, services: Services) -> None:
    login(client, "admin")
    refused = post(client, "/admin/users", username="boss", display_name="督办 王", role="supervisor", unit="housing",
                   password="correct horse 1")
    assert refused.status_code == 422
    error = re.search(r'id="admin-error">(.*?)</p>', refused.text, re.S)
    assert error and "只有承办单位人员属于单位，督办员不属于任何单位" in error.group(1), refused.text[:500]
    assert '<option value="housing" selected>' in refused.text.split('id="add-user-form"')[1]   # the form kept
    assert user_id(services, "boss") is None and activity(services, "user_added") == []
    housing = user_id(services, "housing")
    moved = post(client, f"/admin/users/{housing}", display_name="住建 张", role="supervisor", unit="housing")
    assert moved.status_code == 422 and "督办员不属于任何单位" in moved.text
    kept = services.run_sync(lambda s: s.get(StaffUser, housing))
    assert kept.role == "unit_staff" and kept.unit_id == unit(services, "housing").id
    # Left blank, as the form's hint says: the role changes and the unit goes, in the log.
    assert post(client, f"/admin/users/{housing}", display_name="住建 张", role="supervisor", unit="").status_code == 303
    assert services.run_sync(lambda s: s.get(StaffUser, housing).unit_id) is None
    assert activity(services, "user_changed")[-1].detail["unit"] == ["housing", None]


# -- units ----------------------------------------------------------------------------------


def test_the_admin_edits_a_unit_and_a_loop_of_parents_is_refused(client: TestClient, services: Services) -> None:
    login(client, "admin")
    housing, jiyuan = unit(services, "housing"), unit(services, "jiyuan")
    assert "住房和城乡建设局" in client.get("/admin/units").text
    response = post(client, f"/admin/units/{housing.id}", name="住房和城乡建设局（新）", kind="department",
                    parent="jiyuan")
    assert response.status_code == 303
    after = unit(services, "housing")
    assert after.name == "住房和城乡建设局（新）" and after.active is False   # the box was not ticked
    loop = post(client, f"/admin/units/{jiyuan.id}", name=jiyuan.name, kind="other", parent="housing", active="on")
    assert loop.status_code == 422 and "循环" in loop.text
    changed = activity(services, "unit_changed")
    assert [a.target for a in changed] == ["housing"] and changed[0].detail["active"] == [True, False]


def test_a_unit_the_admin_changed_is_listed_as_it_now_is_at_once(client: TestClient, services: Services) -> None:
    login(client, "admin")
    housing = unit(services, "housing")
    option = f'<option value="housing">{housing.name}</option>'
    assert option in client.get("/search").text   # the units are now kept by this process
    response = post(client, f"/admin/units/{housing.id}", name="住房和城乡建设局（新）", kind="department",
                    parent="", active="on")
    assert response.status_code == 303
    page = client.get("/search").text
    assert option not in page and '<option value="housing">住房和城乡建设局（新）</option>' in page
    post(client, f"/admin/units/{housing.id}", name="住房和城乡建设局（新）", kind="department", parent="")
    assert 'value="housing"' not in client.get("/search").text   # deactivated: no longer offered


def test_the_admin_sets_checks_and_clears_a_units_duty_phone(client: TestClient, services: Services) -> None:
    login(client, "admin")
    housing = unit(services, "housing")
    page = client.get(f"/admin/units/{housing.id}")
    assert 'id="duty-phone"' in page.text and "值班电话" in page.text
    saved = post(client, f"/admin/units/{housing.id}", name=housing.name, kind="department", parent="jiyuan",
                 active="on", duty_phone="0391-661 2345")
    assert saved.status_code == 303
    assert unit(services, "housing").duty_phone == "+863916612345"
    assert 'value="03916612345"' in client.get(f"/admin/units/{housing.id}").text
    wrong = post(client, f"/admin/units/{housing.id}", name=housing.name, kind="department", parent="jiyuan",
                 active="on", duty_phone="12345abc")
    assert wrong.status_code == 422 and "值班电话「12345abc」不是有效的号码" in wrong.text
    assert 'value="12345abc"' in wrong.text          # what was typed comes back to be corrected
    assert unit(services, "housing").duty_phone == "+863916612345"
    # A form without the field (an older page) leaves it; a blank one removes it.
    post(client, f"/admin/units/{housing.id}", name=housing.name, kind="department", parent="jiyuan", active="on")
    assert unit(services, "housing").duty_phone == "+863916612345"
    post(client, f"/admin/units/{housing.id}", name=housing.name, kind="department", parent="jiyuan", active="on",
         duty_phone=" ")
    assert unit(services, "housing").duty_phone is None
    changes = [a.detail["duty_phone"] for a in activity(services, "unit_changed") if "duty_phone" in a.detail]
    assert changes == [[None, "+863916612345"], ["+863916612345", None]]


def test_the_admin_adds_a_unit_with_a_form_and_it_takes_work_at_once(client: TestClient, services: Services) -> None:
    from dispatch import catalogue
    from tests.web.pages_support import act, ticket_titled, token_in

    login(client, "admin")
    page = client.get("/admin/units")
    assert 'id="add-unit-form"' in page.text and "新增单位" in page.text
    added = post(client, "/admin/units", page="/admin/units", code="reservoir", name=" 水库管理处 ", kind="department",
                 parent="jiyuan", duty_phone="0391-661 2345")
    assert added.status_code == 303, added.text
    reservoir = unit(services, "reservoir")
    assert added.headers["location"] == f"/admin/units/{reservoir.id}?done=unit_added"
    assert (reservoir.name, reservoir.kind, reservoir.active) == ("水库管理处", "department", True)
    assert reservoir.parent_id == unit(services, "jiyuan").id and reservoir.duty_phone == "+863916612345"
    logged = activity(services, "unit_added")
    assert [(a.actor, a.target) for a in logged] == [("admin", "reservoir")]
    assert logged[0].detail == {"name": "水库管理处", "kind": "department", "parent": "jiyuan",
                                "duty_phone": "+863916612345"}
    assert activity(services, "units_imported") == []      # one unit added, not a file imported
    assert "单位已添加" in client.get(added.headers["location"]).text
    # At once: offered to operators, and a catalogue entry may route to it.
    assert '<option value="reservoir">水库管理处</option>' in client.get("/search").text
    login(client, "operator")
    number = ticket_titled(services, "建议增加公交班次").number
    assert act(client, number, "transfer", unit_code="reservoir").status_code == 303  # type: ignore[attr-defined]
    login(client, "supervisor")
    code = services.run_sync(lambda s: catalogue.find_current(s, "城乡建设/城市建设和市政管理/自来水供应").code)
    entry_page = client.get("/supervisor/catalogue", params={"code": code})
    assert 'value="reservoir"' in entry_page.text
    saved = client.post(f"/supervisor/catalogue/{code}", data={
        "csrf_token": token_in(entry_page.text), "unit": "reservoir", "terms": "停水、自来水、没水"})
    assert saved.status_code == 303
    proposal = services.router.route("我家从昨天开始没水了，自来水一直不来，请尽快处理。")
    assert proposal.entry is not None and (proposal.entry["code"], proposal.entry["unit_code"]) == (code, "reservoir")


def test_a_unit_the_form_cannot_add_is_refused_in_chinese_with_the_form_kept(client: TestClient,
                                                                             services: Services) -> None:
    login(client, "admin")
    housing = unit(services, "housing")
    for fields, words in (
            ({"code": "housing", "name": "房管局"}, f"单位代码 housing 已被「{housing.name}」使用"),
            ({"code": "pond", "name": "  "}, "单位 pond：名称不能为空"),
            ({"code": "pond", "name": housing.name}, f"名称「{housing.name}」已是单位 housing 的名称"),
            ({"code": "水库", "name": "水库"}, "code 应为 1–64 位字母、数字或 _ . -"),
            ({"code": "pond", "name": "池塘", "duty_phone": "12345"}, "值班电话「12345」不是有效的号码。请填写11位手机号"),
            ({"code": "pond", "name": "池塘", "parent": "nowhere"}, "上级单位「nowhere」不存在"),
            ({"code": "pond", "name": "池塘", "kind": "bureau"}, "类型 kind 应为")):
        refused = post(client, "/admin/units", page="/admin/units", **{"kind": "department", **fields})
        assert refused.status_code == 422, fields
        error = re.search(r'id="admin-error">(.*?)</p>', refused.text, re.S)
        assert error and words in html.unescape(error.group(1)), (fields, error and error.group(1))
        kept = refused.text.split('id="add-unit-form"')[1].split("</form>")[0]
        assert f'name="code" required maxlength="64" value="{html.escape(fields["code"])}"' in kept, kept
    assert unit(services, "pond") is None and activity(services, "unit_added") == []
    assert unit(services, "housing").name == housing.name
    forged = client.post("/admin/units", data={"code": "pond", "name": "池塘"})
    assert forged.status_code == 403 and unit(services, "pond") is None
    login(client, "supervisor")
    assert post(client, "/admin/units", page="/supervisor", code="pond", name="池塘").status_code == 403
    assert unit(services, "pond") is None


UNITS = """{"units": [
  {"code": "housing", "name": "住房和城乡建设局（改名）", "kind": "department", "parent": "jiyuan"},
  {"code": "reservoir", "name": "水库管理处", "kind": "department", "parent": "jiyuan"},
  {"code": "reservoir-station", "name": "水文站", "kind": "other", "parent": "reservoir"}
]}"""


def test_an_import_shows_what_would_change_then_applies_it(client: TestClient, services: Services) -> None:
    login(client, "admin")
    preview = post(client, "/admin/units/import", page="/admin/units", text=UNITS)
    assert preview.status_code == 200
    assert re.search(r'id="added-count">2<', preview.text) and re.search(r'id="changed-count">1<', preview.text)
    assert "住房和城乡建设局（改名）" in preview.text and "水文站" in preview.text
    assert unit(services, "reservoir") is None and "改名" not in unit(services, "housing").name   # nothing written yet
    fingerprint = re.search(r'name="fingerprint" value="([^"]+)"', preview.text).group(1)  # type: ignore[union-attr]
    applied = post(client, "/admin/units/import/apply", page="/admin/units", text=UNITS, fingerprint=fingerprint)
    assert applied.status_code == 303
    assert unit(services, "housing").name == "住房和城乡建设局（改名）"
    assert unit(services, "reservoir-station").parent_id == unit(services, "reservoir").id
    imported = activity(services, "units_imported")
    assert len(imported) == 1 and imported[0].detail == {"added": 2, "changed": 1, "unchanged": 0}
    again = post(client, "/admin/units/import", page="/admin/units", text=UNITS)
    assert 'id="nothing-to-do"' in again.text


def test_an_import_planned_before_someone_else_changed_the_units_is_shown_again(client: TestClient,
                                                                                 services: Services) -> None:
    login(client, "admin")
    preview = post(client, "/admin/units/import", page="/admin/units", text=UNITS)
    fingerprint = re.search(r'name="fingerprint" value="([^"]+)"', preview.text).group(1)  # type: ignore[union-attr]
    housing = unit(services, "housing")
    post(client, f"/admin/units/{housing.id}", name="住房和城乡建设局（改名）", kind="department", parent="jiyuan",
         active="on")
    stale = post(client, "/admin/units/import/apply", page="/admin/units", text=UNITS, fingerprint=fingerprint)
    assert stale.status_code == 409 and 'id="import-notice"' in stale.text
    assert unit(services, "reservoir") is None


def test_the_preview_names_a_changed_duty_phone_and_shows_it_as_people_write_it(client: TestClient,
                                                                                   services: Services) -> None:
    def set_phone(session: Session) -> None:
        session.scalar(select(Unit).where(Unit.code == "housing")).duty_phone = "+8657188001234"
    services.run_sync(set_phone)
    login(client, "admin")
    text = json.dumps([{"code": "housing", "name": "济源示范区住房和城乡建设局", "parent": "jiyuan",
                        "duty_phone": "0571 88009999"}], ensure_ascii=False)
    preview = post(client, "/admin/units/import", page="/admin/units", text=text)
    changed = preview.text.split('id="plan-changed"')[1].split("</table>")[0]
    assert "值班电话：057188001234 → <b>057188009999</b>" in changed, changed
    assert "+86" not in changed


def test_an_uploaded_city_file_is_read_like_a_pasted_one(client: TestClient, services: Services) -> None:
    login(client, "admin")
    city = json.loads(DEMO_CITY.read_text(encoding="utf-8"))
    city["units"].append({"code": "new-town", "name": "新镇", "kind": "township", "parent": "jiyuan"})
    body = json.dumps(city, ensure_ascii=False, indent=1).encode("utf-8")
    preview = post(client, "/admin/units/import", page="/admin/units",
                   files={"file": ("jiyuan.json", body, "application/json")})
    assert preview.status_code == 200, preview.text
    assert re.search(r'id="added-count">1<', preview.text) and re.search(r'id="changed-count">0<', preview.text)


def test_bad_units_are_named_by_line_and_unit_in_chinese(client: TestClient, services: Services) -> None:
    login(client, "admin")
    bad = """[
  {"code": "water", "name": "水利局", "kind": "bureau"},
  {"code": "water", "name": "水利局二"},
  {"code": "pond", "name": "", "parent": "lake"},
  {"code": "lake", "name": "湖", "parent": "nowhere"}
]"""
    response = post(client, "/admin/units/import", page="/admin/units", text=bad)
    assert response.status_code == 422
    problems = re.findall(r"<li>(.*?)</li>", response.text.split('id="import-problems"')[1].split("</ul>")[0])
    assert any("第 2 行" in p and "单位 water" in p and "kind" in p and "bureau" in p for p in problems), problems
    assert any("第 3 行" in p and "重复" in p for p in problems), problems
    assert any("第 4 行" in p and "单位 pond" in p and "名称不能为空" in p for p in problems), problems
    assert "bureau" in response.text and unit(services, "water").name == "济源示范区水利局"   # the text stays for fixing
    syntax = post(client, "/admin/units/import", page="/admin/units", text='[\n  {"code": "a",\n  "name" "A"}\n]')
    assert syntax.status_code == 422 and "第 3 行" in syntax.text and "JSON 格式有误" in syntax.text
    parent = post(client, "/admin/units/import", page="/admin/units",
                  text='[{"code": "lake", "name": "湖", "parent": "nowhere"}]')
    assert parent.status_code == 422 and "第 1 行" in parent.text and "nowhere" in parent.text


def test_a_file_that_is_no_json_is_refused_on_the_import_page_in_chinese_alone(client: TestClient,
                                                                               services: Services) -> None:
    login(client, "admin")
    for text, words in (('[\n  {"code": "a",\n  "name" "A"}\n]', "第 3 行第 10 列：JSON 格式有误，这里缺少冒号。这一行是：\"name\" \"A\"}"),
                        ('[{"code": "a", "name": "甲",}]', "第 1 行第 28 列：JSON 格式有误，这里应为加双引号的名称"),
                        ('{"units": [{"code": "a", "name": "甲"}]} }', "JSON 已经结束，后面还有多余的内容")):
        refused = post(client, "/admin/units/import", page="/admin/units", text=text)
        problems = re.findall(r"<li>(.*?)</li>", refused.text.split('id="import-problems"')[1].split("</ul>")[0])
        assert refused.status_code == 422 and len(problems) == 1 and words in html.unescape(problems[0]), problems
        assert "Expecting" not in refused.text and "Extra data" not in refused.text
    upload = post(client, "/admin/units/import", page="/admin/units",
                  files={"file": ("units.json", '[{"code": "a", "name": "甲"}]'.encode("gbk"), "application/json")})
    assert upload.status_code == 422 and "文件 units.json 不是 UTF-8 编码的文本" in html.unescape(upload.text)


# -- the activity log -----------------------------------------------------------------------


def test_the_activity_log_records_logins_rules_exports_and_account_changes(client: TestClient,
                                                                           services: Services) -> None:
    client.post("/login", data={"csrf_token": csrf(client), "username": "supervisor", "password": "wrong one"})
    client.post("/login", data={"csrf_token": csrf(client), "username": "my-secret-pass", "password": "x"})
    login(client, "supervisor")
    token = csrf(client, "/supervisor/rules")
    assert client.post("/supervisor/rules", data={"csrf_token": token, "phrases": "井盖", "unit": "housing"}).status_code == 303
    assert client.get("/supervisor/export/units.csv").status_code == 200
    client.post("/logout", data={"csrf_token": csrf(client, "/supervisor")})
    login(client, "admin")
    post(client, "/admin/users", username="zhao", role="operator", password="long enough 1")

    failed = activity(services, "login_failed")
    assert [(a.actor, a.target) for a in failed] == [("supervisor", "supervisor"), ("?", None)]
    assert failed[0].address == "testclient"
    assert [a.actor for a in activity(services, "login")] == ["supervisor", "admin"]
    assert activity(services, "logout")[0].actor == "supervisor"
    assert activity(services, "rule_added")[0].detail["phrases"] == "井盖"
    assert activity(services, "export")[0].target == "units.csv"
    assert activity(services, "user_added")[0].target == "zhao"
    everything = services.run_sync(lambda s: [repr((a.actor, a.target, a.detail)) for a in s.scalars(select(StaffActivity))])
    assert not any("my-secret-pass" in row or "wrong one" in row or "long enough 1" in row for row in everything)

    page = client.get("/admin/activity?user=supervisor")
    assert page.status_code == 200
    for words in ("登录失败", "添加分派规则", "导出 CSV", "退出"):
        assert words in page.text
    assert "zhao" not in page.text
    only_failed = client.get("/admin/activity?kind=login_failed")
    assert "（未知用户名）" in only_failed.text and "新增账号" not in only_failed.text.split("<tbody>")[1]
    assert client.get("/admin/activity?since=2000-01-01&until=2000-01-02").text.count("暂无") == 1
    assert client.get("/admin/activity?kind=nonsense").status_code == 422


def test_the_activity_log_is_paged_newest_first(client: TestClient, services: Services) -> None:
    from dispatch import staff_activity

    def many(session):  # type: ignore[no-untyped-def]
        for i in range(60):
            staff_activity.record(session, staff_activity.ActivityKind.EXPORT, "supervisor", target=f"t{i}.csv")

    services.run_sync(many)
    login(client, "admin")
    first = client.get("/admin/activity?kind=export")
    assert "共 60 条" in first.text and "t59.csv" in first.text and "t9.csv" not in first.text
    second = client.get(first.text.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&"))
    assert "t9.csv" in second.text and "t59.csv" not in second.text and "第 2 / 2 页" in second.text


def test_the_activity_log_refuses_updates_and_deletes(services: Services) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from dispatch import staff_activity

    services.run_sync(lambda s: staff_activity.record(s, staff_activity.ActivityKind.EXPORT, "supervisor"))
    for statement in ("UPDATE staff_activity SET actor = 'someone else'", "DELETE FROM staff_activity"):
        with pytest.raises(DBAPIError, match="append-only"):
            services.run_sync(lambda s: s.execute(text(statement)))


def test_every_form_on_the_admin_pages_carries_a_csrf_token(client: TestClient, services: Services) -> None:
    login(client, "admin")
    pages = [*ADMIN_PAGES, f"/admin/users/{user_id(services, 'housing')}",
             f"/admin/units/{unit(services, 'housing').id}"]
    html = [client.get(path).text for path in pages]
    html.append(post(client, "/admin/units/import", page="/admin/units", text=UNITS).text)
    forms = [form for page in html for form in re.findall(r'<form method="post".*?</form>', page, re.S)]
    assert len(forms) >= 9
    for form in forms:
        assert 'name="csrf_token"' in form, form[:200]


def test_an_operators_phone_extension_names_them_in_the_supervisors_call_figures(
        client: TestClient, services: Services) -> None:
    from dispatch import telephony
    from dispatch.clock import utcnow

    def answered_call(n: int, agent: str) -> None:
        at = utcnow() - dt.timedelta(minutes=30 - n)
        services.run_sync(lambda s: telephony.record_call(s, telephony.CallData(
            linkedid=f"1700000000.{n}", outcome="answered", caller="13803910071", dialed="12345",
            started_at=at - dt.timedelta(seconds=20), queue="12345", entered_queue_at=at - dt.timedelta(seconds=10),
            agent=agent, answered_at=at, ended_at=at + dt.timedelta(minutes=2), wait_seconds=10.0,
            talk_seconds=120.0)))

    login(client, "admin")
    # Typed as the PBX names the phone, kept as its extension.
    assert post(client, "/admin/users", username="gao", display_name="话务员 高明", role="operator",
                phone_extension="PJSIP/7099", password="correct horse 1").status_code == 303
    assert services.run_sync(lambda s: s.scalar(select(StaffUser.phone_extension)
                                                .where(StaffUser.username == "gao"))) == "7099"
    assert activity(services, "user_added")[-1].detail["phone_extension"] == "7099"
    for n, agent in enumerate(("PJSIP/7001", "PJSIP/7099", "PJSIP/7098")):
        answered_call(n, agent)
    login(client, "supervisor")
    calls = client.get("/supervisor").text
    assert '<td class="k-text">话务员 王芳（PJSIP/7001）</td>' in calls      # the demo's operator sits at 7001
    assert '<td class="k-text">话务员 高明（PJSIP/7099）</td>' in calls
    assert '<td class="k-text">PJSIP/7098</td>' in calls                      # no account has that phone

    # One account a phone; a malformed extension is explained; a blank one clears it.
    login(client, "admin")
    lina = user_id(services, "lina")
    taken = post(client, f"/admin/users/{lina}", display_name="话务员 李娜", role="operator", phone_extension="7099")
    assert taken.status_code == 422 and html.escape("分机号 7099 已属于账号「gao」") in taken.text
    bad = post(client, f"/admin/users/{lina}", display_name="话务员 李娜", role="operator", phone_extension="70 99")
    assert bad.status_code == 422 and "分机号为 1–40 个字符" in bad.text
    gao = user_id(services, "gao")
    assert post(client, f"/admin/users/{gao}", display_name="话务员 高明", role="operator",
                phone_extension="").status_code == 303
    assert activity(services, "user_changed")[-1].detail == {"phone_extension": ["7099", None]}
    answered_call(3, "PJSIP/7099")   # a new call: the figures are read again
    login(client, "supervisor")
    assert '<td class="k-text">PJSIP/7099</td>' in client.get("/supervisor").text


def test_every_kind_of_staff_activity_has_its_chinese_label() -> None:
    """/admin/activity names each kind in Chinese and offers it as a filter: a kind added
    without its label would show as its code."""
    from dispatch.staff_activity import ActivityKind
    from web.pages.labels import ACTIVITY_ZH

    assert {kind.value for kind in ActivityKind} == set(ACTIVITY_ZH)
