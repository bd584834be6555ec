"""Known gaps: inputs derivlib does not yet handle with a correct answer or a clear error.

Each :class:`Gap` carries a reproducer, ``still_open()``, that returns True while the gap
exists. The reliability page lists :func:`open_gaps`, computed at build time, and fails
the build when a recorded gap is fixed (until its entry is removed): no page states a gap
the code no longer has. ``tests/test_bad_input.py`` checks :func:`open_gaps` itself.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

__all__ = ["Gap", "GAPS", "open_gaps"]


class Gap(NamedTuple):
    id: str
    what: str  # one sentence for the reader: the input, and what happens instead
    still_open: Callable[[], bool]


#: Every known gap. Empty: the last ones (zero classes, ragged lists, ``eps=0``,
#: ``n_directions=0``, ...) were fixed and are now tested in tests/test_bad_input.py.
GAPS: list = []


def open_gaps(gaps=None) -> list:
    """The gaps whose reproducer still reproduces them, in catalogue order."""
    return [g for g in (GAPS if gaps is None else gaps) if g.still_open()]
