"""`pip install` for the Makefile: one progress line, pip's own errors, no noise from one machine's set-up.

Usage (from the Makefile): .venv/bin/python scripts/pip_install.py "Installing dependencies" -r requirements/base.txt

Runs `python -m pip install --quiet --disable-pip-version-check ARGS` with this interpreter and passes
everything pip prints through, except one message: "Location 'file:///…/simple/<project>/' is ignored:
it is neither a file nor a directory". pip prints it once per package and per local (file://) index
that does not carry that package — a machine whose pip.conf or PIP_EXTRA_INDEX_URL names a partial
local mirror gets ~90 of them per install. For an index over HTTP the same situation (404) is silent in
pip, so the message says nothing about the project. The machine's pip configuration itself (index,
mirrors, certificates, proxies) is used as it is: the requirements files name no index of their own.
"""

from __future__ import annotations

import re
import subprocess
import sys

# pip/_internal/index/sources.py::build_source (pip 24–26): the per-project page of a file:// index is missing.
LOCAL_INDEX_MISS = re.compile(r"^WARNING: Location '.*' is ignored: it is neither a file nor a directory\.\s*$")


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: pip_install.py LABEL PIP-INSTALL-ARGS...", file=sys.stderr)
        return 2
    label, args = argv[0], argv[1:]
    print(f"{label}…", flush=True)
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)  # noqa: S603
    assert process.stdout is not None
    for line in process.stdout:
        if not LOCAL_INDEX_MISS.match(line):
            sys.stderr.write(line)
    return process.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
