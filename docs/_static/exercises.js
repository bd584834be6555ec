/* The exercises page (docs/exercises.md): each exercise's Check and Hint buttons ask Python,
 * in the playground's Web Worker (_static/playground-worker.js, which documents the
 * messages), started on the first click. The learner's lines and which exercises are
 * solved stay in the browser: localStorage, key "derivlib-exercise:" + the exercise's key.
 */
(function () {
  "use strict";

  const STATIC = new URL(".", document.currentScript.src); // .../_static/
  const GIVE_UP_MS = 60_000;
  const STORE = "derivlib-exercise:";
  let worker = null;
  let python = null; // the promise of the loaded worker
  const pending = new Map();
  let lastId = 0;

  function element(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }

  function ask(type, request) {
    return new Promise((resolve, reject) => {
      const id = ++lastId;
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, type, request });
    });
  }

  function stopWorker(error) {
    if (worker !== null) worker.terminate();
    worker = null;
    python = null;
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  }

  function ensurePython() {
    if (location.protocol === "file:") {
      return Promise.reject(new Error("This page was opened as a file: browsers do not let such a page load " +
        "WebAssembly. Serve the site's folder (for example `python -m http.server` in it) and open it from there."));
    }
    if (python !== null) return python;
    const mine = (worker = new Worker(new URL("playground-worker.js", STATIC), { type: "module" }));
    mine.onmessage = ({ data }) => {
      if (worker !== mine || data.type === "progress") return;
      const waiting = pending.get(data.id);
      pending.delete(data.id);
      if (data.type === "result") waiting.resolve(data.result);
      else waiting.reject(new Error(data.message));
    };
    mine.onerror = (event) => {
      event.preventDefault();
      if (worker === mine) stopWorker(new Error(`Python's worker stopped: ${event.message || "its script could not be loaded"}`));
    };
    let timer;
    const giveUp = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error("Python did not start within 60 s (a file of the site may be missing)")), GIVE_UP_MS);
    });
    python = Promise.race([giveUp, ask("load")]).finally(() => clearTimeout(timer));
    python.catch((err) => stopWorker(err));
    return python;
  }

  function load(key) {
    try {
      return JSON.parse(localStorage.getItem(STORE + key)) || { lines: "", solved: false };
    } catch (err) {
      return { lines: "", solved: false };
    }
  }

  function save(key, state) {
    try {
      localStorage.setItem(STORE + key, JSON.stringify(state));
    } catch (err) { /* storage full or disabled: the page still works */ }
  }

  async function typeset(box) {
    if (window.MathJax && MathJax.typesetPromise) {
      if (MathJax.typesetClear) MathJax.typesetClear([box]);
      await MathJax.typesetPromise([box]);
    }
  }

  function markSolved(section, solved) {
    section.querySelector(".ex-solved").hidden = !solved;
    section.dataset.solved = solved ? "yes" : "no";
  }

  async function check(section) {
    const key = section.dataset.key;
    const lines = section.querySelector(".ex-lines");
    const output = section.querySelector(".ex-output");
    const error = section.querySelector(".ex-error");
    delete output.dataset.state;
    error.textContent = "";
    output.replaceChildren(element("p", "pg-heading", "Checking (the first click loads Python, a few seconds)…"));
    try {
      await ensurePython();
      const result = JSON.parse(await ask("exercise", JSON.stringify({ key, lines: lines.value })));
      if (!result.ok) {
        error.textContent = result.message;
        output.replaceChildren();
        output.dataset.state = "error";
        return;
      }
      const MARK = { right: "✓", wrong: "✗", ungraded: "·" };
      const list = element("ol", "pg-grade-lines");
      result.lines.forEach((line, k) => {
        const item = element("li", `pg-grade-line pg-${line.verdict}`);
        item.dataset.verdict = line.verdict;
        item.append(element("span", "pg-grade-mark", `${MARK[line.verdict]} `), element("span", null, line.message));
        if (k === result.first_wrong) {
          item.classList.add("pg-first-wrong");
          item.dataset.kind = line.kind || "";
          item.prepend(element("strong", "pg-grade-kind", `First wrong line${line.kind ? ` (${line.kind})` : ""}. `));
        }
        list.append(item);
      });
      const said = result.solved ? "Solved: every gradient asked for is right."
        : `Still to get right: ${result.missing.join(", ")}.`;
      output.replaceChildren(element("p", "pg-heading", said), list);
      output.dataset.verdicts = result.lines.map((line) => line.verdict).join(" ");
      output.dataset.kind = result.first_wrong === null ? "" : result.lines[result.first_wrong].kind || "";
      const state = load(key);
      state.solved = state.solved || result.solved;
      state.lines = lines.value;
      save(key, state);
      markSolved(section, state.solved);
      output.dataset.state = "done";
    } catch (err) {
      output.replaceChildren(element("p", "pg-failure", `The exercise could not be checked: ${err.message}`));
      output.dataset.state = "error";
    }
  }

  // One part more of the next step's hint each click: differential, identity, then the step.
  async function hint(section) {
    const key = section.dataset.key;
    const box = section.querySelector(".ex-hints");
    delete box.dataset.state;
    try {
      await ensurePython();
      const lines = section.querySelector(".ex-lines").value;
      const result = JSON.parse(await ask("hint", JSON.stringify({ key, lines })));
      if (!result.ok) {
        box.replaceChildren(element("p", "pg-failure", result.message));
        box.dataset.state = "error";
        return;
      }
      if (result.done) {
        box.replaceChildren(element("p", "pg-heading", "Nothing left to hint: every gradient asked for is right."));
        box.dataset.level = "0";
        box.dataset.state = "done";
        return;
      }
      const level = box.dataset.step === result.name ? Math.min(3, Number(box.dataset.level) + 1) : 1;
      const parts = [element("p", "pg-heading", `${result.why} Hint ${level} of 3 for ${result.name}:`)];
      parts.push(element("p", "ex-hint-part", "Its differential:"),
        element("div", "math notranslate nohighlight", `\\[${result.differential_latex}\\]`));
      if (level >= 2 && result.identity_latex) {
        parts.push(element("p", "ex-hint-part", "The identity that gives the gradient:"),
          element("div", "math notranslate nohighlight", `\\[${result.identity_latex}\\]`));
      }
      if (level >= 3) {
        parts.push(element("p", "ex-hint-part", "The step:"),
          element("div", "math notranslate nohighlight", `\\[\\begin{aligned}${result.latex}\\end{aligned}\\]`));
        if (result.line) parts.push(element("pre", "ex-hint-line", result.line));
      }
      box.replaceChildren(...parts);
      box.dataset.step = result.name;
      box.dataset.level = String(level);
      await typeset(box);
      box.dataset.state = "done";
    } catch (err) {
      box.replaceChildren(element("p", "pg-failure", `No hint: ${err.message}`));
      box.dataset.state = "error";
    }
  }

  function init() {
    for (const section of document.querySelectorAll("section.exercise")) {
      const key = section.dataset.key;
      const lines = section.querySelector(".ex-lines");
      const state = load(key);
      lines.value = state.lines;
      markSolved(section, state.solved);
      lines.addEventListener("input", () => save(key, { ...load(key), lines: lines.value }));
      section.querySelector(".ex-check").addEventListener("click", () => check(section));
      section.querySelector(".ex-hint").addEventListener("click", () => hint(section));
    }
    openTarget();
    window.addEventListener("hashchange", openTarget);
  }

  // A link to an exercise's anchor (#ex-KEY) opens it: its box gets the focus.
  function openTarget() {
    const target = location.hash && document.getElementById(location.hash.slice(1));
    if (target && target.classList.contains("exercise")) {
      target.classList.add("ex-target");
      target.querySelector(".ex-lines").focus({ preventScroll: true });
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
