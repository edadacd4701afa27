"""The `hotline` command. Options also read their HOTLINE_* variables.

Every command imports what it needs when it runs: `hotline --help` and the quick commands
should not pay for scikit-learn, jieba, the web app or the ORM (four seconds a start
before). tests/web/test_cli_start.py checks what `--help` loads.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from callcenter.cli import pbx_sim
from dispatch.vocabulary import Role
from web.cli_attachments import attachments_group
from web.cli_audit import audit_group, grant_app_role_command
from web.cli_classifier import classifier_group
from web.cli_follow_up import follow_up_group
from web.cli_holidays import holidays_group
from web.cli_open311 import open311_group
from web.cli_kb import kb_group
from web.cli_tokens import tokens_group
from web.cli_users import add_unit_commands, add_user_commands

if TYPE_CHECKING:
    from web.config import Settings

if TYPE_CHECKING:
    from sms_gateway.simulator import ServerThread
    from web.services import Services

log = logging.getLogger("hotline")


def _settings() -> Settings:
    from web.config import Settings

    try:
        return Settings.from_env()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


def _upgrade(settings: Settings) -> None:
    """Apply pending migrations (dispatch.db logs it when some were). A database at the
    newest schema that refuses writes still starts (not ready, see web/health.py); one that
    needs migrating cannot run this code."""
    from dispatch import db
    from dispatch.db import storage_fault
    from web.messages import SCHEMA_NOT_WRITABLE

    try:
        db.upgrade(settings.database_url)
    except Exception as exc:
        fault = storage_fault(exc)
        if fault is None or fault.reason == "unreachable":
            raise  # HotlineGroup words an unreachable database
        raise click.ClickException(SCHEMA_NOT_WRITABLE.format(reason=fault.reason, detail=fault.detail)) from None


class HotlineGroup(click.Group):
    """Turns a database that cannot be reached into one line naming HOTLINE_DATABASE_URL,
    instead of SQLAlchemy's hundred-line traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            message = _unreachable_database(exc) or _refusal(exc)
            if message is None:
                raise
            raise click.ClickException(message) from None


def _refusal(exc: BaseException) -> str | None:
    """The words of a refusal no command worded itself (a broken city file read by a command
    that only wanted its categories), with each mistake of a refused file on stderr first."""
    if "dispatch.errors" not in sys.modules:
        return None
    from dispatch.errors import DispatchError
    from web.messages import describe, problems_of

    if not isinstance(exc, DispatchError):
        return None
    for problem in problems_of(exc):
        click.echo(problem, err=True)
    return describe(exc)


def _unreachable_database(exc: BaseException) -> str | None:
    if "sqlalchemy" not in sys.modules:
        return None
    from sqlalchemy.exc import InterfaceError, OperationalError, ProgrammingError

    from dispatch.database_url import unreachable_message
    from dispatch.db import storage_fault
    from web.messages import NO_SCHEMA

    if not isinstance(exc, (OperationalError, InterfaceError, ProgrammingError)):
        return None
    original = exc.orig
    if getattr(original, "sqlstate", None) == "42P01" or "no such table" in str(original):
        return NO_SCHEMA
    fault = storage_fault(exc)
    if fault is None or fault.reason != "unreachable":
        return None  # read-only or full: the command's own handling says so
    return unreachable_message(_settings().database_url, str(exc.orig))


MAIN_HELP = """12345 citizen hotline: intake, dispatch, call centre.

Settings come from HOTLINE_* environment variables: `hotline settings` lists them
(README.md, "Configuration"). `hotline COMMAND --help` explains a command."""


@click.group(cls=HotlineGroup, help=MAIN_HELP)
@click.pass_context
def main(ctx: click.Context) -> None:
    if ctx.invoked_subcommand == "settings":
        return  # lists the settings even when one of them is wrong
    from web import logs

    settings = _settings()
    logs.configure(settings.log_level, log_format=settings.log_format)


@main.command(name="settings", help="List the HOTLINE_* settings: name, default, meaning; * marks those set.")
def settings_command() -> None:
    import os

    from web.config import SETTINGS

    for spec in SETTINGS:
        names = (spec.name, f"{spec.name}_FILE") if spec.secret else (spec.name,)
        mark = "*" if any(os.environ.get(name, "").strip() for name in names) else " "
        click.echo(f"{mark} {spec.name}  (default: {spec.default or 'unset'})")
        click.echo(f"      {spec.help}")
        if spec.secret:
            click.echo(f"      or {spec.name}_FILE: a file holding it (a docker secret)")


@main.command(help="Run the web app with uvicorn (migrating the database first).")
@click.option("--host", default="127.0.0.1", show_default=True, envvar="HOTLINE_HOST")
@click.option("--port", default=8000, show_default=True, type=int, envvar="HOTLINE_PORT")
@click.option("--demo", is_flag=True, help="load the demo city Jiyuan, demo staff and sample tickets")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1), envvar="HOTLINE_WORKERS",
              help="processes serving requests (PostgreSQL only); one of them runs the PBX bridge, "
                   "the SMS sender and the scheduler")
def serve(host: str, port: int, demo: bool, workers: int) -> None:
    from dispatch import db
    from web import logs, serving
    from web.app import create_app
    from web.services import Services

    settings = _settings()
    if workers > 1:
        _refuse_workers(settings, demo)
    _upgrade(settings)
    _refuse_another_city(settings)
    click.echo(f"Hotline on http://{host}:{port}  (database {db.display_url(settings.database_url)})")
    # proxy_headers off: uvicorn would believe X-Forwarded-For from 127.0.0.1 on its own;
    # web.auth.client_key reads it, from HOTLINE_TRUSTED_PROXIES only.
    options = dict(host=host, port=port, timeout_graceful_shutdown=5, proxy_headers=False,
                   **logs.uvicorn_options(settings.log_level))
    if workers > 1:
        click.echo(f"{workers} worker processes; the PBX bridge, the SMS sender and the scheduler run in "
                   "one of them at a time (GET /readyz names the roles each holds).")
        # Each worker builds its app from HOTLINE_* (web.app.from_environment) and listens on
        # a socket of its own on the port (web.serving.run_workers).
        with _shared_metrics_folder():
            serving.run_workers(workers, **options)  # type: ignore[arg-type]
        return
    if demo and settings.sms is None:
        import os

        aliyun = (os.environ.get("HOTLINE_SMS_PROVIDER") or "").strip().lower() == "aliyun"
        settings = (_with_aliyun_simulator if aliyun else _with_sms_simulator)(settings, host, port)
    services = Services.build(settings)
    if demo:
        _load_demo(services)
    if settings.ami is None and demo:
        click.echo("No HOTLINE_AMI_HOST: the AMI simulator stands in for the PBX; a call arrives every "
                   f"{settings.demo_call_interval_seconds:g} s (HOTLINE_DEMO_CALL_INTERVAL_SECONDS).")
    # Live streams end as shutdown starts (web.serving); other requests get a few seconds.
    serving.run(create_app(settings, services, demo_pbx=demo), **options)


@contextlib.contextmanager
def _shared_metrics_folder() -> Iterator[None]:
    """The folder where the workers keep their Prometheus counters, so that /metrics counts
    all of them whichever answers: PROMETHEUS_MULTIPROC_DIR if set (emptied first, as
    prometheus_client asks), else a temporary one removed at exit. Set before the workers
    start: prometheus_client reads it as it is imported."""
    import glob
    import shutil
    import tempfile

    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    folder = given or tempfile.mkdtemp(prefix="hotline-metrics-")
    for stale in glob.glob(os.path.join(folder, "*.db")):
        os.remove(stale)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    try:
        yield
    finally:
        if not given:
            shutil.rmtree(folder, ignore_errors=True)


def _refuse_another_city(settings: Settings) -> None:
    """Stops the start when the city file cannot be read, or when the database's units come
    from another one (HOTLINE_CITY_FILE unset on a city's database served the demo city)."""
    from dispatch.errors import DispatchError
    from dispatch.units import DEMO_CITY, check_stored_units, load_city
    from web.messages import describe

    city_file = settings.city_file or DEMO_CITY
    engine, sessions = _session_scope(settings)
    try:
        city = load_city(city_file)
        with sessions() as session:
            check_stored_units(session, city, city_file.name)
    except DispatchError as exc:
        raise click.ClickException(_refusal(exc) or describe(exc)) from None
    finally:
        engine.dispose()


def _refuse_workers(settings: Settings, demo: bool) -> None:
    from sqlalchemy.engine import make_url

    from web.messages import DEMO_ONE_WORKER, SQLITE_ONE_WORKER

    if make_url(settings.database_url).get_backend_name() == "sqlite":
        raise click.ClickException(SQLITE_ONE_WORKER)
    if demo:
        raise click.ClickException(DEMO_ONE_WORKER)


def _load_demo(services: Services) -> None:
    """The demo city, its staff, sample tickets and HOTLINE_DEMO_HISTORY_DAYS of history, on
    the first start only: a database that has the demo accounts gets nothing more."""
    import time

    from dispatch.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, seed_knowledge, seed_with_history
    from dispatch.demo_history import HistorySize
    from web.messages import DEMO_LOADED, DEMO_PROGRESS, DEMO_STAGES_ZH

    started = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        line = DEMO_PROGRESS.format(stage=DEMO_STAGES_ZH.get(stage, stage), done=done, total=total)
        click.echo("\r" + line, nl=False, err=True)

    size = HistorySize(days=services.settings.demo_history_days)
    summary = services.run_sync(lambda s: seed_with_history(s, services.city, services.rules, size, progress=progress))
    services.run_sync(seed_knowledge)  # also into a demo database made before the knowledge base
    seconds = time.perf_counter() - started
    if summary is None:
        log.info("demo data already present", extra={"event": "demo"})
    else:
        loaded = DEMO_LOADED.format(tickets=summary.tickets, days=summary.days, events=summary.events,
                                    calls=summary.calls, seconds=seconds)
        click.echo("\r" + loaded, err=True)
        log.info("demo data loaded", extra={"event": "demo", "tickets": summary.tickets, "events": summary.events,
                                            "calls": summary.calls, "seconds": round(seconds, 1)})
    click.echo("Demo accounts (password %s): %s" % (DEMO_PASSWORD, ", ".join(a.username for a in DEMO_ACCOUNTS)))


def _with_sms_simulator(settings: Settings, host: str, port: int) -> Settings:
    """No Twilio settings in a demo: start the stand-in and send through it."""
    import dataclasses

    from sms_gateway.simulator import DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM, TwilioSimulator
    from web.config import Secret, SmsSettings
    from web.messages import SMS_SIM_TRY

    public_url = f"http://{host}:{port}"
    server = _sms_simulator_server(host, port)
    simulator = TwilioSimulator(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, url=server.url,
                                hotline_webhook_url=public_url + "/sms/twilio")
    server.start(simulator.app())  # a daemon thread: it ends with the process
    click.echo(f"No Twilio settings: the SMS simulator stands in on {server.url} "
               f"(text the hotline: {SMS_SIM_TRY.format(url=server.url)}; "
               f"sent texts: {server.url}/sim/messages)")
    return dataclasses.replace(settings, sms=SmsSettings(
        account_sid=DEMO_ACCOUNT_SID, auth_token=Secret(DEMO_AUTH_TOKEN), from_number=DEMO_FROM,
        public_url=public_url, api_base=server.url))


def _with_aliyun_simulator(settings: Settings, host: str, port: int) -> Settings:
    """HOTLINE_SMS_PROVIDER=aliyun without its settings in a demo: start Alibaba's stand-in."""
    import dataclasses

    from sms_gateway import aliyun_simulator as sim
    from web.config import AliyunSettings, Secret, SmsSettings
    from web.messages import SMS_SIM_TRY

    public_url = f"http://{host}:{port}"
    server = _sms_simulator_server(host, port)
    simulator = sim.AliyunSimulator(url=server.url,
                                    report_url=f"{public_url}/sms/aliyun/report?token={sim.DEMO_PUSH_TOKEN}",
                                    up_url=f"{public_url}/sms/aliyun/up?token={sim.DEMO_PUSH_TOKEN}")
    server.start(simulator.app())  # a daemon thread: it ends with the process
    click.echo(f"No Alibaba Cloud settings: the Alibaba Cloud SMS stand-in runs on {server.url} "
               f"(text the hotline: {SMS_SIM_TRY.format(url=server.url)}; sent texts: {server.url}/sim/messages)")
    return dataclasses.replace(settings, sms=SmsSettings(
        account_sid="", auth_token=Secret(""), from_number="", public_url=public_url,
        aliyun=AliyunSettings(access_key_id=sim.DEMO_ACCESS_KEY_ID, access_key_secret=Secret(sim.DEMO_ACCESS_KEY_SECRET),
                              sign_name=sim.DEMO_SIGN_NAME, push_token=Secret(sim.DEMO_PUSH_TOKEN),
                              templates=sim.demo_template_codes(), endpoint=server.url)))


SMS_SIM_PORT = 8020


def _sms_simulator_server(host: str, hotline_port: int) -> ServerThread:
    """The stand-in's socket: HOTLINE_SMS_SIM_PORT when set (a busy one stops the start with
    one line saying so), else 8020, or any free port when 8020 is taken (by the hotline too)."""
    import os

    from sms_gateway.simulator import ServerThread as server_thread
    from web.messages import SMS_SIM_PORT_BUSY, SMS_SIM_PORT_UNUSABLE, sms_sim_port_moved

    wanted = (os.environ.get("HOTLINE_SMS_SIM_PORT") or "").strip()
    if wanted:
        if not wanted.isdigit() or not 0 < int(wanted) < 65536 or int(wanted) == hotline_port:
            raise click.ClickException(SMS_SIM_PORT_UNUSABLE.format(port=wanted, hotline_port=hotline_port))
        try:
            return server_thread(host, int(wanted))
        except OSError as exc:
            raise click.ClickException(SMS_SIM_PORT_BUSY.format(port=wanted, error=exc.strerror)) from None
    if hotline_port != SMS_SIM_PORT:
        try:
            return server_thread(host, SMS_SIM_PORT)
        except OSError:
            pass
    server = server_thread(host, 0)
    log.warning("SMS simulator port %s busy, using %s", SMS_SIM_PORT, server.port,
                extra={"event": "sms_sim_port", "port": server.port})
    click.echo(sms_sim_port_moved(SMS_SIM_PORT, server.port, hotline_own=hotline_port == SMS_SIM_PORT), err=True)
    return server


@main.command(name="sms-sim", help="Run a local stand-in for Twilio's REST API (messages, status "
              "callbacks) and a phone that texts the hotline (POST /sim/inbound From=... Body=...).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8020, show_default=True, type=int, envvar="HOTLINE_SMS_SIM_PORT")
@click.option("--hotline-url", default="http://127.0.0.1:8000", show_default=True,
              help="the hotline's public URL, where simulated texts are posted")
@click.option("--callback-delay", default=0.5, show_default=True, type=float,
              help="seconds between a message's status callbacks")
def sms_sim(host: str, port: int, hotline_url: str, callback_delay: float) -> None:
    import uvicorn

    from sms_gateway.simulator import DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM, TwilioSimulator
    from web.messages import SMS_SIM_TRY

    settings = _settings()
    sid = settings.sms.account_sid if settings.sms else DEMO_ACCOUNT_SID
    token = str(settings.sms.auth_token) if settings.sms else DEMO_AUTH_TOKEN
    simulator = TwilioSimulator(sid, token, callback_delay=callback_delay, url=f"http://{host}:{port}",
                                hotline_webhook_url=hotline_url.rstrip("/") + "/sms/twilio")
    if settings.sms is None:
        click.echo("Start the hotline with:\n"
                   f"  HOTLINE_TWILIO_ACCOUNT_SID={sid} HOTLINE_TWILIO_AUTH_TOKEN={token} "
                   f"HOTLINE_TWILIO_FROM={DEMO_FROM} HOTLINE_PUBLIC_URL={hotline_url} "
                   f"HOTLINE_TWILIO_API_BASE=http://{host}:{port} hotline serve")
    click.echo(f"Twilio stand-in on http://{host}:{port}; text the hotline with "
               + SMS_SIM_TRY.format(url=f"http://{host}:{port}"))
    uvicorn.run(simulator.app(), host=host, port=port, log_level=settings.log_level.lower())


@main.command(name="aliyun-sim", help="Run a local stand-in for Alibaba Cloud SMS (SendSms and QuerySendDetails, "
              "signatures checked; receipts pushed to the hotline) and a phone that texts the hotline "
              "(POST /sim/inbound From=... Body=...).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8021, show_default=True, type=int)
@click.option("--hotline-url", default="http://127.0.0.1:8000", show_default=True,
              help="the hotline's public URL, where receipts and texts are pushed")
@click.option("--report-delay", default=0.5, show_default=True, type=float,
              help="seconds before a message's receipt is pushed")
def aliyun_sim(host: str, port: int, hotline_url: str, report_delay: float) -> None:
    import uvicorn

    from dispatch.notifications import provider_templates
    from sms_gateway import aliyun_simulator as sim
    from web.messages import SMS_SIM_TRY

    settings = _settings()
    ali = settings.sms.aliyun if settings.sms else None
    key_id = ali.access_key_id if ali else sim.DEMO_ACCESS_KEY_ID
    secret = str(ali.access_key_secret) if ali else sim.DEMO_ACCESS_KEY_SECRET
    token = str(ali.push_token) if ali else sim.DEMO_PUSH_TOKEN
    texts = provider_templates()
    templates = ({code: texts[kind] for kind, code in ali.templates.items()} if ali else sim.demo_templates())
    base = hotline_url.rstrip("/")
    simulator = sim.AliyunSimulator(access_key_id=key_id, access_key_secret=secret,
                                    sign_name=ali.sign_name if ali else sim.DEMO_SIGN_NAME, templates=templates,
                                    report_delay=report_delay, url=f"http://{host}:{port}",
                                    report_url=f"{base}/sms/aliyun/report?token={token}",
                                    up_url=f"{base}/sms/aliyun/up?token={token}")
    if ali is None:
        codes = ",".join(f"{kind}={code}" for kind, code in sim.demo_template_codes().items())
        click.echo("Start the hotline with:\n"
                   f"  HOTLINE_SMS_PROVIDER=aliyun HOTLINE_ALIYUN_ACCESS_KEY_ID={key_id} "
                   f"HOTLINE_ALIYUN_ACCESS_KEY_SECRET={secret} HOTLINE_ALIYUN_SIGN_NAME={sim.DEMO_SIGN_NAME} "
                   f"HOTLINE_ALIYUN_PUSH_TOKEN={token} HOTLINE_ALIYUN_TEMPLATES={codes} "
                   f"HOTLINE_ALIYUN_ENDPOINT=http://{host}:{port} hotline serve")
    click.echo(f"Alibaba Cloud SMS stand-in on http://{host}:{port}; text the hotline with "
               + SMS_SIM_TRY.format(url=f"http://{host}:{port}"))
    uvicorn.run(simulator.app(), host=host, port=port, log_level=settings.log_level.lower())


@main.group(name="db", help="Database schema.")
def db_group() -> None:
    pass


@db_group.command(help="Apply every pending migration.")
def upgrade() -> None:
    from dispatch import db

    settings = _settings()
    _upgrade(settings)
    click.echo(f"database at the newest schema: {db.display_url(settings.database_url)}")


@db_group.command(name="rebuild-figures", help="Recompute the running totals behind the figures "
                  "from the tickets (after a bulk import, or to check them).")
def rebuild_figures() -> None:
    from dispatch import reports, rollup

    settings = _settings()
    engine, sessions = _session_scope(settings)
    try:
        with sessions.begin() as session:
            rollup.rebuild(session)
            problems = reports.recount_from_events(session)
    finally:
        engine.dispose()
    click.echo("figures rebuilt from the tickets")
    for problem in problems:
        click.echo(f"  event log disagrees: {problem}", err=True)


def _session_scope(settings: Settings):  # type: ignore[no-untyped-def]
    from dispatch import db

    engine = db.make_engine(settings.database_url)
    return engine, db.make_sessionmaker(engine)


@main.group(help="Staff accounts.")
def users() -> None:
    pass


@users.command(name="add", help="Add a staff account; the password is asked for unless given.")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--unit", "unit_code", help="unit code (for unit staff)")
@click.option("--name", "display_name", default="", help="name shown in the consoles")
@click.option("--extension", "phone_extension", default=None,
              help="the phone an operator answers at (7001, or PJSIP/7001): call figures show the name")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              envvar="HOTLINE_NEW_PASSWORD", help="or HOTLINE_NEW_PASSWORD")
def users_add(username: str, role: str, unit_code: str | None, display_name: str, phone_extension: str | None,
              password: str) -> None:
    from dispatch import staff_admin
    from dispatch.staff import check_password_strength
    from web.cli_db import cli_actor, database_session

    with database_session(_settings, write=True) as session:
        # The command line names the password: an empty one is refused, never generated unseen.
        check_password_strength(password, username)
        # Through the pages' rules (a unit only for unit staff, ...), so the account is in the
        # activity log (user_added, as cli).
        user, _ = staff_admin.add_user(session, cli_actor(), username, Role(role), display_name=display_name,
                                       unit_code=unit_code, password=password, phone_extension=phone_extension)
        click.echo(f"added {user.username} ({role})")


@users.command(name="passwd", help="Set a new password for a staff account; its sessions end.")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              envvar="HOTLINE_NEW_PASSWORD", help="or HOTLINE_NEW_PASSWORD")
def users_passwd(username: str, password: str) -> None:
    from dispatch import staff_admin
    from web.cli_db import cli_actor
    from web.cli_users import user_id_of

    _change_user(lambda session: staff_admin.reset_password(session, cli_actor(), user_id_of(session, username),
                                                            password),
                 f"password of {username} changed; its sessions and API tokens ended")


@users.command(name="deactivate", help="Stop a staff account from logging in; its sessions end.")
@click.argument("username")
def users_deactivate(username: str) -> None:
    from dispatch import staff_admin
    from web.cli_db import cli_actor
    from web.cli_users import user_id_of

    # Through the pages' rule: the last active admin stays, and the activity log records it.
    _change_user(lambda session: staff_admin.set_active(session, cli_actor(), user_id_of(session, username), False),
                 f"{username} deactivated; its sessions and API tokens ended")


def _change_user(change, done: str) -> None:  # type: ignore[no-untyped-def]
    from web.cli_db import database_session

    with database_session(_settings, write=True) as session:
        change(session)
    click.echo(done)


@main.group(help="Responsible units.")
def units() -> None:
    pass


@units.command(name="import", help="Add or update units from a city file (JSON).")
@click.argument("city_file", type=click.Path(path_type=Path))   # a missing file is refused in Chinese
def units_import(city_file: Path) -> None:
    from dispatch import catalogue
    from dispatch.errors import DispatchError
    from dispatch.unit_admin import UnitImportError
    from dispatch.units import import_city_units, load_city
    from web.cli_db import cli_actor, database_session
    from web.messages import LEVEL1_WITHOUT_UNIT, UNITS_NOT_IMPORTED, describe, problems_of

    try:   # all of it checked before the database is touched
        city = load_city(city_file)
    except DispatchError as exc:
        problems = problems_of(exc) or [describe(exc)]
        for problem in problems:
            click.echo(problem, err=True)
        raise click.ClickException(UNITS_NOT_IMPORTED.format(file=city_file.name, count=len(problems))) from None
    with database_session(_settings, write=True) as session:
        try:
            plan = import_city_units(session, cli_actor(), city)
        except UnitImportError as exc:   # against the units already stored: a name another unit keeps
            for problem in problems_of(exc):
                click.echo(problem, err=True)
            raise click.ClickException(UNITS_NOT_IMPORTED.format(file=city_file.name,
                                                                 count=len(exc.problems))) from None
        seeded = catalogue.seed(session, city)
    click.echo(f"{city.name}: {len(plan.added)} units added, {len(plan.changed)} updated, "
               f"{len(city.units)} in the file")
    for level1, count in (city.catalogue.without_unit() if city.catalogue else {}).items():
        click.echo(LEVEL1_WITHOUT_UNIT.format(level1=level1, count=count), err=True)
    if seeded:
        click.echo(f"dispatch catalogue: {len(city.catalogue.entries)} entries seeded")


def _parse_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected YYYY-MM-DD, got {value!r}") from None


@main.command(help="Print the figures of a period (tickets received in it, as of now).")
@click.option("--since", callback=_parse_date, help="first day, YYYY-MM-DD (default: 30 days ago)")
@click.option("--until", callback=_parse_date, help="last day, YYYY-MM-DD (default: today)")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def report(since: dt.date | None, until: dt.date | None, as_json: bool) -> None:
    import json

    from dispatch import reports
    from dispatch.clock import local_date, utcnow
    from web.cli_report import print_report

    settings = _settings()
    until = until or local_date(utcnow())
    since = since or until - dt.timedelta(days=29)
    if since > until:
        raise click.BadParameter("--since is after --until")
    period = reports.Period(since, until)
    engine, sessions = _session_scope(settings)
    try:
        with sessions() as session:
            figures = reports.summary(session, period, calls=reports.CallPolicy(
                service_level_seconds=settings.service_level_seconds,
                short_abandon_seconds=settings.short_abandon_seconds))
    finally:
        engine.dispose()
    if as_json:
        click.echo(json.dumps(figures, ensure_ascii=False, indent=2))
        return
    print_report(figures)


@main.command(name="pbx-bridge", help="Run the AMI bridge alone (HOTLINE_AMI_* settings), "
              "recording every call and agent change in the database; on PostgreSQL it waits for "
              "the bridge's role while another process holds it.")
def pbx_bridge() -> None:
    import asyncio

    from callcenter.cli import until_signalled
    from web.leadership import PBX_BRIDGE, Leadership
    from web.live import LiveHub
    from web.relay import relaying
    from web.services import Services
    from web.telephony import answering_bridge

    settings = _settings()
    if settings.ami is None:
        raise click.ClickException("set HOTLINE_AMI_HOST, HOTLINE_AMI_USERNAME and HOTLINE_AMI_SECRET")
    _upgrade(settings)
    services = Services.build(settings)

    async def run() -> None:
        # Elected like the bridge inside `hotline serve`: the two never both record calls.
        # Its screen-pops and the call buttons' requests cross to the web processes by the relay.
        hub = LiveHub()
        async with relaying(services.engine, hub) as relay, Leadership(services.engine).role(
                PBX_BRIDGE, lambda: answering_bridge(services, hub, relay, demo_pbx=False)):
            await until_signalled()

    try:
        asyncio.run(run())
    finally:
        services.close()


# Commands kept in modules of their own, one line each. A module imports only click at its
# top and the rest inside its commands, so that `hotline --help` stays quick.
main.add_command(pbx_sim)
main.add_command(audit_group(_settings))
db_group.add_command(grant_app_role_command(_settings))
main.add_command(classifier_group(_settings))
main.add_command(follow_up_group(_settings))
main.add_command(attachments_group(_settings))
main.add_command(tokens_group(_settings))
main.add_command(open311_group(_settings))
add_user_commands(users, _settings)
add_unit_commands(units, _settings)
main.add_command(holidays_group(_settings))
main.add_command(kb_group(_settings))


if __name__ == "__main__":
    sys.exit(main())
