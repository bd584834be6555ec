"""Open every page of the built site in a real headless Chromium, as a reader would.

The site in _build/html (or $DERIVLIB_SITE) is served on 127.0.0.1 by http.server.
For each page: no console error and no page error, no failed request, every request
goes to 127.0.0.1 (anything else is aborted and fails the test), the math is typeset
by MathJax with no raw TeX left in the visible text, and a full-page screenshot is
saved to _build/screenshots/<page>.png (beside the site directory). Each written page
offers its executed notebook (.ipynb), and code cells have copy buttons.
Chromium and the local server come from conftest.py.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from urllib.parse import urljoin, urlsplit

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from conftest import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, SITE, require_chromium

GENERATED = {"genindex.html", "search.html", "py-modindex.html"}  # Sphinx's own pages
# TeX that MathJax should have consumed; seen in visible prose, it means untypeset math.
RAW_TEX = [
    re.compile(r"\$\$"),
    re.compile(r"\\\(|\\\)|\\\[|\\\]"),
    re.compile(r"\\begin\{|\\end\{|\\frac|\\mathbf|\\operatorname"),
    re.compile(r"\$[^$\n]*[\\^_{}][^$\n]*\$"),  # $x_i$ left as dollars
]


def _pages() -> list:
    if not SITE.is_dir():
        return [pytest.param(None, id="site-not-built")]
    pages = sorted(
        p.relative_to(SITE).as_posix()
        for p in SITE.rglob("*.html")
        if not any(part.startswith("_") for part in p.relative_to(SITE).parts)
    )
    return [pytest.param(page, id=page.removesuffix(".html").replace("/", "-")) for page in pages]


@pytest.fixture(scope="module")
def browser_context():
    """A headless Debian Chromium with a fresh profile, driven by Playwright."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="derivlib-chromium-")
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile,
                executable_path=str(CHROMIUM),
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1280, "height": 900},
                service_workers="block",
            )
            context.set_default_timeout(60_000)  # the machine may be busy building
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def _visible_prose(page) -> str:
    """Visible text of the article, without code, scripts and typeset math."""
    return page.evaluate(
        """() => {
            const root = (document.querySelector('main') || document.body).cloneNode(true);
            root.querySelectorAll('pre, code, script, style, mjx-container, mjx-assistive-mml')
                .forEach((el) => el.remove());
            document.body.appendChild(root);  // innerText needs a rendered node
            root.style.position = 'absolute';
            root.style.left = '-100000px';
            const text = root.innerText;
            root.remove();
            return text;
        }"""
    )


@pytest.mark.parametrize("page_path", _pages())
def test_page(page_path, base_url, browser_context):
    assert page_path is not None, f"no built site at {SITE}: run `make docs` first"
    origin = urlsplit(base_url).netloc
    requests, outside, failed, bad_status = [], [], [], []
    console_errors, page_errors = [], []

    page = browser_context.new_page()

    def route(route_):
        url = route_.request.url
        if urlsplit(url).netloc == origin:
            route_.continue_()
        else:
            outside.append(url)
            route_.abort()

    page.route("**/*", route)
    page.on("request", lambda r: requests.append(r.url))
    page.on("requestfailed", lambda r: failed.append(f"{r.url}: {r.failure}"))
    page.on("response", lambda r: bad_status.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page_errors.append(str(e)))
    try:
        page.goto(base_url + page_path, wait_until="load")
        has_math = page.locator(".math").count() > 0
        if has_math:
            try:
                page.wait_for_function(
                    "() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=45_000
                )
            except PlaywrightTimeout:
                pytest.fail(
                    f"MathJax never started on a page with math; error responses {bad_status}, "
                    f"failed requests {failed}, console errors {console_errors}"
                )
            page.evaluate("() => MathJax.startup.promise.then(() => true)")
        page.evaluate("() => document.fonts.ready.then(() => true)")
        page.wait_for_function("() => [...document.images].every((img) => img.complete)")

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shot = SCREENSHOTS / (page_path.removesuffix(".html").replace("/", "-") + ".png")
        # the theme slides the sidebar in: wait until the article sits fully inside the
        # viewport (a busy machine once caught it mid-slide, text cut off on the left),
        # then finish any remaining transitions for the picture
        page.wait_for_function(
            "() => { const m = document.querySelector('main'); "
            "return m && m.getBoundingClientRect().left >= 0; }"
        )
        page.screenshot(path=str(shot), full_page=True, animations="disabled")

        assert not outside, f"requests to other hosts (aborted): {outside}"
        assert all(urlsplit(u).netloc == origin for u in requests if urlsplit(u).scheme in ("http", "https"))
        assert not failed, f"failed requests: {failed}"
        assert not bad_status, f"error responses: {bad_status}"
        assert not page_errors, f"page errors: {page_errors}"
        assert not console_errors, f"console errors: {console_errors}"

        if has_math:
            untypeset = page.evaluate(
                "() => [...document.querySelectorAll('.math')]"
                ".filter((el) => !el.querySelector('mjx-container')).map((el) => el.textContent)"
            )
            assert page.locator("mjx-container").count() > 0, "MathJax produced no output"
            assert not untypeset, f"math left untypeset: {untypeset[:5]}"
            errors = page.evaluate("() => [...document.querySelectorAll('mjx-merror')].map((e) => e.textContent)")
            assert not errors, f"TeX errors reported by MathJax: {errors[:5]}"
            mathjax_src = page.evaluate("() => [...document.scripts].map((s) => s.src).filter((s) => /mathjax/i.test(s))")
            assert mathjax_src and all(urlsplit(s).netloc == origin for s in mathjax_src), mathjax_src

        if page_path not in GENERATED:  # a page written as a notebook: offered as .ipynb
            links = page.eval_on_selector_all(
                'a[href$=".ipynb"]', "(links) => links.map((a) => a.getAttribute('href'))"
            )
            assert links, "no .ipynb download link"
            response = page.request.get(urljoin(page.url, links[0]))
            assert response.ok, f"{links[0]}: {response.status}"
            notebook = response.json()
            assert notebook["nbformat"] == 4 and notebook["cells"], links[0]
            with_outputs = sum(bool(c.get("outputs")) for c in notebook["cells"] if c["cell_type"] == "code")
            shown = page.locator("div.cell_output").count()  # cells whose outputs the page shows
            assert with_outputs >= shown, f"{links[0]} has {with_outputs} cells with outputs, the page {shown}"
        if page.locator("div.cell_input").count():
            assert page.locator("div.cell_input button.copybtn").count() > 0, "no copy buttons on code cells"

        prose = _visible_prose(page)
        leftovers = [m.group(0) for rx in RAW_TEX for m in rx.finditer(prose)]
        assert not leftovers, f"raw TeX in the visible text: {leftovers[:5]}"
    finally:
        page.close()


EXPLANATIONS = ["sigmoid_layer", "linear_dot", "two_layer"]
VERDICTS = {"holds", "fails", "does not conform"}


@pytest.mark.parametrize("name", EXPLANATIONS)
def test_first_screen_answers(name, base_url, browser_context):
    """At 1400x1000, an explanation page shows, without scrolling, the asker's formula as the
    thread wrote it, the verdict the claims ledger found for it, and the whole answer callout."""
    if not (SITE / f"{name}.html").is_file():
        pytest.fail(f"no built page {name}.html at {SITE}: run `make docs` first")
    page = browser_context.new_page()
    try:
        page.set_viewport_size({"width": 1400, "height": 1000})
        page.goto(base_url + f"{name}.html", wait_until="load")
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
        page.evaluate("() => MathJax.startup.promise.then(() => document.fonts.ready).then(() => true)")
        page.wait_for_function(
            "() => { const m = document.querySelector('main'); return m && m.getBoundingClientRect().left >= 0; }"
        )
        boxes = page.evaluate(
            """() => {
                const box = (el) => el && (({top, bottom, left, right}) => ({top, bottom, left, right}))(
                    el.getBoundingClientRect());
                const asked = document.querySelector('.asked');
                const callout = document.querySelector('.admonition.tip');
                return {
                    formula: box(asked && asked.querySelector('mjx-container')),
                    verdict: box(asked && asked.querySelector('.verdict')),
                    verdictText: asked && asked.querySelector('.verdict') ? asked.querySelector('.verdict').textContent : null,
                    callout: box(callout),
                    calloutTitle: callout ? callout.querySelector('.admonition-title').textContent : null,
                    firstHeading: box([...document.querySelectorAll('article h2')]
                        .find((h) => h.getBoundingClientRect().height > 0)),
                };
            }"""
        )
        shot = SCREENSHOTS / f"first-screen-{name}.png"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot), animations="disabled")
        for part in ("formula", "verdict", "callout"):
            assert boxes[part] is not None, f"{name}: no {part} on the page"
            assert 0 <= boxes[part]["top"] and boxes[part]["bottom"] <= 1000, (
                f"{name}: the {part} is not inside the first screen (1400x1000): {boxes[part]}; see {shot}")
        assert boxes["verdictText"] in VERDICTS, boxes["verdictText"]
        assert boxes["calloutTitle"] == "The answer"
        # formula, then verdict, then the answer, then the rest of the page
        assert boxes["formula"]["bottom"] <= boxes["verdict"]["top"] <= boxes["callout"]["top"]
        assert boxes["firstHeading"] is None or boxes["callout"]["bottom"] <= boxes["firstHeading"]["top"]
    finally:
        page.close()


@pytest.mark.parametrize("page_path", _pages())
def test_images_say_what_they_show(page_path):
    """Every image has alt text that describes it, not its file name (a figure made by a code
    cell gets it from the cell's ``mystnb: image: alt:`` metadata)."""
    assert page_path is not None, f"no built site at {SITE}: run `make docs` first"
    html = (SITE / page_path).read_text(encoding="utf-8")
    figures = [t for t in re.findall(r"<img\b[^>]*>", html) if re.search(r'src="[^"]*(_images|_generated)/', t)]
    for tag in figures:
        alt = re.search(r'\balt="([^"]*)"', tag)
        assert alt and len(alt.group(1).split()) >= 3, f"{page_path}: an image without a description: {tag[:160]}"
        assert not re.search(r"[0-9a-f]{32}|\.(png|svg|jpe?g)\b", alt.group(1)), f"{page_path}: alt text is a file name: {tag[:160]}"
