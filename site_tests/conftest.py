"""What the browser tests share: the built site, served on 127.0.0.1, and Debian's Chromium.

Chromium is Debian's (/usr/bin/chromium); Playwright never downloads a browser. When it
is missing the tests fail, never skip: ``make browser`` installs it where it can, and
skipping the browser test takes an explicit ``SKIP_BROWSER=1`` (see the Makefile).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from verification.site import CHROMIUM, CHROMIUM_ARGS, serve  # noqa: F401 (the tests import both from here)

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("DERIVLIB_SITE", ROOT / "_build" / "html")).resolve()
SCREENSHOTS = SITE.parent / "screenshots"
def require_chromium() -> None:
    """Fail (never skip) when Debian's Chromium is missing, saying how to install it."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium), "
                    "or skip the browser test explicitly with make test SKIP_BROWSER=1")


@pytest.fixture(scope="session")
def base_url():
    """Serve the built site on 127.0.0.1 at an ephemeral port, in a thread."""
    if not (SITE / "index.html").is_file():
        pytest.fail(f"no built site at {SITE}: run `make docs` first")
    with serve(SITE) as url:
        yield url
