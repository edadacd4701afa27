"""Secret settings read from files (HOTLINE_*_FILE), as compose mounts them under /run/secrets."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from web.config import SECRET_SETTINGS, Settings


def secret_file(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_the_secret_settings_are_those_a_deployment_keeps_in_files() -> None:
    assert set(SECRET_SETTINGS) == {"HOTLINE_DATABASE_URL", "HOTLINE_DATABASE_PASSWORD", "HOTLINE_SECRET_KEY",
                                    "HOTLINE_AMI_SECRET", "HOTLINE_TWILIO_AUTH_TOKEN",
                                    "HOTLINE_ALIYUN_ACCESS_KEY_SECRET", "HOTLINE_ALIYUN_PUSH_TOKEN"}


def test_the_aliyun_provider_reads_its_secrets_from_files_and_its_template_codes(tmp_path: Path) -> None:
    settings = Settings.from_env({
        "HOTLINE_SMS_PROVIDER": "aliyun", "HOTLINE_ALIYUN_ACCESS_KEY_ID": "LTAI5t",
        "HOTLINE_ALIYUN_ACCESS_KEY_SECRET_FILE": secret_file(tmp_path, "ak", "ak-secret\n"),
        "HOTLINE_ALIYUN_PUSH_TOKEN_FILE": secret_file(tmp_path, "push", "push-token\n"),
        "HOTLINE_ALIYUN_SIGN_NAME": "12345", "HOTLINE_ALIYUN_TEMPLATES": "received=SMS_1, reply=SMS_2"})
    assert settings.sms is not None and settings.sms.provider == "aliyun"
    aliyun = settings.sms.aliyun
    assert aliyun is not None
    assert (aliyun.access_key_secret, aliyun.push_token) == ("ak-secret", "push-token")
    assert dict(aliyun.templates) == {"received": "SMS_1", "reply": "SMS_2"}
    assert "ak-secret" not in repr(settings)


def test_the_aliyun_provider_is_off_unset_and_refuses_half_settings_and_unknown_kinds() -> None:
    assert Settings.from_env({"HOTLINE_SMS_PROVIDER": "aliyun"}).sms is None   # none set: SMS off
    with pytest.raises(ValueError, match="HOTLINE_ALIYUN_ACCESS_KEY_SECRET"):
        Settings.from_env({"HOTLINE_SMS_PROVIDER": "aliyun", "HOTLINE_ALIYUN_ACCESS_KEY_ID": "LTAI5t"})
    with pytest.raises(ValueError, match="kind=code"):
        Settings.from_env({"HOTLINE_SMS_PROVIDER": "aliyun", "HOTLINE_ALIYUN_ACCESS_KEY_ID": "a",
                           "HOTLINE_ALIYUN_ACCESS_KEY_SECRET": "b", "HOTLINE_ALIYUN_SIGN_NAME": "c",
                           "HOTLINE_ALIYUN_PUSH_TOKEN": "d", "HOTLINE_ALIYUN_TEMPLATES": "nonsense=SMS_1"})
    with pytest.raises(ValueError, match="twilio or aliyun"):
        Settings.from_env({"HOTLINE_SMS_PROVIDER": "carrier-pigeon"})


def test_each_secret_is_read_from_its_file_without_the_trailing_newline(tmp_path: Path) -> None:
    settings = Settings.from_env({
        "HOTLINE_DATABASE_URL_FILE": secret_file(tmp_path, "url", "postgresql://hotline:pw@db/hotline\n"),
        "HOTLINE_SECRET_KEY_FILE": secret_file(tmp_path, "key", "k" * 40 + "\n"),
        "HOTLINE_AMI_HOST": "asterisk", "HOTLINE_AMI_USERNAME": "hotline",
        "HOTLINE_AMI_SECRET_FILE": secret_file(tmp_path, "ami", "ami-secret-from-file\n"),
        "HOTLINE_TWILIO_ACCOUNT_SID": "AC123", "HOTLINE_TWILIO_FROM": "+15550001111",
        "HOTLINE_PUBLIC_URL": "https://hotline.example.gov.cn",
        "HOTLINE_TWILIO_AUTH_TOKEN_FILE": secret_file(tmp_path, "twilio", "token-from-file\r\n"),
    })
    assert settings.database_url == "postgresql+psycopg://hotline:pw@db/hotline"
    assert settings.secret_key == "k" * 40 and settings.model_key == "k" * 40
    assert settings.ami is not None and settings.ami.secret == "ami-secret-from-file"
    assert settings.sms is not None and settings.sms.auth_token == "token-from-file"


def test_one_password_file_completes_the_database_url(tmp_path: Path) -> None:
    settings = Settings.from_env({
        "HOTLINE_DATABASE_URL": "postgresql://hotline@db/hotline",
        "HOTLINE_DATABASE_PASSWORD_FILE": secret_file(tmp_path, "db_password", "s3cret.pass-word_1\n"),
    })
    assert settings.database_url == "postgresql+psycopg://hotline:s3cret.pass-word_1@db/hotline"


def test_a_password_with_url_characters_is_quoted_into_the_url(tmp_path: Path) -> None:
    from sqlalchemy.engine import make_url

    settings = Settings.from_env({
        "HOTLINE_DATABASE_URL": "postgresql://hotline@db/hotline",
        "HOTLINE_DATABASE_PASSWORD_FILE": secret_file(tmp_path, "db_password", "a@b/c:d%e"),
    })
    assert make_url(settings.database_url).password == "a@b/c:d%e"
    assert make_url(settings.database_url).host == "db"


@pytest.mark.parametrize("env, words", [
    ({"HOTLINE_DATABASE_URL": "postgresql://hotline:inline@db/hotline"}, "carries a password too"),
    ({"HOTLINE_DATABASE_URL": "sqlite:///hotline.db"}, "not a PostgreSQL URL"),
])
def test_a_database_password_that_cannot_apply_is_refused(tmp_path: Path, env: dict[str, str], words: str) -> None:
    env = {**env, "HOTLINE_DATABASE_PASSWORD_FILE": secret_file(tmp_path, "db_password", "pw")}
    with pytest.raises(ValueError, match=words):
        Settings.from_env(env)


def test_a_blank_file_is_unset_so_sms_stays_off(tmp_path: Path) -> None:
    settings = Settings.from_env({"HOTLINE_TWILIO_AUTH_TOKEN_FILE": secret_file(tmp_path, "twilio", "\n"),
                                  "HOTLINE_PUBLIC_URL": "https://hotline.example.gov.cn"})
    assert settings.sms is None


def test_a_token_file_without_the_rest_of_sms_is_half_configured(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="half configured"):
        Settings.from_env({"HOTLINE_TWILIO_AUTH_TOKEN_FILE": secret_file(tmp_path, "twilio", "token")})


def test_both_the_variable_and_its_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="HOTLINE_SECRET_KEY and HOTLINE_SECRET_KEY_FILE are both set"):
        Settings.from_env({"HOTLINE_SECRET_KEY": "inline",
                           "HOTLINE_SECRET_KEY_FILE": secret_file(tmp_path, "key", "from-file")})


def test_a_missing_file_names_the_variable_and_the_path_not_a_value(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(ValueError) as caught:
        Settings.from_env({"HOTLINE_AMI_SECRET_FILE": str(missing)})
    assert f"HOTLINE_AMI_SECRET_FILE: cannot read {missing}" in str(caught.value)


def test_a_file_of_several_lines_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="more than one line"):
        Settings.from_env({"HOTLINE_SECRET_KEY_FILE": secret_file(tmp_path, "key", "one\ntwo\n")})


def test_a_setting_that_is_not_secret_has_no_file_variant(tmp_path: Path) -> None:
    settings = Settings.from_env({"HOTLINE_LOG_LEVEL_FILE": secret_file(tmp_path, "level", "DEBUG")})
    assert settings.log_level == "INFO"


def test_hotline_settings_marks_a_secret_given_by_file_as_set(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env["HOTLINE_AMI_SECRET_FILE"] = secret_file(tmp_path, "ami", "never-printed")
    result = subprocess.run([sys.executable, "-m", "web.cli", "settings"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "* HOTLINE_AMI_SECRET " in result.stdout and "or HOTLINE_AMI_SECRET_FILE" in result.stdout
    assert "  HOTLINE_SECRET_KEY " in result.stdout  # not set
    assert "never-printed" not in result.stdout
