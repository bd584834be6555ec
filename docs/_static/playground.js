/* The playground page: derivlib's derivation engine in the reader's browser, on Pyodide.
 *
 * Python runs in a Web Worker (_static/playground-worker.js, which documents the
 * messages), so that the page keeps scrolling and answering clicks while Python loads
 * (a few seconds) and while it derives. Pyodide's core and derivlib's pure-Python engine
 * are served with the site (under _static/pyodide/ and _static/playground/) and loaded on
 * the first click, never before. What the reader types is passed to Python as a JSON
 * string, never as Python source; Python answers with JSON (see
 * derivlib/playground/requests.py).
 */
(function () {
  "use strict";

  const STATIC = new URL(".", document.currentScript.src); // .../_static/
  const STAGES = 4;
  const GIVE_UP_MS = 60_000;
  let python = null; // the promise of {derive, answer}, made on the first click
  let worker = null;
  const pending = new Map(); // message id -> {resolve, reject}
  let lastId = 0;
  let firstClick = 0;

  const $ = (id) => document.getElementById(id);

  function status(stage, text) {
    const box = $("pg-status");
    box.hidden = false;
    $("pg-progress").value = stage;
    $("pg-status-text").textContent = text;
    // seconds since the first click at each stage, for the benchmark: "0.00 1.52 ..."
    const marks = box.dataset.stages ? box.dataset.stages.split(" ") : [];
    marks[stage] = ((performance.now() - firstClick) / 1000).toFixed(2);
    box.dataset.stages = marks.join(" ");
  }

  // Ask the worker; the promise settles with its answer (a JSON string) or its error.
  function ask(type, request) {
    return new Promise((resolve, reject) => {
      const id = ++lastId;
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, type, request });
    });
  }

  // Stop the worker and fail what it was asked: the next click starts a new one.
  function stopWorker(error) {
    if (worker !== null) worker.terminate();
    worker = null;
    python = null;
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  }

  async function startPython() {
    const started = (firstClick = performance.now());
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
      pending.delete(data.id);
      if (data.type === "result") waiting.resolve(data.result);
      else waiting.reject(new Error(data.message));
    };
    mine.onerror = (event) => {
      event.preventDefault();
      if (worker !== mine) return;
      stopWorker(new Error(`Python's worker stopped: ${event.message || "its script could not be loaded"}`));
    };
    // a missing or broken file can leave Pyodide waiting forever: give up after a minute
    let timer;
    const giveUp = new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new Error("Python did not start within 60 s (a file of the site may be missing)")), GIVE_UP_MS);
    });
    await Promise.race([giveUp, ask("load")]).finally(() => clearTimeout(timer));
    status(STAGES, `Python and derivlib's engine are ready (loaded in ${seconds()} s).`);
    return {
      derive: (request) => ask("derive", request),
      answer: (request) => ask("answer", request),
      grade: (request) => ask("grade", request),
    };
  }

  function ensurePython() {
    if (location.protocol === "file:") {
      return Promise.reject(new Error(
        "This page was opened as a file: browsers do not let such a page load WebAssembly. " +
        "Serve the site's folder (for example `python -m http.server` in it) and open it from there."));
    }
    if (python === null) {
      python = startPython();
      python.catch((err) => stopWorker(err)); // a failed load can be retried
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
      check.append(element("p", null, result.check.text + (result.check.passed ? ": every step is right." : ".")));
      const steps = element("ul", "pg-check-steps");
      for (const step of result.check.steps) {
        const said = step.verdict === "cannot tell" ? `? cannot tell here: ${step.reason}`
          : `${step.ok ? "✓" : "✗ wrong,"} rel. error ${step.rel_error}`;
        const item = element("li", step.ok ? "pg-step-ok" : "pg-step-wrong", `${step.symbol}: ${said}`);
        steps.append(item);
      }
      check.append(steps);
      const details = element("details", "pg-text");
      details.append(element("summary", null, "The derivation as plain text"), element("pre", null, result.text));
      output.replaceChildren(element("p", "pg-heading", "The derivation, each step with its shape, its differential and the identity used (wide lines scroll sideways):"), math, check, details);
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

  function init() {
    examples();
    $("derive-run").addEventListener("click", runDerive);
    $("answer-check").addEventListener("click", runAnswer);
    $("grade-check").addEventListener("click", runGrade);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
