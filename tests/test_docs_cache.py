"""The docs' execution cache key covers every input of an executed page.

A cached ``make docs`` re-executes the pages exactly when the key of
``conf/derivlib_sphinx.py`` changes (the cache lives at ``jupyter_cache/<key>``, and the
key is a Sphinx "env" value, so every page is re-read). Here each kind of input a page
reads besides itself (the library, the evidence package, the generated data) is edited
in a scratch copy, and the key must change; a file outside the inputs must not change it.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

for _module in ("nbformat", "jupyter_cache"):  # conf/derivlib_sphinx.py imports both (the docs extra)
    pytest.importorskip(_module, reason=f"conf/derivlib_sphinx.py needs {_module}, from the docs extra: "
                                        "pip install -e '.[docs]'")

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("derivlib_sphinx", ROOT / "conf" / "derivlib_sphinx.py")
ext = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ext)

EDITS = [
    pytest.param("derivlib/primitives.py", id="library-edit"),
    pytest.param("derivlib/engine_new_module.py", id="library-new-file"),
    pytest.param("verification/mutants.py", id="evidence-package-edit"),
    pytest.param("verification/claims/thread_000.py", id="evidence-package-subfolder"),
    pytest.param("docs/_generated/mutation.md", id="generated-mutation-table"),
    pytest.param("docs/_generated/benchmarks/gradcheck.json", id="generated-benchmark-results"),
]


@pytest.fixture
def tree(tmp_path):
    """A scratch copy of the inputs (and one file that is not an input)."""
    for folder in ext.INPUTS:
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "README.md").write_text("not an input of any page\n")
    return tmp_path


def test_inputs_are_the_library_the_evidence_and_the_generated_data():
    assert ext.INPUTS == ("derivlib", "verification", "docs/_generated")


@pytest.mark.parametrize("path", EDITS)
def test_a_change_to_an_input_changes_the_key(tree, path):
    before = ext.cache_key(tree)
    target = tree / path
    target.write_text((target.read_text() if target.exists() else "") + "\n# edited\n")
    assert ext.cache_key(tree) != before


def test_a_change_elsewhere_keeps_the_key(tree):
    before = ext.cache_key(tree)
    (tree / "README.md").write_text("edited\n")
    (tree / "derivlib" / "__pycache__").mkdir(exist_ok=True)
    (tree / "derivlib" / "__pycache__" / "x.pyc").write_bytes(b"bytecode")
    assert ext.cache_key(tree) == before


def test_the_cache_lives_under_the_key_and_other_keys_are_deleted(tmp_path):
    stale = tmp_path / "jupyter_cache" / "0123456789abcdef"
    stale.mkdir(parents=True)
    config = SimpleNamespace(nb_execution_cache_path="", derivlib_inputs_key="fedcba9876543210")
    ext.use_keyed_cache(SimpleNamespace(outdir=str(tmp_path / "html")), config)
    assert config.nb_execution_cache_path == str(tmp_path / "jupyter_cache" / "fedcba9876543210")
    assert not stale.exists()
