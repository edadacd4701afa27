#!/bin/sh
# Makes docker/secrets/: one file per password, random, made once (an existing file is kept).
# PostgreSQL, the hotline and Asterisk all read the same files; nobody copies a password.
# The folder is for root only; the files inside are world-readable because each container
# reads them as its own user (postgres, hotline, asterisk) through a bind mount.
set -eu
cd "$(dirname "$0")"
mkdir -p secrets
chmod 700 secrets

random() {  # 32 letters and digits: safe in a URL, in Asterisk's files and in sed
    LC_ALL=C tr -dc 'A-Za-z0-9' < /dev/urandom | head -c 32
}

make() {
    if [ -e "secrets/$1" ]; then
        echo "kept    secrets/$1"
        return
    fi
    printf '%s\n' "$2" > "secrets/$1"
    chmod 644 "secrets/$1"
    echo "made    secrets/$1"
}

make db_password "$(random)"
make db_app_password "$(random)"
make secret_key "$(random)$(random)"
make ami_secret "$(random)"
# Empty: SMS off. Put the Twilio auth token here (and the SID and number in docker/.env) to turn it on.
make twilio_auth_token ""
make sip_passwords "$(printf '7001=%s\n7002=%s\n7003=%s' "$(random)" "$(random)" "$(random)")"
