"""Drive the playground page (docs/playground.md) in a real headless Chromium, offline.

The built site is served on 127.0.0.1; every request to any other host is aborted and
recorded, and the test asserts there were none. Python starts loading before any click,
in a Web Worker served by the site (how long the page's frames wait meanwhile is measured by
benchmarks/playground.py, not asserted here); a failed load is shown and can be retried, a
load that hangs is given up after 60 s and a request that hangs after 20 s, then Python
restarts (both on the page's fake clock). The inputs fit the first screen at 1280×800. A
derivation's link, reopened, gives the same derivation, and its copy buttons copy LaTeX and
numpy. The page derives the three source networks, gallery networks and the gallery's
loops (each typeset by MathJax, each step or gradient checked), says which of five answers is right and how the
four wrong ones are wrong, grades a backward pass line by line (the first wrong line
marked with its kind and the engine's step), and shows input errors next to the input; opened as a file it
says to serve the folder. Screenshots go to _build/screenshots/playground-*.png.
"""

from __future__ import annotations

import shutil
import tempfile
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, SITE, require_chromium

TIMEOUT = 120_000  # ms: the first click loads Python on a machine that may be busy

SIGMOID = "sum(G * sigmoid(X @ W + b))"
SIGMOID_SHAPES = "X: n, p\nW: p, q\nb: 1, q\nG: n, q"
REGRESSION = "mean((X @ w + b - y) ** 2)"
REGRESSION_SHAPES = "X: n, p\nw: p, 1\nb: 1, 1\ny: n, 1"
DELTA = "G * S * (1 - S)"  # S: the sigmoid layer's output, a name the derivation shows


@pytest.fixture(scope="module")
def session(base_url):
    """One page for the whole module (Python loads once), with its request log."""
    if not (SITE / "playground.html").is_file():
        pytest.fail(f"no playground page at {SITE}: run `make docs` first")
    require_chromium()
    from playwright.sync_api import sync_playwright

    origin = urlsplit(base_url).netloc
    log = {"requests": [], "outside": [], "failed": [], "errors": []}
    profile = tempfile.mkdtemp(prefix="derivlib-playground-")
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile, executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
                viewport={"width": 1280, "height": 3200}, service_workers="block")  # tall: no fixed bars in the pictures
            context.set_default_timeout(TIMEOUT)
            context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url.rstrip("/"))

            def route(route_):
                url = urlsplit(route_.request.url)
                if url.netloc == origin or url.scheme == "file":  # a file is no request to a host
                    route_.continue_()
                else:
                    log["outside"].append(route_.request.url)
                    route_.abort()

            context.route("**/*", route)
            page = context.new_page()
            page.on("request", lambda r: log["requests"].append(r.url))
            page.on("requestfailed", lambda r: log["failed"].append(f"{r.url}: {r.failure}"))
            page.on("pageerror", lambda e: log["errors"].append(str(e)))
            # (Playwright reports the console of Python's worker here too; its requests above)
            # the browser's own favicon request gets a 404 from http.server: not the page's
            page.on("console", lambda m: log["errors"].append(m.text)
                    if m.type == "error" and not m.location.get("url", "").endswith("/favicon.ico") else None)
            page.goto(base_url + "playground.html", wait_until="load")
            page.evaluate("() => MathJax.startup.promise.then(() => true)")
            try:
                yield page, log
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def _shot(page, name, selector):
    """A picture of the playground block that holds ``selector``, as a reader sees it."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(".playground", has=page.locator(selector)).screenshot(
        path=str(SCREENSHOTS / f"playground-{name}.png"), animations="disabled")


def _fill(page, expr, shapes, wrt):
    page.fill("#derive-expr", expr)
    page.fill("#derive-shapes", shapes)
    page.fill("#derive-wrt", wrt)


def _derive(page) -> str:
    page.click("#derive-run")
    page.wait_for_selector("#derive-output[data-state]")
    return page.get_attribute("#derive-output", "data-state")


def _answer(page, wrt, expr) -> tuple:
    page.fill("#answer-wrt", wrt)
    page.fill("#answer-expr", expr)
    page.click("#answer-check")
    page.wait_for_selector("#answer-output[data-state]")
    out = page.locator("#answer-output")
    return out.get_attribute("data-state"), out.get_attribute("data-verdict"), out.get_attribute("data-kind"), out.inner_text()


@pytest.fixture
def fresh_page(session):
    """A second page of the session's browser, with the errors it reports; Python loads anew."""
    page, _ = session
    fresh = page.context.new_page()
    errors = []
    fresh.on("pageerror", lambda e: errors.append(str(e)))
    try:
        fresh.goto(page.url.split("#")[0], wait_until="load")
        fresh.evaluate("() => MathJax.startup.promise.then(() => true)")
        yield fresh, errors
    finally:
        fresh.close()


@pytest.fixture
def routed_page(session):
    """Open new pages of the session's browser with some of their files routed first.

    Called as ``routed_page(pattern, handler, clock=False)``; returns the page (not yet
    navigated) and the errors it reports. With ``clock`` the page's clock is faked from the start.
    """
    page, _ = session
    opened = []

    def open_page(pattern, handler, clock=False):
        new = page.context.new_page()
        errors = []
        new.on("pageerror", lambda e: errors.append(str(e)))
        new.route(pattern, handler)
        if clock:
            new.clock.install()
        opened.append(new)
        return new, errors

    yield open_page
    for new in opened:
        new.close()


def _ready(page):
    page.wait_for_selector('#pg-status[data-ready="true"]')
    return page.inner_text("#pg-status-text")


def test_python_is_ready_before_any_click(fresh_page):
    page, errors = fresh_page
    assert "ready" in _ready(page)
    assert page.get_attribute("#derive-output", "data-state") is None  # nothing was clicked
    assert not errors


def test_the_inputs_fit_the_first_screen(session):
    page, _ = session
    small = page.context.new_page()
    try:
        small.set_viewport_size({"width": 1280, "height": 800})
        small.goto(page.url.split("#")[0], wait_until="load")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        small.screenshot(path=str(SCREENSHOTS / "playground-first-screen.png"))
        for selector in ("#derive-expr", "#derive-shapes", "#derive-wrt", "#derive-run"):
            box = small.locator(selector).bounding_box()
            assert box["y"] + box["height"] <= 800, (selector, box)
    finally:
        small.close()


def test_python_runs_in_a_worker_served_by_this_site(session, base_url):
    page, log = session
    page.click("#example-sigmoid_layer")
    assert _derive(page) == "done", page.inner_text("#derive-output")
    script = base_url + "_static/playground-worker.js"
    assert [worker.url for worker in page.workers] == [script]
    assert script in log["requests"]


@pytest.mark.parametrize(("missing", "message"), [
    pytest.param("playground/derivlib-py.zip", "derivlib-py.zip: HTTP 404", id="engine-zip"),
    pytest.param("playground-worker.js", "Python's worker stopped: its script could not be loaded",
                 id="worker-script"),
])
def test_a_failed_load_is_shown_and_can_be_retried(session, routed_page, missing, message):
    page, errors = routed_page(f"**/_static/{missing}", lambda route: route.fulfill(status=404))
    page.goto(session[0].url.split("#")[0], wait_until="load")
    page.wait_for_function("() => document.getElementById('pg-status-text').textContent.includes('could not load')")
    assert message in page.inner_text("#pg-status-text")  # the load started before any click
    assert _derive(page) == "error"
    assert f"could not run: {message}" in page.inner_text("#derive-output")
    page.unroute(f"**/_static/{missing}")
    assert _derive(page) == "done", page.inner_text("#derive-output")
    assert not errors


def test_python_that_does_not_start_within_60_s_is_given_up(session, routed_page):
    held = []  # Pyodide's WebAssembly binary, never answered: Python cannot start
    page, errors = routed_page("**/pyodide.asm.wasm", lambda route: held.append(route), clock=True)
    with page.expect_request("**/pyodide.asm.wasm"):
        page.goto(session[0].url.split("#")[0], wait_until="load")
        page.clock.run_for(2500)  # past the idle callback's own limit: Python starts loading
    page.clock.fast_forward("01:00")
    page.wait_for_function("() => document.getElementById('pg-status-text').textContent.includes('could not load')")
    assert "Python did not start within 60 s" in page.inner_text("#pg-status-text")
    assert held, "the WebAssembly binary was not held"
    for route in held:
        route.abort()
    assert not errors


def test_a_request_that_hangs_is_stopped_after_20_s_and_python_restarts(fresh_page):
    page, errors = fresh_page
    _ready(page)
    page.clock.install()
    page.evaluate("() => { window.pgTestHang = true; }")  # the worker loops in Python, never answering
    page.click("#derive-run")
    page.clock.fast_forward("00:21")
    page.wait_for_selector("#derive-output[data-state]")
    assert page.get_attribute("#derive-output", "data-state") == "error"
    said = page.inner_text("#derive-output")
    assert "did not answer within 20 s" in said and "starting again" in said, said
    _shot(page, "time-limit", "#derive-output")
    page.evaluate("() => { window.pgTestHang = false; }")
    assert "ready" in _ready(page)  # a new worker, started without a click
    assert _derive(page) == "done", page.inner_text("#derive-output")
    assert not errors


def _fragment(page) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(page.url).fragment, keep_blank_values=True).items()}


INPUTS = {"expr": "#derive-expr", "shapes": "#derive-shapes", "wrt": "#derive-wrt",
          "answer_wrt": "#answer-wrt", "answer": "#answer-expr", "lines": "#grade-lines"}


def test_the_link_holds_the_inputs_as_the_reader_derives(session):
    page, _ = session
    page.click("#example-two_layer")
    page.fill("#answer-expr", "H.T @ Delta2")
    assert _derive(page) == "done", page.inner_text("#derive-output")
    assert _fragment(page) == {key: page.input_value(selector) for key, selector in INPUTS.items()}


def test_a_shared_link_reopened_gives_the_same_derivation(session):
    page, _ = session
    page.click("#example-attention")
    page.fill("#answer-expr", "my answer")
    assert _derive(page) == "done", page.inner_text("#derive-output")
    page.click("#share-link")
    link = page.get_attribute("#share-link", "data-copy")
    assert link == page.url and page.evaluate("() => navigator.clipboard.readText()") == link
    reopened = page.context.new_page()
    try:
        reopened.goto(link, wait_until="load")  # derives at once, without a click
        reopened.wait_for_selector("#derive-output[data-state]")
        assert reopened.get_attribute("#derive-output", "data-state") == "done"
        for selector in INPUTS.values():
            assert reopened.input_value(selector) == page.input_value(selector), selector
        assert reopened.get_attribute("#derive-output", "data-steps") == page.get_attribute("#derive-output", "data-steps")
        assert (reopened.locator("#derive-output details.pg-text pre").text_content()
                == page.locator("#derive-output details.pg-text pre").text_content())
        _shot(reopened, "shared-link", "#derive-output")
    finally:
        reopened.close()


@pytest.mark.parametrize(("column", "expected"), [
    pytest.param(0, r"G_{W} = X^T \Delta", id="latex"),
    pytest.param(1, "G_W = X.T @ Delta", id="numpy"),
])
def test_a_steps_copy_button_copies_it(session, column, expected):
    page, _ = session
    page.click("#example-sigmoid_layer")
    assert _derive(page) == "done", page.inner_text("#derive-output")
    page.click("#derive-output .pg-copy-steps summary")
    button = page.locator('#derive-output .pg-copy-steps tr[data-step="G_W"] button').nth(column)
    assert button.get_attribute("data-copy") == expected
    button.click()
    page.wait_for_selector('#derive-output .pg-copy-steps tr[data-step="G_W"] button[data-copied]')
    assert page.evaluate("() => navigator.clipboard.readText()") == expected
    _shot(page, "copy-steps", "#derive-output")


def test_the_whole_derivation_copies_as_latex_and_as_numpy(session):
    page, _ = session
    page.click("#example-sigmoid_layer")
    assert _derive(page) == "done", page.inner_text("#derive-output")
    latex, numpy = (page.locator("#derive-output .pg-copy > button").nth(i).get_attribute("data-copy") for i in (0, 1))
    assert latex.startswith("\\begin{aligned}") and r"G_{W} &= X^T \Delta" in latex
    assert numpy.startswith("import numpy") and "    G_W = X.T @ Delta  # p×q" in numpy.splitlines()


EXAMPLES = [
    pytest.param("example-sigmoid_layer", ["W", "b", "X"], id="source-sigmoid-layer"),
    pytest.param("example-linear_dot", ["x", "W", "b", "y"], id="source-linear-dot"),
    pytest.param("example-two_layer", ["X", "W1", "b1", "W2", "b2"], id="source-two-layer"),
    pytest.param("example-attention", ["Q", "K", "V"], id="gallery-attention"),
    pytest.param("example-residual_block", ["X", "W1", "W2"], id="gallery-residual"),
    pytest.param("example-batch_norm", ["X", "gamma", "beta"], id="gallery-batch-norm"),
    pytest.param("example-dropout", ["W1", "b1", "W2", "X"], id="gallery-dropout"),
    pytest.param("example-lstm_cell", ["Wx", "Wh", "b", "X", "H", "C"], id="gallery-lstm-cell"),
    pytest.param("example-gru_cell", ["Wx", "Wh", "bx", "bh", "X", "H"], id="gallery-gru-cell"),
    pytest.param("example-three_layer_convnet", ["K", "b", "W1", "b1", "W2", "b2"], id="gallery-convnet"),
    pytest.param("example-embedding", ["E", "W", "b"], id="gallery-embedding"),
    pytest.param("example-softmax_labels", ["W", "b", "X"], id="gallery-softmax-labels"),
    pytest.param("example-svm_labels", ["W", "b", "X"], id="gallery-svm-labels"),
]


@pytest.mark.parametrize(("button", "grads"), EXAMPLES)
def test_an_example_derives_typesets_and_checks(session, button, grads):
    page, _ = session
    page.click(f"#{button}")
    assert _derive(page) == "done", page.inner_text("#derive-output")
    output = page.locator("#derive-output")
    assert output.locator("mjx-container").count() > 0, "the derivation was not typeset"
    assert output.locator("mjx-merror").count() == 0, "MathJax reported a TeX error"
    steps = output.get_attribute("data-steps").split()
    assert {f"G_{name}" for name in grads} <= set(steps), steps
    assert output.locator("details pre").text_content().startswith("forward")
    check = output.locator(".pg-check.pg-passed")
    assert check.count() == 1 and "adjoints against finite differences" in check.inner_text()
    checked = output.locator(".pg-check-steps li")
    assert checked.count() >= len(grads) and output.locator(".pg-step-wrong").count() == 0
    _shot(page, f"derive-{button.removeprefix('example-')}", "#derive-output")


LOOP_EXAMPLES = [
    pytest.param("example-rnn_every_step", ["X", "H0", "Wx", "Wh", "b", "V", "c"], "t", id="loop-rnn-every-step"),
    pytest.param("example-rnn_last_step", ["X", "H0", "Wx", "Wh", "b", "V", "c"], "t", id="loop-rnn-last-step"),
    pytest.param("example-lstm_over_time", ["X", "H0", "C0", "Wx", "Wh", "b"], "t", id="loop-lstm-over-time"),
    pytest.param("example-sigmoid_stack", ["X", "W", "b"], "l", id="loop-sigmoid-stack"),
]


@pytest.mark.parametrize(("button", "grads", "index"), LOOP_EXAMPLES)
def test_a_gallery_loop_derives_as_a_recurrence_with_its_verdict(session, button, grads, index):
    page, _ = session
    page.click(f"#{button}")
    assert "\n" in page.input_value("#derive-expr")  # the program's lines reach the engine
    assert _derive(page) == "done", page.inner_text("#derive-output")
    output = page.locator("#derive-output")
    assert output.locator("mjx-container").count() > 0, "the derivation was not typeset"
    errors = [e.get_attribute("data-mjx-error") for e in output.locator("mjx-merror").all()]
    assert not errors, f"MathJax reported a TeX error: {errors}"  # a long derivation: past MathJax's buffer
    text = output.locator("details pre").text_content()
    assert text.startswith(f"forward, {index} = 1 … ") and f"backward, {index} = " in text, text
    check = output.locator(".pg-check.pg-passed")
    assert check.count() == 1 and check.get_attribute("data-verdict") == "right"
    assert "every gradient is right" in check.inner_text()
    said = [li.inner_text() for li in output.locator(".pg-check-steps li").all()]
    assert [s.split(":")[0] for s in said] == [f"G_{name}" for name in grads], said
    assert output.locator(".pg-step-wrong").count() == 0
    _shot(page, f"derive-{button.removeprefix('example-')}", "#derive-output")


def test_checking_an_answer_on_a_loop_says_it_takes_a_network_without_loops(session):
    page, _ = session
    page.click("#example-rnn_every_step")
    state, verdict, _, text = _answer(page, "Wx", "X.T @ G")
    assert (state, verdict) == ("error", None), text
    assert "without a loop" in page.inner_text("#answer-expr-error")


def test_an_example_with_labels_fills_the_shapes_box_with_its_index_line(session):
    page, _ = session
    page.click("#example-softmax_labels")
    assert page.input_value("#derive-shapes").splitlines()[-1] == "y: index n, k"


ANSWERS = [
    pytest.param(SIGMOID, SIGMOID_SHAPES, "W", f"X.T @ ({DELTA})", "right", "right", id="right"),
    pytest.param(SIGMOID, SIGMOID_SHAPES, "W", f"({DELTA}).T @ X", "wrong", "wrong shape, its transpose is right",
                 id="transposed"),
    pytest.param(SIGMOID, SIGMOID_SHAPES, "W", "X.T @ G", "wrong", "missing sigma'", id="missing-sigma-prime"),
    pytest.param(SIGMOID, SIGMOID_SHAPES, "b", DELTA, "wrong", "not summed over the batch", id="not-summed"),
    pytest.param(REGRESSION, REGRESSION_SHAPES, "w", "2 * X.T @ (X @ w + b - y)", "wrong", "off by 1/n",
                 id="off-by-1-over-n"),
]


@pytest.mark.parametrize(("expr", "shapes", "wrt", "answer", "verdict", "kind"), ANSWERS)
def test_an_answer_gets_its_diagnosis(session, expr, shapes, wrt, answer, verdict, kind, request):
    page, _ = session
    _fill(page, expr, shapes, wrt)
    state, got_verdict, got_kind, text = _answer(page, wrt, answer)
    assert (state, got_verdict, got_kind) == ("done", verdict, kind), text
    _shot(page, f"answer-{request.node.callspec.id}", "#answer-output")


@pytest.mark.parametrize(("answer", "verdict", "kind"), [
    pytest.param("X.T @ (Yhat - onehot(y)) / n", "right", "right", id="right"),
    pytest.param("X.T @ (Yhat - onehot(y))", "wrong", "off by 1/n", id="off-by-1-over-n"),
])
def test_an_answer_with_labels_gets_its_diagnosis(session, answer, verdict, kind, request):
    page, _ = session
    page.click("#example-softmax_labels")
    state, got_verdict, got_kind, text = _answer(page, "W", answer)
    assert (state, got_verdict, got_kind) == ("done", verdict, kind), text
    _shot(page, f"answer-labels-{request.node.callspec.id}", "#answer-output")


STEPS = ["dS = G", "dZ = dS * S * (1 - S)", "dW = X.T @ dZ", "db = sum(dZ, axis=0)", "dX = dZ @ W.T"]


def _grade(page, lines) -> tuple:
    page.fill("#grade-lines", "\n".join(lines))
    page.click("#grade-check")
    page.wait_for_selector("#grade-output[data-state]")
    out = page.locator("#grade-output")
    return out.get_attribute("data-state"), out.get_attribute("data-verdicts"), out.get_attribute("data-kind")


def test_a_right_backward_pass_is_right_line_by_line(session):
    page, _ = session
    _fill(page, SIGMOID, SIGMOID_SHAPES, "W, b, X")
    state, verdicts, kind = _grade(page, STEPS)
    assert (state, verdicts, kind) == ("done", "right right right right right", None), page.inner_text("#grade-output")


@pytest.mark.parametrize(("line", "text", "kind"), [
    pytest.param(2, "dW = dZ.T @ X", "wrong shape, its transpose is right", id="transposed"),
    pytest.param(1, "dZ = dS", "missing sigma'", id="missing-sigma-prime"),
])
def test_a_wrong_step_is_marked_with_its_kind_and_the_engines_step(session, line, text, kind, request):
    page, _ = session
    _fill(page, SIGMOID, SIGMOID_SHAPES, "W, b, X")
    lines = [text if k == line else s for k, s in enumerate(STEPS)]
    state, verdicts, got_kind = _grade(page, lines)
    expected = " ".join("wrong" if k == line else "right" for k in range(len(STEPS)))
    assert (state, verdicts, got_kind) == ("done", expected, kind), page.inner_text("#grade-output")
    first = page.locator("#grade-output .pg-first-wrong")
    assert first.count() == 1 and first.get_attribute("data-line") == str(line + 1)
    assert f"First wrong line ({kind})" in first.inner_text()
    assert first.locator(".pg-grade-step mjx-container").count() == 1, "the engine's step was not typeset"
    assert first.locator("mjx-merror").count() == 0, "MathJax reported a TeX error"
    _shot(page, f"grade-{request.node.callspec.id}", "#grade-output")


def test_a_syntax_error_in_a_step_is_named_on_its_line(session):
    page, _ = session
    _fill(page, SIGMOID, SIGMOID_SHAPES, "W, b, X")
    state, verdicts, _ = _grade(page, ["dS = G", "dZ = dS * (S"])
    assert (state, verdicts) == ("done", "right ungraded")
    assert "Line 2: not valid syntax" in page.inner_text("#grade-output")


def test_a_product_that_does_not_conform_is_named_next_to_the_input(session):
    page, _ = session
    _fill(page, "sum(G * sigmoid(X @ W.T + b))", SIGMOID_SHAPES, "W")
    assert _derive(page) == "error"
    message = page.inner_text("#derive-expr-error")
    assert "X @ W.T" in message and "n×p" in message.replace(" ", "") or "(n, p)" in message, message
    _shot(page, "error-conform", "#derive-output")


@pytest.mark.parametrize("expr", [
    pytest.param("__import__('os').system('true')", id="import"),
    pytest.param("sum(G * open('x'))", id="open"),
    pytest.param("sum(G * X.__class__)", id="dunder"),
])
def test_typed_code_is_never_run(session, expr):
    page, _ = session
    _fill(page, expr, SIGMOID_SHAPES, "W")
    assert _derive(page) == "error"
    assert page.inner_text("#derive-expr-error").strip()


def test_a_bad_shape_line_is_named_next_to_the_shapes(session):
    page, _ = session
    _fill(page, SIGMOID, "X n p\nW: p, q", "W")
    assert _derive(page) == "error"
    assert "line 1" in page.inner_text("#derive-shapes-error")


def test_opened_as_a_file_it_says_to_serve_the_folder(session):
    page, _ = session
    local = page.context.new_page()
    try:
        local.goto((SITE / "playground.html").as_uri(), wait_until="load")
        local.click("#derive-run")
        local.wait_for_selector("#derive-output[data-state]")
        assert local.get_attribute("#derive-output", "data-state") == "error"
        assert "python -m http.server" in local.inner_text("#derive-output")
    finally:
        local.close()


def test_no_request_left_this_machine_and_nothing_failed(session):
    page, log = session
    shipped = {p.name for p in (SITE / "_static" / "pyodide").iterdir()}
    fetched = {u.rsplit("/", 1)[1].split("?")[0] for u in log["requests"] if "/_static/pyodide/" in u}
    assert fetched == shipped, f"Pyodide files shipped but never fetched, or fetched but not shipped: {fetched ^ shipped}"
    assert not log["outside"], f"requests to other hosts (aborted): {log['outside']}"
    assert not log["failed"], f"failed requests: {log['failed']}"
    assert not log["errors"], f"errors in the page: {log['errors']}"
