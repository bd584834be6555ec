/* The playground page: derivlib's derivation engine in the reader's browser, on Pyodide.
 *
 * Python runs in a Web Worker (_static/playground-worker.js, which documents the
 * messages), so that the page keeps scrolling and answering clicks while Python loads
 * (a few seconds) and while it derives. Pyodide's core and derivlib's pure-Python engine
 * are served with the site (under _static/pyodide/ and _static/playground/) and start
 * loading as soon as the page is shown and the browser is idle, so that a reader who types
 * for a few seconds gets the first answer without waiting. What the reader types is passed
 * to Python as a JSON string, never as Python source; Python answers with JSON (see
 * derivlib/playground/requests.py). Every request has a time limit: past it, the worker is
 * stopped and a new one started.
 *
 * The inputs are kept in the page's URL fragment (#expr=...&shapes=...), so that a link
 * opens the same derivation; nothing is sent anywhere. Each derivation can be copied as
 * LaTeX or as numpy, whole or one step at a time.
 */
(function () {
  "use strict";

  const STATIC = new URL(".", document.currentScript.src); // .../_static/
  const STAGES = 4;
  const GIVE_UP_MS = 60_000; // for Python to start
  const REQUEST_MS = 20_000; // for one request once Python has started
  let python = null; // the promise of {derive, answer}, made when the page is idle or on a click
  let worker = null;
  const pending = new Map(); // message id -> {resolve, reject, timer}
  let lastId = 0;
  let loadStarted = 0;

  const $ = (id) => document.getElementById(id);

  function status(stage, text) {
    const box = $("pg-status");
    box.hidden = false;
    $("pg-progress").value = stage;
    $("pg-status-text").textContent = text;
    // seconds since Python started loading at each stage, for the benchmark: "0.00 1.52 ..."
    const marks = box.dataset.stages ? box.dataset.stages.split(" ") : [];
    marks[stage] = ((performance.now() - loadStarted) / 1000).toFixed(2);
    box.dataset.stages = marks.join(" ");
    box.dataset.ready = String(stage === STAGES);
  }

  // Ask the worker; the promise settles with its answer (a JSON string) or its error, or
  // fails with `late` (an Error) when no answer came within `limit` ms.
  function ask(type, request, limit, late) {
    return new Promise((resolve, reject) => {
      const id = ++lastId;
      const timer = setTimeout(() => onLate(late), limit);
      pending.set(id, { resolve, reject, timer });
      worker.postMessage({ id, type: testHook(type), request });
    });
  }

  // Stop the worker and fail what it was asked: the next request starts a new one.
  function stopWorker(error) {
    if (worker !== null) worker.terminate();
    worker = null;
    python = null;
    for (const { reject, timer } of pending.values()) {
      clearTimeout(timer);
      reject(error);
    }
    pending.clear();
  }

  async function startPython() {
    const started = (loadStarted = performance.now());
    const seconds = () => ((performance.now() - started) / 1000).toFixed(1);
    const stages = {
      1: () => "Starting Python…",
      2: () => `Python started (${seconds()} s); loading derivlib's engine…`,
      3: () => "Importing the engine…",
    };
    status(0, "Loading Python in your browser (Pyodide, about 13 MB from this site, once)…");
    const mine = (worker = new Worker(new URL("playground-worker.js", STATIC), { type: "module" }));
    mine.onmessage = ({ data }) => {
      if (worker !== mine) return; // a worker given up on
      if (data.type === "progress") {
        status(data.stage, stages[data.stage]());
        return;
      }
      const waiting = pending.get(data.id);
      if (waiting === undefined) return; // given up on
      pending.delete(data.id);
      clearTimeout(waiting.timer);
      if (data.type === "result") waiting.resolve(data.result);
      else waiting.reject(new Error(data.message));
    };
    mine.onerror = (event) => {
      event.preventDefault();
      if (worker !== mine) return;
      stopWorker(new Error(`Python's worker stopped: ${event.message || "its script could not be loaded"}`));
    };
    // a missing or broken file can leave Pyodide waiting forever: give up after a minute
    await ask("load", null, GIVE_UP_MS,
      { message: "Python did not start within 60 s (a file of the site may be missing)", restart: false });
    status(STAGES, `Python and derivlib's engine are ready (loaded in ${seconds()} s).`);
    const late = {
      message: `The engine did not answer within ${REQUEST_MS / 1000} s, so Python was stopped and is ` +
        "starting again. A large network can take that long: try fewer variables to differentiate, " +
        "or smaller numbered dimensions.",
      restart: true,
    };
    return {
      derive: (request) => ask("derive", request, REQUEST_MS, late),
      answer: (request) => ask("answer", request, REQUEST_MS, late),
      grade: (request) => ask("grade", request, REQUEST_MS, late),
    };
  }

  // A request past its time limit: stop Python (it may be stuck in a loop) and, for a
  // request to a Python that had started, start a new one at once.
  function onLate({ message, restart }) {
    stopWorker(new Error(message));
    if (restart) {
      status(0, "Python was stopped after a request took too long; starting it again…");
      ensurePython().catch(() => {});
    }
  }

  // For the browser test only: with window.pgTestHang set, a request is sent as "hang",
  // which the worker answers never (Python loops), so that the time limit can be seen.
  function testHook(type) {
    return type !== "load" && window.pgTestHang === true ? "hang" : type;
  }

  // Start loading Python once the page is shown and the browser is idle, before any click.
  function preloadPython() {
    if (location.protocol === "file:") return; // said on the first click (ensurePython)
    const idle = window.requestIdleCallback
      ? (run) => window.requestIdleCallback(run, { timeout: 2000 })
      : (run) => setTimeout(run, 200);
    const start = () => idle(() => {
      if (python !== null) return;
      ensurePython().catch((err) => {
        $("pg-status-text").textContent = `Python could not load: ${err.message}. A click on "Derive and check" tries again.`;
      });
    });
    if (document.visibilityState === "visible") {
      start();
      return;
    }
    const onShown = () => {
      if (document.visibilityState !== "visible") return;
      document.removeEventListener("visibilitychange", onShown);
      start();
    };
    document.addEventListener("visibilitychange", onShown);
  }

  function ensurePython() {
    if (location.protocol === "file:") {
      return Promise.reject(new Error(
        "This page was opened as a file: browsers do not let such a page load WebAssembly. " +
        "Serve the site's folder (for example `python -m http.server` in it) and open it from there."));
    }
    if (python === null) {
      const mine = (python = startPython());
      mine.catch((err) => { if (python === mine) stopWorker(err); }); // a failed load can be retried
    }
    return python;
  }

  function clearErrors(ids) {
    for (const id of ids) {
      const box = $(`${id}-error`);
      box.textContent = "";
      $(id).removeAttribute("aria-invalid");
    }
  }

  function showInputError(id, message) {
    $(`${id}-error`).textContent = message;
    $(id).setAttribute("aria-invalid", "true");
  }

  const FIELDS = { expr: "derive-expr", shapes: "derive-shapes", wrt: "derive-wrt" };

  function finish(output, state, started) {
    output.dataset.seconds = ((performance.now() - started) / 1000).toFixed(3);
    output.dataset.state = state;
  }

  function element(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }

  function failure(output, text) {
    output.replaceChildren(element("p", "pg-failure", text));
  }

  async function runDerive() {
    const started = performance.now();
    const output = $("derive-output");
    delete output.dataset.state;
    delete output.dataset.steps;
    clearErrors(Object.values(FIELDS));
    writeState();
    const request = JSON.stringify({ expr: $("derive-expr").value, shapes: $("derive-shapes").value, wrt: $("derive-wrt").value });
    try {
      const api = await ensurePython();
      const result = JSON.parse(await api.derive(request));
      if (!result.ok && result.field === "internal") {
        failure(output, result.message);
        finish(output, "error", started);
        return;
      }
      if (!result.ok) {
        showInputError(FIELDS[result.field], result.message);
        failure(output, "Nothing derived: see the message next to the input.");
        finish(output, "error", started);
        return;
      }
      const math = element("div", "math notranslate nohighlight", `\\[${result.latex}\\]`);
      // the check's verdict in words: right, wrong, or cannot tell here (with the reason and what to try)
      const check = element("div", result.check.passed ? "pg-check pg-passed" : "pg-check pg-failed");
      check.dataset.verdict = result.check.verdict;
      const all = result.loop ? ": every gradient is right." : ": every step is right.";
      check.append(element("p", null, result.check.text + (result.check.passed ? all : ".")));
      const steps = element("ul", "pg-check-steps");
      for (const step of result.check.steps) {
        const said = step.verdict === "cannot tell" ? `? cannot tell here: ${step.reason}`
          : `${step.ok ? "✓" : "✗ wrong,"} ${step.measure ? `error ${step.measure}` : `rel. error ${step.rel_error}`}`;
        const item = element("li", step.ok ? "pg-step-ok" : "pg-step-wrong", `${step.symbol}: ${said}`);
        steps.append(item);
      }
      check.append(steps);
      const details = element("details", "pg-text");
      details.append(element("summary", null, "The derivation as plain text"), element("pre", null, result.text));
      const heading = result.loop
        ? "The loop derived once, as a recurrence: the forward step at t, the backward loop t = T … 1, the shared weights' gradients as sums over t (wide lines scroll sideways):"
        : "The derivation, each step with its shape, its differential and the identity used (wide lines scroll sideways):";
      output.replaceChildren(element("p", "pg-heading", heading), math, copyButtons(result), check, details);
      if (window.MathJax && MathJax.typesetPromise) {
        if (MathJax.typesetClear) MathJax.typesetClear([output]);
        await MathJax.typesetPromise([output]);
      }
      output.dataset.steps = result.steps.map((step) => step.name).join(" ");
      finish(output, result.check.passed ? "done" : "error", started);
    } catch (err) {
      failure(output, `The playground could not run: ${err.message}`);
      finish(output, "error", started);
    }
  }

  async function runAnswer() {
    const started = performance.now();
    const output = $("answer-output");
    delete output.dataset.state;
    delete output.dataset.verdict;
    clearErrors([...Object.values(FIELDS), "answer-wrt", "answer-expr"]);
    writeState();
    const request = JSON.stringify({
      expr: $("derive-expr").value, shapes: $("derive-shapes").value, wrt: $("derive-wrt").value,
      answer_wrt: $("answer-wrt").value, answer_expr: $("answer-expr").value,
    });
    try {
      const api = await ensurePython();
      const result = JSON.parse(await api.answer(request));
      if (!result.ok && result.field === "internal") {
        failure(output, result.message);
        finish(output, "error", started);
        return;
      }
      if (!result.ok) {
        showInputError(FIELDS[result.field] || result.field, result.message);
        failure(output, "Nothing checked: see the message next to the input.");
        finish(output, "error", started);
        return;
      }
      const verdict = element("p", `pg-verdict pg-${result.verdict}`, result.message);
      verdict.dataset.kind = result.kind;
      output.replaceChildren(verdict);
      output.dataset.verdict = result.verdict;
      output.dataset.kind = result.kind;
      finish(output, "done", started);
    } catch (err) {
      failure(output, `The playground could not run: ${err.message}`);
      finish(output, "error", started);
    }
  }

  // "Check my steps": one verdict per line; the first wrong line with its kind and the engine's step
  async function runGrade() {
    const started = performance.now();
    const output = $("grade-output");
    delete output.dataset.state;
    delete output.dataset.verdicts;
    delete output.dataset.kind;
    clearErrors([...Object.values(FIELDS), "grade-lines"]);
    const request = JSON.stringify({
      expr: $("derive-expr").value, shapes: $("derive-shapes").value, wrt: $("derive-wrt").value,
      lines: $("grade-lines").value,
    });
    writeState();
    try {
      const api = await ensurePython();
      const result = JSON.parse(await api.grade(request));
      if (!result.ok && result.field === "internal") {
        failure(output, result.message);
        finish(output, "error", started);
        return;
      }
      if (!result.ok) {
        showInputError(result.field === "steps" ? "grade-lines" : FIELDS[result.field], result.message);
        failure(output, "Nothing checked: see the message next to the input.");
        finish(output, "error", started);
        return;
      }
      const MARK = { right: "✓", wrong: "✗", ungraded: "·" };
      const list = element("ol", "pg-grade-lines");
      result.lines.forEach((line, k) => {
        const item = element("li", `pg-grade-line pg-${line.verdict}`);
        item.dataset.verdict = line.verdict;
        item.dataset.line = line.line;
        item.append(element("span", "pg-grade-mark", `${MARK[line.verdict]} `), element("span", null, line.message));
        if (k === result.first_wrong) {
          item.classList.add("pg-first-wrong");
          item.dataset.kind = line.kind || "";
          if (line.kind) item.prepend(element("strong", "pg-grade-kind", `First wrong line (${line.kind}). `));
          else item.prepend(element("strong", "pg-grade-kind", "First wrong line. "));
          if (line.step) {
            const engine = element("details", "pg-grade-step");
            engine.open = true;
            engine.append(
              element("summary", null, "The engine's version of this step, with its differential and identity:"),
              element("div", "math notranslate nohighlight", `\\[\\begin{aligned}${line.step.latex}\\end{aligned}\\]`),
              element("pre", null, line.step.text));
            item.append(engine);
          }
        }
        list.append(item);
      });
      const counts = { right: 0, wrong: 0, ungraded: 0 };
      for (const line of result.lines) counts[line.verdict] += 1;
      const summary = `${counts.right} right, ${counts.wrong} wrong, ${counts.ungraded} not graded.`;
      output.replaceChildren(element("p", "pg-heading", summary), list);
      if (window.MathJax && MathJax.typesetPromise) {
        if (MathJax.typesetClear) MathJax.typesetClear([output]);
        await MathJax.typesetPromise([output]);
      }
      output.dataset.verdicts = result.lines.map((line) => line.verdict).join(" ");
      if (result.first_wrong !== null) output.dataset.kind = result.lines[result.first_wrong].kind || "";
      finish(output, "done", started);
    } catch (err) {
      failure(output, `The playground could not run: ${err.message}`);
      finish(output, "error", started);
    }
  }

  function examples() {
    const data = $("pg-examples-data");
    const box = $("pg-examples");
    if (!data || !box) return;
    box.append(element("span", "pg-examples-label", "Examples: "));
    for (const example of JSON.parse(data.textContent)) {
      const button = element("button", "pg-example", example.name);
      button.type = "button";
      button.id = `example-${example.key}`;
      button.addEventListener("click", () => {
        $("derive-expr").value = example.expr;
        $("derive-expr").rows = Math.max(2, example.expr.split("\n").length);
        $("derive-shapes").value = example.shapes;
        $("derive-shapes").rows = Math.max(4, example.shapes.split("\n").length);
        $("derive-wrt").value = example.wrt;
        $("answer-wrt").value = example.wrt.split(",")[0].trim();
        clearErrors([...Object.values(FIELDS), "answer-wrt", "answer-expr", "grade-lines"]);
        $("derive-expr").focus();
      });
      box.append(button);
    }
  }

  // -- Share: the inputs in the URL fragment, and copy buttons --------------------------------

  // fragment key -> input id; only the inputs on the page are kept
  const SHARED = { expr: "derive-expr", shapes: "derive-shapes", wrt: "derive-wrt", answer_wrt: "answer-wrt", answer: "answer-expr", lines: "grade-lines" };

  function stateFragment() {
    const params = new URLSearchParams();
    for (const [key, id] of Object.entries(SHARED)) if ($(id)) params.set(key, $(id).value);
    return "#" + params.toString();
  }

  // Keep the inputs in the URL (replacing the entry: no new history step, nothing sent anywhere).
  function writeState() {
    history.replaceState(history.state, "", stateFragment());
  }

  // Fill the inputs from a fragment written by writeState; true when it held an expression.
  function readState() {
    const params = new URLSearchParams(location.hash.slice(1));
    if (!params.has("expr")) return false;
    for (const [key, id] of Object.entries(SHARED)) {
      if ($(id) && params.has(key)) $(id).value = params.get(key);
    }
    $("derive-shapes").rows = Math.max(4, $("derive-shapes").value.split("\n").length);
    $("derive-expr").rows = Math.max(2, $("derive-expr").value.split("\n").length);
    return true;
  }

  async function copyText(text) {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // no clipboard API (or no permission): the old way, through a selected text area
      const area = element("textarea");
      area.value = text;
      document.body.append(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
  }

  // A button that copies its data-copy text and says so for a moment.
  function copyButton(label, text, title) {
    const button = element("button", "pg-copy-button", label);
    button.type = "button";
    button.dataset.copy = text;
    if (title) button.title = title;
    button.addEventListener("click", async () => {
      await copyText(button.dataset.copy);
      button.dataset.copied = "true";
      button.textContent = "Copied";
      setTimeout(() => { button.textContent = label; }, 1500);
    });
    return button;
  }

  // The copy buttons of a derivation: all of it as LaTeX, its numpy backward, and each step.
  function copyButtons(result) {
    const box = element("div", "pg-copy");
    box.append(
      element("span", "pg-copy-label", "Copy: "),
      copyButton("LaTeX", result.latex, "the derivation as one LaTeX aligned block"),
      copyButton("numpy", result.numpy, "the generated numpy backward(...) function"),
    );
    const each = element("details", "pg-copy-steps");
    each.append(element("summary", null, "Copy one step"));
    const table = element("table");
    for (const step of result.steps) {
      const row = element("tr");
      row.dataset.step = step.name;
      const numpy = step.numpy === null
        ? element("td", "pg-copy-none", result.loop ? "(inside the generated code's loops: copy it whole)" : "(not in the generated code)")
        : element("td");
      if (step.numpy !== null) numpy.append(copyButton("numpy", step.numpy, "this step's line of the generated code"));
      const latexCell = element("td");
      latexCell.append(copyButton("LaTeX", step.latex, "this step's equation"));
      row.append(element("td", "pg-copy-name", step.name), latexCell, numpy);
      table.append(row);
    }
    each.append(table);
    box.append(each);
    return box;
  }

  function shareLinkButton() {
    const button = $("share-link");
    if (!button) return;
    button.addEventListener("click", async () => {
      writeState();
      button.dataset.copy = location.href;
      await copyText(location.href);
      $("share-link-status").textContent = "Link copied: it opens this page with these inputs (nothing is sent anywhere).";
    });
  }

  function init() {
    examples();
    $("derive-run").addEventListener("click", runDerive);
    $("answer-check").addEventListener("click", runAnswer);
    $("grade-check").addEventListener("click", runGrade);
    shareLinkButton();
    window.addEventListener("hashchange", () => { if (readState()) runDerive(); });
    if (readState()) runDerive(); // a shared link: derive at once
    else preloadPython();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
