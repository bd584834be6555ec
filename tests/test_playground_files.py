"""The playground's zip of derivlib (conf/playground_ext.py) holds every module its code imports:
unpacked alone, without numpy, it checks an answer as the page does."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _playground_ext():
    spec = importlib.util.spec_from_file_location("playground_ext", ROOT / "conf" / "playground_ext.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_unpacked_zip_checks_an_answer_without_numpy(tmp_path):
    _playground_ext().write_engine_zip(tmp_path / "derivlib-py.zip")
    code = ("import sys, json, zipfile\n"
            "sys.modules['numpy'] = None\n"
            f"zipfile.ZipFile({str(tmp_path / 'derivlib-py.zip')!r}).extractall({str(tmp_path / 'unpacked')!r})\n"
            f"sys.path[:] = [{str(tmp_path / 'unpacked')!r}] + [p for p in sys.path if 'site-packages' not in p "
            f"and p not in ('', {str(ROOT)!r})]\n"
            "from derivlib.engine import derive\n"
            "from derivlib.playground.answer import check_answer\n"
            "shapes = {'X': ('n', 'p'), 'W': ('p', 'q'), 'G': ('n', 'q')}\n"
            "expr = 'sum(G * sigmoid(X @ W))'\n"
            "v = check_answer(derive(expr, shapes, wrt=['W']), expr, shapes, 'W', '-X.T @ (G * S * (1 - S))')\n"
            "print(json.dumps([v.kind, v.diagnosis.value, sys.modules['derivlib'].__file__]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-600:]
    kind, diagnosis, where = json.loads(out.stdout)
    assert (kind, diagnosis) == ("sign flipped", "sign-flipped") and where.startswith(str(tmp_path))
