#!/bin/sh
# Regenerate requirements/base.txt (runtime) and requirements/dev.txt (runtime + dev extra) from
# pyproject.toml, every package pinned. Run it after changing a dependency in pyproject.toml:
#
#   scripts/lock-requirements.sh             keep today's pins where they still fit
#   scripts/lock-requirements.sh --upgrade   move every pin to the newest allowed version
#   scripts/lock-requirements.sh --upgrade-package django
#
# The files carry no --index-url, --extra-index-url, --find-links or --trusted-host lines: where
# packages come from belongs to the machine that installs (pip.conf, PIP_* variables), not to the
# project. pip-tools runs in its own virtual environment (.venv-lock, ignored by git).
set -eu
cd "$(dirname "$0")/.."
LOCK_VENV=.venv-lock
if [ ! -x "$LOCK_VENV/bin/pip-compile" ]; then
    python3 -m venv "$LOCK_VENV"
    "$LOCK_VENV/bin/python" scripts/pip_install.py "Installing pip-tools into $LOCK_VENV" "pip>=24,<27" "pip-tools==7.6.2"
fi
export CUSTOM_COMPILE_COMMAND="scripts/lock-requirements.sh"
for target in base dev; do
    extra=""
    [ "$target" = dev ] && extra="--extra dev"
    echo "Locking requirements/$target.txt…"
    log=$(mktemp)
    # shellcheck disable=SC2086 # $extra is an option list
    status=0
    "$LOCK_VENV/bin/pip-compile" --quiet --no-emit-index-url --no-emit-find-links --no-emit-trusted-host \
        --strip-extras --newline LF $extra "$@" -o "requirements/$target.txt" pyproject.toml 2>"$log" || status=$?
    grep -v "is ignored: it is neither a file nor a directory" "$log" >&2 || true
    rm -f "$log"
    [ "$status" -eq 0 ] || exit "$status"
done
if grep -nE '^[[:space:]]*(-i|-f|--index-url|--extra-index-url|--find-links|--trusted-host)' requirements/*.txt; then
    echo "requirements files name an index: remove those lines" >&2
    exit 1
fi
