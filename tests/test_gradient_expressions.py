"""Every gradient expression of a derivation renders as text, LaTeX, repr and numpy source
(a gradient that is its own step is held in a node the renderers read through)."""

from __future__ import annotations

import pytest

from derivlib import derive
from derivlib.engine.render import latex, source, text
from derivlib.playground.gallery import GALLERY, HAND

NETWORKS = [pytest.param(e, id=e.key) for e in HAND + GALLERY]


@pytest.mark.parametrize("e", NETWORKS)
def test_every_gradient_expression_renders(e):
    d = derive(e.expr, shapes=e.shapes, wrt=list(e.wrt), indices=e.indices)
    for v, node in d.gradient_expressions.items():
        assert text(node) and latex(node) and repr(node) and source(node), v
