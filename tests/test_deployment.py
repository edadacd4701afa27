"""docker/compose.yaml and what it mounts, checked by reading and by running what can run here.

No Docker engine runs on the development machines, so the compose file is read as YAML and
interpolated as compose does (with the values of docker/env.example, which a city copies);
the Asterisk entrypoint, the secrets script and the hotline's own settings run for real on
the files compose would mount; `caddy` and `docker compose` / `docker-compose` check their
files when they are installed (skipped, with the reason, when not).
"""
from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from sqlalchemy import Engine

from dispatch.units import load_city
from web.config import SECRET_SETTINGS, Settings

DOCKER = Path(__file__).resolve().parent.parent / "docker"
COMPOSE = DOCKER / "compose.yaml"
LONG_RUNNING = ("db", "asterisk", "hotline", "proxy")
ONE_SHOT = "migrate"


# --- compose's own reading of the file ---------------------------------------------------

def env_example() -> dict[str, str]:
    values = {}
    for line in (DOCKER / "env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


_VARIABLE = re.compile(r"\$(?:\$|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\})")


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error} and $$."""
    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op"), match.group("arg")
        value = env.get(name)
        if op == ":-":
            return value if value else arg
        if op == "-":
            return arg if value is None else value
        if op == ":?":
            if not value:
                raise KeyError(f"{name}: {arg}")
            return value
        return value or ""
    return _VARIABLE.sub(one, text)


def load_compose(env: dict[str, str] | None = None) -> dict[str, Any]:
    """The file as compose sees it: YAML (anchors and merge keys resolved) then interpolated."""
    values = env_example() if env is None else env

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: walk(value) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(value) for value in node]
        return interpolate(node, values) if isinstance(node, str) else node
    return walk(yaml.safe_load(COMPOSE.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


def service_env(compose: dict[str, Any], name: str) -> dict[str, str]:
    environment = compose["services"][name].get("environment", {})
    assert isinstance(environment, dict), f"{name}: environment as a mapping"
    return {key: "" if value is None else str(value) for key, value in environment.items()}


def networks_of(compose: dict[str, Any], name: str) -> set[str]:
    networks = compose["services"][name].get("networks", [])
    return set(networks) if isinstance(networks, list) else set(networks)


def subnet(compose: dict[str, Any], network: str) -> ipaddress.IPv4Network:
    (config,) = compose["networks"][network]["ipam"]["config"]
    return ipaddress.ip_network(config["subnet"])


# --- the files compose mounts, made real ---------------------------------------------------

def make_secrets(tmp_path: Path) -> Path:
    """docker/make-secrets.sh run on a copy of docker/: the secrets a city would have."""
    copy = tmp_path / "docker"
    copy.mkdir()
    shutil.copy(DOCKER / "make-secrets.sh", copy)
    result = subprocess.run(["sh", str(copy / "make-secrets.sh")], capture_output=True, text=True,
                            timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    return copy / "secrets"


def run_entrypoint(tmp_path: Path, secrets: Path, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    target = tmp_path / "etc-asterisk"
    env = {"PATH": os.environ["PATH"], **environment, "HOTLINE_ASTERISK_TEMPLATES": str(DOCKER / "asterisk"),
           "ASTERISK_CONFIG_DIR": str(target), "SECRETS_DIR": str(secrets)}
    return subprocess.run(["sh", str(DOCKER / "asterisk" / "entrypoint.sh"), "echo", "asterisk would start"],
                          env=env, capture_output=True, text=True, timeout=30, check=False)


def asterisk_option(text: str, section: str, option: str) -> list[str]:
    """Values of `option = value` in [section] of an Asterisk file (comments dropped)."""
    values, current = [], None
    for raw in text.splitlines():
        line = raw.split(";", 1)[0].strip()
        if line.startswith("["):
            current = line[1:line.index("]")]
        elif current == section and "=" in line:
            key, _, value = line.partition("=")
            if key.strip() == option:
                values.append(value.strip().lstrip(">").strip())
    return values


def on_this_machine(environment: dict[str, str], secrets: Path) -> dict[str, str]:
    """A service's environment with /run/secrets/ pointed at the secrets made here."""
    return {key: value.replace("/run/secrets", str(secrets)) for key, value in environment.items()}


# --- the services ---------------------------------------------------------------------------

def test_the_services_are_the_proxy_the_web_the_migration_the_database_and_the_pbx(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {*LONG_RUNNING, ONE_SHOT}


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_every_long_running_service_has_a_health_check_and_restarts(compose: dict[str, Any], name: str) -> None:
    service = compose["services"][name]
    check = service["healthcheck"]
    assert not check.get("disable") and check["test"][0] in ("CMD", "CMD-SHELL") and len(check["test"]) > 1
    assert service["restart"] == "unless-stopped"


def test_the_health_checks_ask_what_each_service_is_for(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["db"]["healthcheck"]["test"][1].startswith("pg_isready -U hotline -d hotline")
    assert services["asterisk"]["healthcheck"]["test"][1:] == ["asterisk", "-rx", "core show uptime"]
    web = services["hotline"]["healthcheck"]["test"]
    # The app image has python but maybe no curl.
    assert web[1:3] == ["python", "-c"] and "http://127.0.0.1:8000/healthz" in web[3]
    proxy = services["proxy"]["healthcheck"]["test"]
    assert proxy[1] == "wget" and proxy[-1] == "http://127.0.0.1:8081/healthz"


def test_the_web_health_check_is_valid_python_that_fails_without_a_server() -> None:
    test = load_compose()["services"]["hotline"]["healthcheck"]["test"]
    code = test[3].replace("127.0.0.1:8000", "127.0.0.1:9")  # the discard port: nothing listens
    result = subprocess.run(["python3", "-c", code], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode != 0 and "Connection refused" in result.stderr


def test_the_web_health_check_passes_against_a_real_hotline_serve(tmp_path: Path) -> None:
    test = load_compose()["services"]["hotline"]["healthcheck"]["test"]
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(HOTLINE_DATABASE_URL=f"sqlite:///{tmp_path / 'hotline.db'}", HOTLINE_TRAIN_ON_START="no",
               HOTLINE_MODEL_DIR=str(tmp_path / "models"))
    server = subprocess.Popen([str(Path(sys.executable).parent / "hotline"), "serve", "--port", str(port)],
                              cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        code = test[3].replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        deadline = time.monotonic() + 60
        while True:
            check = subprocess.run(["python3", "-c", code], capture_output=True, text=True, timeout=30, check=False)
            if check.returncode == 0 or time.monotonic() > deadline or server.poll() is not None:
                break
            time.sleep(0.5)
        assert check.returncode == 0, check.stderr
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_schema_is_migrated_by_a_one_shot_service_before_the_web_and_the_pbx_start(compose: dict[str, Any]) -> None:
    services = compose["services"]
    migrate = services[ONE_SHOT]
    assert migrate["restart"] == "no" and migrate["healthcheck"] == {"disable": True}
    assert migrate["depends_on"]["db"] == {"condition": "service_healthy"}
    steps = [step.strip() for step in migrate["command"][-1].split("&&")]
    assert migrate["command"][:2] == ["sh", "-c"]
    assert steps == ["hotline db upgrade",
                     "hotline db grant-app-role hotline_app --login-password-file /run/secrets/db_app_password",
                     'hotline units import "$HOTLINE_CITY_FILE"']
    for name in ("hotline", "asterisk"):  # asterisk writes into the queue_log table the migrations make
        assert services[name]["depends_on"][ONE_SHOT] == {"condition": "service_completed_successfully"}
    assert services["hotline"]["depends_on"]["db"] == {"condition": "service_healthy"}
    assert services["migrate"]["image"] == services["hotline"]["image"]
    assert services["migrate"]["build"] == services["hotline"]["build"]


def test_only_the_proxy_faces_the_internet_and_the_hotline_believes_only_it(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert "ports" not in services["hotline"] and "ports" not in services["db"] and "ports" not in services["migrate"]
    assert set(services["proxy"]["ports"]) == {"80:80", "443:443", "443:443/udp"}
    assert services["proxy"]["depends_on"]["hotline"] == {"condition": "service_healthy"}
    proxy_address = ipaddress.ip_address(services["proxy"]["networks"]["frontend"]["ipv4_address"])
    assert proxy_address in subnet(compose, "frontend")
    web = service_env(compose, "hotline")
    assert ipaddress.ip_network(web["HOTLINE_TRUSTED_PROXIES"]) == ipaddress.ip_network(f"{proxy_address}/32")
    assert web["HOTLINE_PUBLIC_URL"] == "https://" + service_env(compose, "proxy")["HOTLINE_DOMAIN"]
    assert networks_of(compose, "hotline") & set(services["proxy"]["networks"]) == {"frontend"}
    caddyfile = (DOCKER / "caddy" / "Caddyfile").read_text(encoding="utf-8")
    assert re.search(r"reverse_proxy \{\s*dynamic a hotline 8000 ", caddyfile)
    assert services["proxy"]["image"].startswith("caddy:")


def test_the_database_and_ami_are_on_an_internal_network(compose: dict[str, Any]) -> None:
    assert compose["networks"]["internal"]["internal"] is True
    assert networks_of(compose, "db") == {"internal"}
    assert "internal" in networks_of(compose, "asterisk") and "internal" in networks_of(compose, "hotline")
    # The hotline reaches Asterisk only through `internal`: AMI connections come from its subnet.
    assert networks_of(compose, "hotline") & networks_of(compose, "asterisk") == {"internal"}


def test_the_declared_subnets_do_not_overlap(compose: dict[str, Any]) -> None:
    nets = [subnet(compose, name) for name in compose["networks"]]
    assert len(nets) == 3
    assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1:])


def test_one_replica_until_the_bridge_runs_alone(compose: dict[str, Any]) -> None:
    # Each `hotline serve` runs an AMI bridge: two would record every call twice.
    assert compose["services"]["hotline"]["deploy"]["replicas"] == 1


# --- volumes and the city file ---------------------------------------------------------------

def volume_map(compose: dict[str, Any], name: str) -> dict[str, str]:
    return {entry.split(":")[1]: entry for entry in compose["services"][name].get("volumes", [])}


def test_the_city_file_is_mounted_where_the_hotline_and_the_migration_read_it(compose: dict[str, Any]) -> None:
    for name in ("hotline", ONE_SHOT):
        city = Path(service_env(compose, name)["HOTLINE_CITY_FILE"])
        mount = volume_map(compose, name)[str(city.parent)]
        assert mount == f"./city:{city.parent}:ro"
        sample = DOCKER / "city" / city.name
        assert load_city(sample).units  # the sample is a city file the hotline can load


def test_the_hotline_keeps_its_models_and_spool_and_reads_the_pbx_logs(compose: dict[str, Any]) -> None:
    web, pbx = volume_map(compose, "hotline"), volume_map(compose, "asterisk")
    env = service_env(compose, "hotline")
    assert web[env["HOTLINE_MODEL_DIR"]] == f"models:{env['HOTLINE_MODEL_DIR']}"
    assert web[str(Path(env["HOTLINE_SMS_SPOOL"]).parent)].startswith("spool:")
    assert web["/var/log/asterisk"] == "asterisk-logs:/var/log/asterisk:ro"
    assert pbx["/var/log/asterisk"] == "asterisk-logs:/var/log/asterisk"
    assert volume_map(compose, "db")["/var/lib/postgresql/data"].startswith("pgdata:")
    for volume in ("pgdata", "models", "spool", "asterisk-logs", "caddy-data"):
        assert volume in compose["volumes"]


def test_queue_log_goes_to_the_table_the_hotline_reads_with_the_file_as_fallback(compose: dict[str, Any]) -> None:
    from dispatch.models import QueueLogRow

    assert service_env(compose, "hotline")["HOTLINE_QUEUE_LOG"] == "table"
    extconfig = (DOCKER / "asterisk" / "extconfig.conf").read_text(encoding="utf-8")
    assert asterisk_option(extconfig, "settings", "queue_log") == [f"pgsql,general,{QueueLogRow.__tablename__}"]
    columns = set(QueueLogRow.__table__.columns.keys())
    assert {"time", "callid", "queuename", "agent", "event", "data1", "data5"} <= columns
    logger = (DOCKER / "asterisk" / "logger.conf").read_text(encoding="utf-8")
    for option in ("queue_log", "queue_log_to_file", "queue_log_realtime_use_gmt"):
        assert asterisk_option(logger, "general", option) == ["yes"]
    pgsql = (DOCKER / "asterisk" / "res_config_pgsql.conf").read_text(encoding="utf-8")
    assert asterisk_option(pgsql, "general", "dbhost") == ["db"]
    assert asterisk_option(pgsql, "general", "dbname") == [service_env(compose, "db")["POSTGRES_DB"]]


# --- Asterisk: RTP, NAT, AMI ------------------------------------------------------------------

def test_the_published_rtp_range_is_exactly_rtp_conf(compose: dict[str, Any]) -> None:
    rtp = (DOCKER / "asterisk" / "rtp.conf").read_text(encoding="utf-8")
    start, end = (int(asterisk_option(rtp, "general", key)[0]) for key in ("rtpstart", "rtpend"))
    published = []
    for entry in compose["services"]["asterisk"]["ports"]:
        host, _, container = entry.partition(":")
        if container.endswith("/udp") and "-" in host:
            published.append((host, container.removesuffix("/udp")))
    assert published == [(f"{start}-{end}", f"{start}-{end}")]
    assert end - start + 1 >= 1000  # about 250 calls at four ports each
    assert "5060:5060/udp" in compose["services"]["asterisk"]["ports"]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Asterisk's folder as the entrypoint fills it, from compose's environment and secrets."""
    tmp_path = tmp_path_factory.mktemp("asterisk")
    secrets = make_secrets(tmp_path)
    result = run_entrypoint(tmp_path, secrets, service_env(load_compose(), "asterisk"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "asterisk would start"  # the command runs after the files
    return tmp_path / "etc-asterisk", secrets


def test_ami_permits_exactly_the_internal_subnet(compose: dict[str, Any], rendered: tuple[Path, Path]) -> None:
    manager = (rendered[0] / "manager.conf").read_text(encoding="utf-8")
    assert asterisk_option(manager, "hotline", "deny") == ["0.0.0.0/0.0.0.0"]
    (permit,) = asterisk_option(manager, "hotline", "permit")
    assert subnet(compose, "internal").subnet_of(ipaddress.ip_network(permit))
    assert ipaddress.ip_network(permit) == subnet(compose, "internal")  # nothing wider


def test_pjsip_gives_the_host_address_behind_nat_except_inside_compose(compose: dict[str, Any],
                                                                       rendered: tuple[Path, Path]) -> None:
    pjsip = (rendered[0] / "pjsip.conf").read_text(encoding="utf-8")
    external = env_example()["HOTLINE_SIP_EXTERNAL_ADDRESS"]
    assert asterisk_option(pjsip, "transport-udp", "external_media_address") == [external]
    assert asterisk_option(pjsip, "transport-udp", "external_signaling_address") == [external]
    local = {ipaddress.ip_network(net) for net in asterisk_option(pjsip, "transport-udp", "local_net")}
    assert local == {subnet(compose, "internal"), subnet(compose, "voice")}


def test_one_password_file_each_reaches_postgres_the_hotline_and_asterisk(tmp_path: Path,
                                                                         rendered: tuple[Path, Path]) -> None:
    from sqlalchemy.engine import make_url

    etc, secrets = rendered
    compose = load_compose()
    owner = (secrets / "db_password").read_text(encoding="utf-8").strip()
    password = (secrets / "db_app_password").read_text(encoding="utf-8").strip()
    ami_secret = (secrets / "ami_secret").read_text(encoding="utf-8").strip()
    assert owner != password
    assert service_env(compose, "db")["POSTGRES_PASSWORD_FILE"] == "/run/secrets/db_password"
    migration = Settings.from_env(on_this_machine(service_env(compose, ONE_SHOT), secrets))
    assert make_url(migration.database_url).username == service_env(compose, "db")["POSTGRES_USER"]
    assert make_url(migration.database_url).password == owner
    # The web and the PBX use the runtime role the migration makes; neither can read the owner's.
    assert "db_password" not in compose["services"]["hotline"]["secrets"]
    assert "db_password" not in compose["services"]["asterisk"]["secrets"]
    settings = Settings.from_env(on_this_machine(service_env(compose, "hotline"), secrets))
    assert make_url(settings.database_url).username == "hotline_app"
    assert make_url(settings.database_url).password == password
    assert settings.ami is not None and settings.ami.secret == ami_secret
    assert settings.secret_key == (secrets / "secret_key").read_text(encoding="utf-8").strip()
    pgsql = (etc / "res_config_pgsql.conf").read_text(encoding="utf-8")
    assert asterisk_option(pgsql, "general", "dbpass") == [password]
    assert asterisk_option(pgsql, "general", "dbuser") == ["hotline_app"]
    manager = (etc / "manager.conf").read_text(encoding="utf-8")
    assert asterisk_option(manager, "hotline", "secret") == [ami_secret]
    assert settings.ami.username == "hotline" and "[hotline]" in manager
    phones = dict(line.split("=", 1) for line in (secrets / "sip_passwords").read_text().split())
    pjsip = (etc / "pjsip.conf").read_text(encoding="utf-8")
    for extension, phone_password in phones.items():
        assert f"password = {phone_password}" in pjsip and f"username = {extension}" in pjsip
    for name in ("manager.conf", "res_config_pgsql.conf", "pjsip.conf"):
        assert (etc / name).stat().st_mode & 0o777 == 0o640
    assert not re.search(r"@[A-Z_]+@", "".join(p.read_text() for p in etc.glob("*.conf")))


def test_the_entrypoint_refuses_what_would_break_asterisk_files(tmp_path: Path) -> None:
    secrets = make_secrets(tmp_path)
    env = service_env(load_compose(), "asterisk")
    (secrets / "ami_secret").write_text("has;semicolon|and-more-than-16\n")
    refused = run_entrypoint(tmp_path, secrets, env)
    assert refused.returncode == 1 and "secret ami_secret may hold only" in refused.stderr
    (secrets / "ami_secret").write_text("short\n")
    assert "shorter than 16" in run_entrypoint(tmp_path, secrets, env).stderr
    (secrets / "ami_secret").write_text("long-enough-secret-0123\n")
    no_address = run_entrypoint(tmp_path, secrets, {**env, "SIP_EXTERNAL_ADDRESS": ""})
    assert no_address.returncode == 1 and "SIP_EXTERNAL_ADDRESS must be an IPv4 address" in no_address.stderr
    assert "asterisk would start" not in no_address.stdout
    (secrets / "db_app_password").unlink()
    missing = run_entrypoint(tmp_path, secrets, env)
    assert missing.returncode == 1 and "secret db_app_password missing" in missing.stderr


def test_asterisk_needs_the_host_address_from_the_city(compose: dict[str, Any]) -> None:
    env = {k: v for k, v in env_example().items() if k != "HOTLINE_SIP_EXTERNAL_ADDRESS"}
    with pytest.raises(KeyError, match="HOTLINE_SIP_EXTERNAL_ADDRESS"):
        load_compose(env)


# --- secrets and SMS --------------------------------------------------------------------------

def test_no_password_is_written_in_the_compose_file(compose: dict[str, Any]) -> None:
    from sqlalchemy.engine import make_url

    secret_words = re.compile(r"PASSWORD|SECRET|TOKEN|_KEY", re.IGNORECASE)
    declared = set(compose["secrets"])
    for name, service in compose["services"].items():
        mounted = set(service.get("secrets", []))
        assert mounted <= declared, name
        for key, value in service_env(compose, name).items():
            if secret_words.search(key):
                assert key.endswith("_FILE"), f"{name}: {key} holds a secret inline"
                assert value.startswith("/run/secrets/") and value.rsplit("/", 1)[1] in mounted, (name, key)
            if "://" in value and key.endswith("DATABASE_URL"):
                assert make_url(value).password is None, f"{name}: {key} carries a password"
    for secret in compose["secrets"].values():
        assert secret["file"].startswith("./secrets/")  # made by make-secrets.sh, never committed
    ignored = (DOCKER.parent / ".gitignore").read_text(encoding="utf-8").split()
    assert "/docker/secrets/" in ignored and "/docker/.env" in ignored
    for template in (DOCKER / "asterisk").glob("*.conf"):
        assert "change-me" not in template.read_text(encoding="utf-8"), template.name


def test_each_secret_file_variable_names_a_setting_the_hotline_reads_from_files(compose: dict[str, Any]) -> None:
    for name in ("hotline", ONE_SHOT):
        for key, value in service_env(compose, name).items():
            if value.startswith("/run/secrets/"):
                assert key.endswith("_FILE") and key.removesuffix("_FILE") in SECRET_SETTINGS, key


def test_sms_is_off_with_an_empty_token_and_on_when_the_city_fills_it_in(tmp_path: Path) -> None:
    secrets = make_secrets(tmp_path)
    assert (secrets / "twilio_auth_token").read_text().strip() == ""
    off = Settings.from_env(on_this_machine(service_env(load_compose(), "hotline"), secrets))
    assert off.sms is None and off.public_url == "https://hotline.example.gov.cn"
    (secrets / "twilio_auth_token").write_text("0123456789abcdef0123456789abcdef\n")
    env = {**env_example(), "HOTLINE_TWILIO_ACCOUNT_SID": "AC0123", "HOTLINE_TWILIO_FROM": "+15005550006"}
    on = Settings.from_env(on_this_machine(service_env(load_compose(env), "hotline"), secrets))
    assert on.sms is not None and on.sms.auth_token == "0123456789abcdef0123456789abcdef"
    assert on.sms.public_url == "https://hotline.example.gov.cn" and on.sms.from_number == "+15005550006"


def test_make_secrets_keeps_what_exists_and_folds_the_folder_to_root(tmp_path: Path) -> None:
    secrets = make_secrets(tmp_path)
    before = {p.name: p.read_text() for p in secrets.iterdir()}
    assert set(before) == set(load_compose()["secrets"])
    again = subprocess.run(["sh", str(secrets.parent / "make-secrets.sh")], capture_output=True, text=True,
                           timeout=30, check=True)
    assert "kept    secrets/db_password" in again.stdout
    assert {p.name: p.read_text() for p in secrets.iterdir()} == before
    assert secrets.stat().st_mode & 0o777 == 0o700
    assert len(before["db_password"].strip()) == 32 and before["db_password"].strip().isalnum()
    assert before["db_password"] != before["ami_secret"]


# --- the proxy's configuration and compose itself, with the real tools when installed ----------

def caddy_adapt(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    caddy = shutil.which("caddy")
    if caddy is None:
        pytest.skip("caddy is not installed (apt-get install caddy)")
    return subprocess.run([caddy, "adapt", "--config", str(DOCKER / "caddy" / "Caddyfile"), "--adapter", "caddyfile",
                           "--validate"], env={"PATH": os.environ["PATH"], "HOME": str(tmp_path),
                                               "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path),
                                               **env},
                          cwd=DOCKER / "caddy", capture_output=True, text=True, timeout=60, check=False)


def test_the_caddyfile_is_valid_and_proxies_to_the_hotline(tmp_path: Path, compose: dict[str, Any]) -> None:
    result = caddy_adapt(tmp_path, **service_env(compose, "proxy"))
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    servers = config["apps"]["http"]["servers"]
    text = json.dumps(servers)
    assert '"handler": "reverse_proxy"' in text and '"flush_interval": -1' in text
    proxy = re.search(r'"dynamic_upstreams": (\{[^}]*\})', text)
    assert proxy and json.loads(proxy.group(1)) == {"name": "hotline", "port": "8000", "refresh": 5000000000,
                                                    "source": "a"}
    assert "hotline.example.gov.cn" in text
    health = [s for s in servers.values() if s["listen"] == ["127.0.0.1:8081"]]
    assert len(health) == 1 and '"/healthz"' in json.dumps(health)


def test_the_caddyfile_serves_a_citys_own_certificate(tmp_path: Path, compose: dict[str, Any]) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=hotline.example.gov.cn", "-keyout", str(tmp_path / "privkey.pem"),
                    "-out", str(tmp_path / "fullchain.pem")], capture_output=True, timeout=60, check=True)
    env = {**service_env(compose, "proxy"), "HOTLINE_TLS": "files", "HOTLINE_TLS_DIR": str(tmp_path)}
    result = caddy_adapt(tmp_path, **env)
    assert result.returncode == 0, result.stderr
    assert str(tmp_path / "fullchain.pem") in result.stdout
    missing = caddy_adapt(tmp_path, **{**env, "HOTLINE_TLS_DIR": str(tmp_path / "none")})
    assert missing.returncode != 0 and "fullchain.pem" in missing.stderr


def test_compose_itself_accepts_the_file(tmp_path: Path) -> None:
    """`docker compose config` (v2) or, without the plugin, `docker-compose config` (1.29,
    which predates the top-level `name:` and so reads the file without that line)."""
    copy = tmp_path / "docker"
    shutil.copytree(DOCKER, copy)
    shutil.copy(DOCKER / "env.example", copy / ".env")
    subprocess.run(["sh", str(copy / "make-secrets.sh")], capture_output=True, timeout=30, check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "COMPOSE_"))}
    v2 = shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True,
                                                   timeout=30, check=False).returncode == 0
    if v2:
        command = ["docker", "compose", "-f", str(copy / "compose.yaml"), "config", "--format", "json"]
    elif shutil.which("docker-compose"):
        text = (copy / "compose.yaml").read_text(encoding="utf-8")
        (copy / "compose.yaml").write_text(re.sub(r"(?m)^name: .*$", "", text), encoding="utf-8")
        command = ["docker-compose", "-f", str(copy / "compose.yaml"), "config"]
    else:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed")
    result = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    resolved = json.loads(result.stdout) if v2 else yaml.safe_load(result.stdout)
    ours = load_compose()
    for name in ours["services"]:
        service = resolved["services"][name]
        assert service.get("healthcheck") is not None, name
        expected = service_env(ours, name)
        assert {k: str(v) for k, v in (service.get("environment") or {}).items() if k in expected} == expected
    assert resolved["networks"]["internal"]["ipam"]["config"][0]["subnet"] == str(subnet(ours, "internal"))


def test_the_image_serves_on_the_port_the_checks_and_the_proxy_use() -> None:
    dockerfile = (DOCKER / "Dockerfile").read_text(encoding="utf-8")
    assert 'CMD ["hotline", "serve", "--host", "0.0.0.0", "--port", "8000"]' in dockerfile
    assert "USER hotline" in dockerfile


# --- the proxy, run: TLS, the forwarded-for header the hotline believes, live streams ----------

def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class EchoUpstream:
    """A real HTTP server standing where the hotline would: it answers with the headers it got,
    and /events streams two server-sent events a second apart."""

    def __init__(self) -> None:
        import http.server
        import threading

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                if self.path == "/events":
                    self.send_response(200)
                    self.send_header("content-type", "text/event-stream")
                    self.end_headers()
                    for n in range(2):
                        self.wfile.write(f"data: {n}\n\n".encode())
                        self.wfile.flush()
                        time.sleep(1.5)
                    return
                body = json.dumps({"x-forwarded-for": self.headers.get_all("x-forwarded-for") or [],
                                   "host": self.headers.get("host")}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> EchoUpstream:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_the_proxy_terminates_tls_and_hands_on_only_the_clients_own_address(tmp_path: Path) -> None:
    import http.client
    import ssl

    from web.auth import client_address
    from web.config import parse_networks

    caddy = shutil.which("caddy")
    if caddy is None or shutil.which("openssl") is None:
        pytest.skip("caddy or openssl is not installed (apt-get install caddy openssl)")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-keyout", str(tmp_path / "privkey.pem"), "-out", str(tmp_path / "fullchain.pem")],
                   capture_output=True, timeout=60, check=True)
    folder = tmp_path / "caddy"
    shutil.copytree(DOCKER / "caddy", folder)
    http_port, https_port, health_port = free_port(), free_port(), free_port()
    with EchoUpstream() as upstream:
        # Only the ports and the upstream's address differ from production (no root, no DNS name).
        text = (folder / "Caddyfile").read_text(encoding="utf-8")
        assert "dynamic a hotline 8000" in text and "127.0.0.1:8081" in text
        text = text.replace("dynamic a hotline 8000", f"dynamic a 127.0.0.1 {upstream.port}")
        text = text.replace("127.0.0.1:8081", f"127.0.0.1:{health_port}")
        (folder / "Caddyfile").write_text(f"{{\n\thttp_port {http_port}\n\thttps_port {https_port}\n\tadmin off\n}}\n"
                                          + text, encoding="utf-8")
        env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path),
               "XDG_CONFIG_HOME": str(tmp_path), "HOTLINE_DOMAIN": "localhost", "HOTLINE_TLS": "files",
               "HOTLINE_TLS_DIR": str(tmp_path)}
        process = subprocess.Popen([caddy, "run", "--config", "Caddyfile", "--adapter", "caddyfile"], cwd=folder,
                                   env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            context = ssl.create_default_context()
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE

            def get(path: str, **headers: str) -> tuple[int, bytes]:
                deadline = time.monotonic() + 20
                while True:
                    try:
                        connection = http.client.HTTPSConnection("localhost", https_port, context=context, timeout=10)
                        connection.request("GET", path, headers=headers)
                        response = connection.getresponse()
                        return response.status, response.read()
                    except (ConnectionRefusedError, ssl.SSLError):
                        assert process.poll() is None, process.communicate()[1]
                        assert time.monotonic() < deadline, "caddy did not start"
                        time.sleep(0.2)

            status, body = get("/whoami", **{"X-Forwarded-For": "6.6.6.6"})
            assert status == 200, body
            seen = json.loads(body)
            # The forged address is gone: the header holds the client's own address only.
            assert seen["x-forwarded-for"] == ["127.0.0.1"] and seen["host"] == f"localhost:{https_port}"
            proxy = parse_networks("127.0.0.1")  # in compose: the proxy's fixed address
            assert client_address("127.0.0.1", seen["x-forwarded-for"], proxy) == "127.0.0.1"

            plain = http.client.HTTPConnection("localhost", http_port, timeout=10)
            plain.request("GET", "/whoami")
            redirect = plain.getresponse()
            assert redirect.status in (301, 308) and redirect.getheader("location", "").startswith("https://")

            health = http.client.HTTPConnection("127.0.0.1", health_port, timeout=10)
            health.request("GET", "/healthz")
            assert health.getresponse().status == 200

            # A live stream's first event arrives before the upstream has finished the second.
            stream = http.client.HTTPSConnection("localhost", https_port, context=context, timeout=10)
            started = time.monotonic()
            stream.request("GET", "/events")
            response = stream.getresponse()
            assert response.status == 200
            first = response.readline()
            assert first == b"data: 0\n" and time.monotonic() - started < 1.2
            # So does it when the browser asks for compression, as every browser does.
            import zlib

            stream = http.client.HTTPSConnection("localhost", https_port, context=context, timeout=10)
            started = time.monotonic()
            stream.request("GET", "/events", headers={"Accept-Encoding": "gzip"})
            response = stream.getresponse()
            gzipped = response.getheader("content-encoding") == "gzip"
            inflate, text = zlib.decompressobj(16 + zlib.MAX_WBITS), b""
            while b"\n\n" not in text:
                chunk = response.read1(4096)
                text += inflate.decompress(chunk) if gzipped else chunk
            assert text.startswith(b"data: 0\n\n") and time.monotonic() - started < 1.2
        finally:
            process.terminate()
            process.wait(timeout=10)


def test_the_migrate_command_upgrades_and_imports_the_mounted_city(tmp_path: Path) -> None:
    """The service's own command line, on a SQLite file here instead of the db service."""
    compose = load_compose()
    secrets = make_secrets(tmp_path)
    migrate = compose["services"][ONE_SHOT]
    env = on_this_machine(service_env(compose, ONE_SHOT), secrets)
    del env["HOTLINE_DATABASE_PASSWORD_FILE"]  # SQLite takes no password, and has no roles:
    env["HOTLINE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'hotline.db'}"
    command = migrate["command"][:2] + [re.sub(r"hotline db grant-app-role [^&]*&& ", "", migrate["command"][2])]
    env["HOTLINE_CITY_FILE"] = env["HOTLINE_CITY_FILE"].replace("/etc/hotline/city", str(DOCKER / "city"))
    hotline = Path(sys.executable).parent
    base = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    base["PATH"] = f"{hotline}{os.pathsep}{base['PATH']}"
    runs = [subprocess.run(command, env={**base, **env}, cwd=tmp_path, capture_output=True, text=True,
                           timeout=300, check=False) for _ in range(2)]
    for result in runs:
        assert result.returncode == 0, result.stderr
    units = len(load_city(DOCKER / "city" / "city.json").units)
    assert f"{units} units added, 0 updated" in runs[0].stdout
    assert f"0 units added, 0 updated, {units} in the file" in runs[1].stdout  # every start runs it


def test_the_migration_makes_the_runtime_login_role_the_hotline_and_asterisk_use(
        engine: Engine, tmp_path: Path) -> None:
    """On real PostgreSQL: `grant-app-role --login-password-file`, as the migrate service runs
    it, makes a login role that can file a ticket's event and Asterisk's queue_log row, and
    cannot rewrite the audit log. Run twice, it sets the password again."""
    from click.testing import CliRunner
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from web.cli import main

    if engine.dialect.name != "postgresql":
        pytest.skip("needs TEST_DATABASE_URL on PostgreSQL: roles are PostgreSQL's")
    role = "hotline_app_deploy_test"
    password_file = tmp_path / "db_app_password"
    owner_url = engine.url.render_as_string(hide_password=False)

    def run() -> str:
        result = CliRunner().invoke(main, ["db", "grant-app-role", role, "--login-password-file", str(password_file)],
                                    env={"HOTLINE_DATABASE_URL": owner_url}, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        with engine.connect() as connection:
            row = connection.execute(text("SELECT rolcanlogin, rolsuper, rolpassword FROM pg_authid "
                                          "WHERE rolname = :role"), {"role": role}).one()
        assert row.rolcanlogin and not row.rolsuper and row.rolpassword.startswith(("SCRAM-SHA-256$", "md5"))
        return row.rolpassword

    try:
        password_file.write_text("first-Pass_word.1\n")
        first = run()
        password_file.write_text("it's-another-one\n")  # a quote, doubled in the SQL literal
        assert run() != first
        with engine.connect() as connection:
            connection.exec_driver_sql(f"SET ROLE {role}")
            connection.execute(text("INSERT INTO queue_log (time, callid, queuename, agent, event) "
                                    "VALUES (now(), '1.1', '12345', 'NONE', 'ENTERQUEUE')"))
            connection.rollback()
            connection.exec_driver_sql(f"SET ROLE {role}")
            with pytest.raises(DBAPIError, match="permission denied"):
                connection.execute(text("UPDATE ticket_events SET note = 'x'"))
            connection.rollback()
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP OWNED BY {role}")
            connection.exec_driver_sql(f"DROP ROLE {role}")


def test_a_password_file_that_is_empty_is_refused_before_touching_the_database(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from web.cli import main

    empty = tmp_path / "empty"
    empty.write_text("\n")
    result = CliRunner().invoke(main, ["db", "grant-app-role", "x", "--login-password-file", str(empty)],
                                env={"HOTLINE_DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none"})
    assert result.exit_code == 1 and "must hold the password alone" in result.output
