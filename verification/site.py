"""The built site served on 127.0.0.1, and the Chromium that opens it, for the browser tests
and the playground benchmark."""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from pathlib import Path

#: Debian's Chromium (package chromium).
CHROMIUM = Path("/usr/bin/chromium")
#: Without the background-networking flags Chromium tries hosts this machine cannot reach.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

#: JavaScript for the playground page: record the time of every animation frame from before the
#: first click, with the loading bar's stage then (4: Python is ready) ...
FRAMES = """() => {
  window.pgFrames = [];
  const frame = () => { // when the frame's callback runs (its argument is when the frame began)
    window.pgFrames.push([performance.now(), document.getElementById("pg-progress").value]);
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}"""
#: ... and the longest wait for the next frame while Python loads, in seconds.
LONGEST_WAIT = """() => {
  const f = window.pgFrames;
  const waits = f.slice(1).map(([t], i) => [t - f[i][0], f[i][1]]); // [wait, stage at its start]
  return Math.max(...waits.filter(([, stage]) => stage < 4).map(([wait]) => wait)) / 1000;
}"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


@contextlib.contextmanager
def serve(site: Path):
    """Serve the folder ``site`` on 127.0.0.1 at an ephemeral port, in a thread; yield its URL."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
