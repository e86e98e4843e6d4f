#!/usr/bin/env bash
# Rewrite docs/screenshots/: every page kind at 360×740 (phone) and 1280×800 (desk), taken by
# the browser test that checks them (tests/web/test_responsive_browser.py) on the demo data.
# Usage: scripts/screenshots.sh [PYTHON]   (default .venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-.venv/bin/python}
rm -f docs/screenshots/*.png
GONGKAI_UPDATE_SCREENSHOTS=1 "$python" -m pytest -q -n 0 \
  tests/web/test_responsive_browser.py
# 256 colours: a third of the size, no visible change for pages (Pillow comes with fpdf2)
"$python" - <<'PY'
from pathlib import Path

from PIL import Image

for path in sorted(Path("docs/screenshots").glob("*.png")):
    Image.open(path).convert("RGB").quantize(256).save(path, optimize=True)
PY
du -ch docs/screenshots/*.png | tail -n 1
