"""Drive the exercises page (docs/exercises.md) in headless Chromium, offline.

A wrong step is marked with its kind; a hint shows the next step's differential, then more
on the next click; the learner's lines are restored after a reload; a link to an exercise's
anchor opens that exercise. Screenshots go to _build/screenshots/exercises-*.png.
"""

from __future__ import annotations

import shutil
import tempfile
from urllib.parse import urlsplit

import pytest
from conftest import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, SITE, require_chromium

TIMEOUT = 120_000  # ms: the first click loads Python on a machine that may be busy
SIGMOID = "#ex-sigmoid-layer"


@pytest.fixture(scope="module")
def session(base_url):
    """One browser context for the module, every request to another host aborted and recorded."""
    if not (SITE / "exercises.html").is_file():
        pytest.fail(f"no exercises page at {SITE}: run `make docs` first")
    require_chromium()
    from playwright.sync_api import sync_playwright

    origin = urlsplit(base_url).netloc
    outside = []
    profile = tempfile.mkdtemp(prefix="derivlib-exercises-")
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile, executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
                viewport={"width": 1280, "height": 2000}, service_workers="block")
            context.set_default_timeout(TIMEOUT)

            def route(route_):
                if urlsplit(route_.request.url).netloc == origin:
                    route_.continue_()
                else:
                    outside.append(route_.request.url)
                    route_.abort()

            context.route("**/*", route)
            page = context.new_page()
            page.goto(base_url + "exercises.html", wait_until="load")
            try:
                yield page, base_url, outside
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def _shot(page, name, selector):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(selector).screenshot(path=str(SCREENSHOTS / f"exercises-{name}.png"))


def _check(page, section, lines):
    page.fill(f"{section} .ex-lines", lines)
    page.click(f"{section} .ex-check")
    page.wait_for_selector(f"{section} .ex-output[data-state]")


def test_a_wrong_step_is_marked_with_its_kind(session):
    page, _, _ = session
    _check(page, SIGMOID, "dZ = G * S * (1 - S)\ndW = dZ.T @ X")
    output = page.locator(f"{SIGMOID} .ex-output")
    assert (output.get_attribute("data-verdicts"), output.get_attribute("data-kind")) == (
        "right wrong", "wrong shape, its transpose is right")
    _shot(page, "wrong-step", SIGMOID)


def test_a_hint_shows_the_next_steps_differential_then_its_identity(session):
    page, _, _ = session
    page.fill(f"{SIGMOID} .ex-lines", "")
    page.click(f"{SIGMOID} .ex-hint")
    page.wait_for_selector(f"{SIGMOID} .ex-hints[data-state='done'][data-level='1']")
    page.click(f"{SIGMOID} .ex-hint")
    hints = page.wait_for_selector(f"{SIGMOID} .ex-hints[data-state='done'][data-level='2']")
    assert (hints.get_attribute("data-step"), hints.inner_text().count("identity")) == ("dZ", 1)
    _shot(page, "hint", SIGMOID)


def test_the_learners_lines_are_restored_after_a_reload(session):
    page, _, _ = session
    page.fill(f"{SIGMOID} .ex-lines", "dZ = G * S * (1 - S)")
    page.dispatch_event(f"{SIGMOID} .ex-lines", "input")
    page.reload(wait_until="load")
    assert page.input_value(f"{SIGMOID} .ex-lines") == "dZ = G * S * (1 - S)"


def test_a_solved_exercise_is_marked_after_a_reload(session):
    page, _, _ = session
    _check(page, "#ex-linear-regression", "dw = 2 * X.T @ (X @ w + b - y) / n\ndb = 2 * sum(X @ w + b - y) / n")
    page.reload(wait_until="load")
    assert page.get_attribute("#ex-linear-regression", "data-solved") == "yes"


def test_an_anchor_link_opens_the_exercise(session):
    page, base_url, _ = session
    page.goto(base_url + "exercises.html#ex-attention", wait_until="load")
    assert page.evaluate("() => document.activeElement.id") == "ex-attention-lines"
    assert page.evaluate("() => document.getElementById('ex-attention').getBoundingClientRect().top") < 200


def test_no_request_left_this_machine(session):
    assert session[2] == []
