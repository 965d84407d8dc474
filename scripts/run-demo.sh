#!/usr/bin/env bash
# Set up maild and run it on the embedded default: ./scripts/run-demo.sh [--once]
#
# Creates .venv with maild, brings the SQLite database under var/ to the newest schema, puts a few
# sample platform notices into the demo Maildir var/demo/inbox (delivered the Maildir way, once),
# then runs the daemon on config/demo.toml, which watches that Maildir with watchdog. Drop more
# .eml files into var/demo/inbox/new while it runs; stop it with Ctrl-C. With --once it archives
# what is there and exits.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

stamp=.venv/.maild-installed
if [ ! -x .venv/bin/python ]; then
    if ! python3 -m venv .venv 2>/dev/null; then
        # Debian ships venv support separately; install it (as root) and try again.
        rm -rf .venv
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >/dev/null
        python3 -m venv .venv
    fi
fi
if [ ! -e "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e . >.venv/pip-demo.log 2>&1 \
        || { cat .venv/pip-demo.log >&2; exit 1; }
    touch "$stamp"
fi

.venv/bin/maild --config config/demo.toml db upgrade

inbox=var/demo/inbox
mkdir -p "$inbox/tmp" "$inbox/new" "$inbox/cur"
if [ ! -e var/demo/.seeded ]; then
    # About a dozen samples spread over every platform of the labelled corpus.
    samples=(tests/corpus/*/*.eml)
    step=$(( (${#samples[@]} + 11) / 12 ))
    n=0
    for ((i = 0; i < ${#samples[@]}; i += step)); do
        n=$((n + 1))
        name="$(date +%s).demo$n.$(hostname)"
        cp "${samples[$i]}" "$inbox/tmp/$name" && mv "$inbox/tmp/$name" "$inbox/new/$name"
    done
    touch var/demo/.seeded
    echo "run-demo: delivered $n sample notices into $inbox/new"
fi

echo "run-demo: summaries go to var/demo/outbox/<recipient>/new (one Maildir per recipient);"
echo "run-demo: list cases with: .venv/bin/maild --config config/demo.toml cases"
exec .venv/bin/maild --config config/demo.toml run "$@"
