/* The playground's Python, in a Web Worker, so that the page scrolls and answers clicks
 * while Python loads and while it derives.
 *
 * A module worker started by playground.js when the page is shown and the browser is idle. Pyodide's core and
 * derivlib's pure-Python engine are fetched from this site (_static/pyodide/ and
 * _static/playground/), never from another host.
 *
 * Messages from the page: {id, type: "load"}, then {id, type: "derive" | "answer" | "grade"
 * (or, from the exercises page, "exercise" | "hint"),
 * request} with the request as a JSON string (what the reader typed is never Python source).
 * Messages to the page: {type: "progress", stage} while loading (stages 1 to 3 of the
 * page's progress bar), then {id, type: "result", result} with Python's JSON answer
 * (derivlib/playground/requests.py), or {id, type: "error", message}.
 * {id, type: "hang"} (the browser test's hook for the page's time limit) runs a Python loop
 * that never ends: the page stops this worker when its time limit passes.
 */
const STATIC = new URL(".", import.meta.url); // .../_static/
let python = null; // the promise of {derive, answer}, made by the first "load"

async function startPython() {
  const engineZip = fetch(new URL("playground/derivlib-py.zip", STATIC).href, { cache: "no-cache" })
    .then((response) => {
      if (!response.ok) throw new Error(`derivlib-py.zip: HTTP ${response.status}`);
      return response.arrayBuffer();
    });
  engineZip.catch(() => {}); // awaited below; a failure before then is reported from there
  const { loadPyodide } = await import(new URL("pyodide/pyodide.mjs", STATIC).href);
  self.postMessage({ type: "progress", stage: 1 });
  const pyodide = await loadPyodide({
    indexURL: new URL("pyodide/", STATIC).href,
    stdout: (line) => console.log(line),
    stderr: (line) => console.log(line),
  });
  self.postMessage({ type: "progress", stage: 2 });
  pyodide.unpackArchive(await engineZip, "zip", { extractDir: "/home/pyodide/site" });
  self.postMessage({ type: "progress", stage: 3 });
  pyodide.runPython(
    "import sys\nsys.path.insert(0, '/home/pyodide/site')\n" +
      "from derivlib.playground.requests import derive_request, answer_request, grade_request\n"
  );
  return {
    derive: pyodide.globals.get("derive_request"),
    answer: pyodide.globals.get("answer_request"),
    grade: pyodide.globals.get("grade_request"),
    hang: () => pyodide.runPython("while True:\n    pass\n"),
    ...exerciseRequests(pyodide),
  };
}

// The exercises page's requests (_static/exercises.js): "exercise" grades a key's lines, "hint" gives the next step.
const EXERCISE_TYPES = ["exercise", "hint"];
function exerciseRequests(pyodide) {
  pyodide.runPython("from derivlib.playground.requests import exercise_request, hint_request\n");
  return { exercise: pyodide.globals.get("exercise_request"), hint: pyodide.globals.get("hint_request") };
}

self.onmessage = async ({ data: { id, type, request } }) => {
  try {
    if (type === "load") {
      python ??= startPython();
      await python;
      self.postMessage({ id, type: "result", result: null });
    } else if (type === "derive" || type === "answer" || type === "grade" || type === "hang" ||
               EXERCISE_TYPES.includes(type)) {
      if (python === null) throw new Error(`"${type}" before "load"`);
      self.postMessage({ id, type: "result", result: (await python)[type](request) });
    } else {
      throw new Error(`unknown message type ${JSON.stringify(type)}`);
    }
  } catch (err) {
    self.postMessage({ id, type: "error", message: err.message });
  }
};
