"""The site's hand-derived layers, found from the shared cases: the "Layers" toctree and
the API page's module sections.

A layer is a case of ``verification/cases.py`` (its module ``derivlib/<name>.py``, its page
``docs/<name>.md``). Before a page is parsed, the line ``{LAYER_PAGES}`` of the home page's
toctree becomes one line per layer, and the line ``{LAYER_MODULES}`` of the API page one
``automodule`` section per layer, in the order of the cases. A page without its layer's
file is an unknown document, which fails the build.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # verification/ is imported from the checkout
    sys.path.insert(0, str(ROOT))

#: The placeholder lines this extension replaces.
PAGES, MODULES = "{LAYER_PAGES}", "{LAYER_MODULES}"


def layer_names() -> list:
    """The layers, in the order of the shared cases."""
    from verification.cases import CASES

    return list(CASES)


def module_sections(names) -> str:
    """One ``## derivlib.<name>`` section with its ``automodule`` per layer, in MyST."""
    return "\n".join(f"## derivlib.{name}\n\n```{{eval-rst}}\n.. automodule:: derivlib.{name}\n```\n"
                     for name in names)


def expand(source: str, names) -> str:
    """The page's text with each placeholder line replaced by the layers' lines."""
    lines = []
    for line in source.split("\n"):
        if line.strip() == PAGES:
            lines += list(names)
        elif line.strip() == MODULES:
            lines.append(module_sections(names))
        else:
            lines.append(line)
    return "\n".join(lines)


def _source_read(app, docname, source):
    source[0] = expand(source[0], layer_names())


def setup(app):
    app.connect("source-read", _source_read)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
