"""Real-browser tests: Playwright (Python) driving Debian's chromium.

``browser_page`` yields a Playwright page, or skips the test with a printed reason when no
browser can be had (no chromium binary, or it does not start) — never silently: pytest prints
skip reasons (``-rs`` in pytest.ini).
"""

from __future__ import annotations

import os
import shutil

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
# The screens every page must fit: a phone and a desktop (``signed_in_page(user, "phone")``).
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
LAUNCH_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str | None:
    explicit = os.environ.get("CHROMIUM_PATH")
    if explicit:
        return explicit if os.path.exists(explicit) else None
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None
