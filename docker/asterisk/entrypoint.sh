#!/bin/sh
# Fills in what differs per site (the host's address, the compose subnets, the secrets) and
# copies the hotline's Asterisk files into Asterisk's folder, then runs the command given.
# Each password is read from its compose secret, the same file PostgreSQL and the hotline
# read, so nobody copies it by hand. Paths can be moved for tests.
set -eu

templates=${HOTLINE_ASTERISK_TEMPLATES:-/etc/hotline-asterisk}
target=${ASTERISK_CONFIG_DIR:-/etc/asterisk}
secrets=${SECRETS_DIR:-/run/secrets}

fail() {
    echo "hotline asterisk: $*" >&2
    exit 1
}

# A secret goes into Asterisk's files and sed as it is: letters, digits and . _ ~ - only
# (docker/make-secrets.sh makes such ones), at least 16 of them.
secret() {
    file="$secrets/$1"
    [ -r "$file" ] || fail "secret $1 missing: $file (run docker/make-secrets.sh)"
    value=$(cat "$file")
    case "$value" in
        *[!A-Za-z0-9._~-]*) fail "secret $1 may hold only letters, digits and . _ ~ -" ;;
    esac
    [ "${#value}" -ge 16 ] || fail "secret $1 is shorter than 16 characters"
    printf '%s' "$value"
}

address() {  # an IPv4 address or CIDR, nothing that could break the files
    case "$2" in
        ''|*[!0-9./]*) fail "$1 must be an IPv4 address or subnet, got '$2'" ;;
    esac
    printf '%s' "$2"
}

AMI_SECRET=$(secret ami_secret)
DB_APP_PASSWORD=$(secret db_app_password)
EXTERNAL=$(address SIP_EXTERNAL_ADDRESS "${SIP_EXTERNAL_ADDRESS:-}")
INTERNAL=$(address INTERNAL_SUBNET "${INTERNAL_SUBNET:-}")
VOICE=$(address VOICE_SUBNET "${VOICE_SUBNET:-}")

# One line per phone in sip_passwords, EXTENSION=PASSWORD: @SIP_PASSWORD_EXTENSION@.
phones=""
if [ -e "$secrets/sip_passwords" ]; then
    while IFS='=' read -r extension password || [ -n "$extension" ]; do
        case "$extension" in ''|'#'*) continue ;; *[!0-9]*) fail "sip_passwords: '$extension' is not an extension" ;; esac
        case "$password" in *[!A-Za-z0-9._~-]*) fail "sip_passwords: $extension's password may hold only letters, digits and . _ ~ -" ;; esac
        [ "${#password}" -ge 12 ] || fail "sip_passwords: $extension's password is shorter than 12 characters"
        phones="$phones -e s|@SIP_PASSWORD_$extension@|$password|g"
    done < "$secrets/sip_passwords"
fi

mkdir -p "$target"
for template in "$templates"/*.conf; do
    name=$(basename "$template")
    sed -e "s|@AMI_SECRET@|$AMI_SECRET|g" \
        -e "s|@DB_APP_PASSWORD@|$DB_APP_PASSWORD|g" \
        -e "s|@SIP_EXTERNAL_ADDRESS@|$EXTERNAL|g" \
        -e "s|@INTERNAL_SUBNET@|$INTERNAL|g" \
        -e "s|@VOICE_SUBNET@|$VOICE|g" \
        $phones "$template" > "$target/$name.new"
    mv "$target/$name.new" "$target/$name"
done
if grep -l '@[A-Z_]*@' "$target"/*.conf >/dev/null 2>&1; then
    fail "placeholders left unfilled in: $(grep -l '@[A-Z_]*@' "$target"/*.conf | tr '\n' ' ')"
fi
# The files holding secrets: readable by Asterisk, by nobody else.
for name in manager.conf res_config_pgsql.conf pjsip.conf; do
    chmod 640 "$target/$name"
    if id asterisk >/dev/null 2>&1; then
        chown root:"$(id -gn asterisk)" "$target/$name" 2>/dev/null || true
    fi
done

if [ "$#" -gt 0 ] && id asterisk >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && [ "$1" = asterisk ]; then
    shift
    exec asterisk -U asterisk -G "$(id -gn asterisk)" "$@"
fi
exec "$@"
