"""The README's back-office pictures come from scripts/web_screenshots.py: it runs as the README
says, and what it writes are the two pages (a desktop dashboard, a phone's member page)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def test_the_screenshot_script_photographs_the_dashboard_and_the_member_page(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "web_screenshots.py"),
                          "--out", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    dashboard = Image.open(tmp_path / "back-office-dashboard.png")
    member = Image.open(tmp_path / "member-page.png")
    assert dashboard.size == (1100, 1500)
    assert member.size == (780, 1688)  # 390 x 844 at two device pixels each
    for picture in (dashboard, member):  # a page, not a blank: many colours drawn
        assert len(picture.convert("RGB").getcolors(1 << 20) or []) > 50
    readme = (ROOT / "README.md").read_text()
    assert "docs/screens/back-office-dashboard.png" in readme
    assert "docs/screens/member-page.png" in readme
