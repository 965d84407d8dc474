#!/usr/bin/env bash
# Set up maild and run it on the embedded default: ./scripts/run-demo.sh [--once]
#
# Creates .venv with maild, brings the SQLite database under var/ to the newest schema, puts a few
# sample platform notices into the demo Maildir var/demo/inbox (delivered the Maildir way, once),
# then runs the daemon on config/demo.toml, which watches that Maildir with watchdog. Drop more
# .eml files into var/demo/inbox/new while it runs; stop it with Ctrl-C. With --once it archives
# what is there and exits.
#
# The first time, it also shows the reply path: one `maild run --once` routes the samples, then
# scripts/demo_advisor_reply.py plays the advisor and answers one summary into the replies
# Maildir var/demo/replies; the daemon run below turns that answer into draft v1 and sends the
# approval request to the decision-maker (var/demo/.drafted remembers the case).
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

drafted=var/demo/.drafted
if [ ! -e "$drafted" ]; then
    .venv/bin/maild --config config/demo.toml run --once   # the summaries go out
    if ticket=$(.venv/bin/python scripts/demo_advisor_reply.py); then
        echo "$ticket" >"$drafted"
    else
        echo "run-demo: no summary to answer yet; the next run tries again" >&2
    fi
fi

echo "run-demo: summaries go to var/demo/outbox/<recipient>/new (one Maildir per recipient);"
if [ -s "$drafted" ]; then
    ticket=$(cat "$drafted")
    echo "run-demo: the advisor answered the summary of $ticket (var/demo/replies); the approval"
    echo "run-demo: request for its draft v1 goes to var/demo/outbox/zhangwei@example-shop.cn/new"
    echo "run-demo: see the draft with: .venv/bin/maild --config config/demo.toml drafts $ticket"
    echo "run-demo:                     .venv/bin/maild --config config/demo.toml draft $ticket"
fi
echo "run-demo: list cases with: .venv/bin/maild --config config/demo.toml cases"
exec .venv/bin/maild --config config/demo.toml run "$@"
