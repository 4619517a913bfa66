#!/usr/bin/env bash
# The torch engine's Python style: flake8 (Debian's `flake8`) checks it, black (Debian's `black`,
# -l 120 --preview) formats it. Each is skipped with a message where it is not installed; CI
# installs both.
set -euo pipefail
cd "$(dirname "$0")/../python"
status=0
if command -v flake8 >/dev/null; then flake8 . || status=1; else echo "lint: flake8 is not installed (apt-get install -y flake8): Python style not checked"; fi
if command -v black >/dev/null; then black --preview -l 120 --check -q . || { echo "lint: black would reformat the files above (run: black --preview -l 120 python)"; status=1; }
else echo "lint: black is not installed (apt-get install -y black): Python formatting not checked"; fi
exit $status
