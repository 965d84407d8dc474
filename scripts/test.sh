#!/usr/bin/env bash
# Set up and run the whole maild test suite: ./scripts/test.sh [pytest args...]
#
# On a fresh Debian 12 machine (as root, or with sudo) this installs what the suite runs against
# when it is missing -- Dovecot (dovecot-imapd, dovecot-lmtpd), Postfix, isync, and Chromium with a
# CJK font (the report and board are rendered headless) from Debian packages, without starting
# their system services -- creates .venv with the project and its test
# extras, makes sure PostgreSQL answers on 127.0.0.1:5432, then runs pytest and exits with its code.
# "No tests collected" (pytest exit 5) counts as a failure. Works from any directory; pytest runs
# in the repository root, so give test paths relative to it.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf 'test.sh: %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        say "need root (or sudo) to run: $*"
        return 1
    fi
}

# --- Debian packages --------------------------------------------------------------------------
apt_packages=(dovecot-imapd dovecot-lmtpd postfix isync chromium fonts-wqy-zenhei)
if ! command -v python3 >/dev/null 2>&1; then
    apt_packages+=(python3 python3-venv)
elif ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
    apt_packages+=(python3-venv)   # Debian splits `python3 -m venv` support into its own package
fi
missing=()
for pkg in "${apt_packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$pkg")
    fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    say "installing ${missing[*]}"
    # The tests start private Dovecot and Postfix instances; the system-wide services must not
    # start (and must not take ports 25/143/993). A policy-rc.d that exits 101 tells invoke-rc.d
    # to skip them; use the machine's own when it has one (Docker images do), else a temporary one.
    policy=/usr/sbin/policy-rc.d
    temp_policy=0
    if [ ! -e "$policy" ]; then
        as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"
        temp_policy=1
        trap 'as_root rm -f "$policy"' EXIT
    fi
    # Postfix asks what kind of mail server to configure; the tests write their own main.cf for
    # each private instance, so the system-wide one stays unconfigured (../shared/MAILSTACK.md).
    echo 'postfix postfix/main_mailer_type select No configuration' |
        as_root debconf-set-selections
    install_rc=0
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q || install_rc=$?
    if [ "$install_rc" -eq 0 ]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            "${missing[@]}" || install_rc=$?
    fi
    if [ "$temp_policy" -eq 1 ]; then
        as_root rm -f "$policy"
        trap - EXIT
    fi
    if [ "$install_rc" -ne 0 ]; then
        say "apt-get failed (exit $install_rc) installing ${missing[*]}"
        exit "$install_rc"
    fi
fi

# --- virtual environment ------------------------------------------------------------------------
# The stamp records a successful `pip install -e '.[test]'`; it is redone when pyproject.toml
# changes, so an up-to-date .venv costs nothing here.
stamp=.venv/.maild-test-installed
if [ ! -x .venv/bin/python ]; then
    say "creating .venv"
    python3 -m venv .venv
fi
if [ ! -e "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    say "installing maild and its test dependencies into .venv"
    # Build chatter goes to a log; it is shown only when the install fails.
    if ! .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]' \
        >.venv/pip-install.log 2>&1; then
        cat .venv/pip-install.log >&2
        say "pip install -e '.[test]' failed (log above, also in .venv/pip-install.log)"
        exit 1
    fi
    touch "$stamp"
fi

# --- PostgreSQL on 127.0.0.1:5432 -----------------------------------------------------------------
pg_up() {
    if command -v pg_isready >/dev/null 2>&1; then
        pg_isready -q -h 127.0.0.1 -p 5432
    else
        (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null
    fi
}
if ! pg_up; then
    if [ -d /etc/postgresql ] && [ -n "$(ls -A /etc/postgresql)" ]; then
        for version in $(ls /etc/postgresql); do
            say "starting PostgreSQL $version"
            as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
        done
        for _ in $(seq 1 50); do
            pg_up && break
            sleep 0.2
        done
    fi
    if ! pg_up; then
        say "PostgreSQL is not reachable on 127.0.0.1:5432: the PostgreSQL tests will fail"
    fi
fi

# --- the tests ----------------------------------------------------------------------------------
rc=0
.venv/bin/python -m pytest "$@" || rc=$?
if [ "$rc" -eq 5 ]; then
    say "pytest collected no tests: treating that as a failure"
    exit 1
fi
exit "$rc"
