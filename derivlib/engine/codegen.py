"""A derivation as a standalone numpy function (standard library only): ``backward``, the
steps its gradients need, in order. Each expression's numpy source is
:func:`derivlib.engine.npsource.source`'s.
"""

from __future__ import annotations

import ast

from . import dims
from .naming import fresh, topo
from .nodes import Coef, fmt_shape
from .npsource import source, spread
from .rules import NAMES, np_helper

__all__ = ["numpy_source"]

#: The functions whose numpy source is a helper that the generated code defines (row order).
_HELPERS = tuple(k[1:] for k in NAMES if k != "np")


def numpy_source(d):
    """Source of a standalone ``backward(**variables)`` of derivation ``d``: see
    :meth:`derivlib.engine.derivation.Derivation.numpy_source`."""
    params = [v for v in d.shapes if v in d.variables] + list(d.index_vectors)
    taken = set(d._taken) | {s.name for s in d.steps}
    ns = {k: fresh(k, taken) for k in (*NAMES, "_")}  # numpy and the helpers: never a reader's name
    np = ns["np"]
    lines = ["import numpy" if np == "numpy" else f"import numpy as {np}", "", ""]
    used = {n.op for s in d.steps for n in topo(s.node)}
    for op in (h for h in _HELPERS if h in used):  # the helpers the steps call, from their rows
        lines += np_helper(op, ns) + ["", ""]
    grads = {v: d._adjoint_step[v].name for v in d.wrt}
    rows = _kept_rows(d.steps, set(grads.values()))
    body, needed = [], set(grads.values())
    for s in reversed(d.steps):  # only the steps the gradients need (not the loss itself)
        node = s.node.args[0] if s.node.op == "let" else s.node
        if s.name in rows:  # a row (column) spread by ones that numpy broadcasts where it is used
            rhs = source(rows[s.name], top=True, names=ns)
            shape = f"{fmt_shape(rows[s.name].shape)}, broadcast to {fmt_shape(s.shape)} where used"
        else:
            rhs, shape = source(node, top=True, names=ns), fmt_shape(s.shape)
        if s.name in needed:
            body.append(f"    {s.name} = {rhs}  # {shape}")
            needed |= {n.id for n in ast.walk(ast.parse(rhs)) if isinstance(n, ast.Name)}
    declared = {**d.shapes, **{y: d.indices[y][:1] for y in d.index_vectors}}  # y: (n,)
    sized = {x for v in params for dim in declared[v] for x in dims.names(dim)}
    for v, shape in d.shapes.items():  # a size the steps read from a variable the loss does not use
        names = {x for dim in shape for x in dims.names(dim)}
        if v not in params and names & needed - sized:
            params.append(v)
            sized |= names
    lines.append(f"def backward({', '.join(params)}):")
    lines.append(f'    """Gradients with respect to {", ".join(d.wrt)} of the loss L of')
    parts = [p.strip() for p in d.expr.replace("\\\n", " ").replace("\n", ";").split(";") if p.strip()]
    lines.append("    " + ";\n    ".join(parts))
    lines.append('    """')
    bound = set()
    for v in params:
        shape = declared[v]
        if any(isinstance(dim, str) and dim not in bound for dim in shape):
            names = [dim if isinstance(dim, str) and dim not in bound else ns["_"] for dim in shape]
            lines.append(f"    {', '.join(names)}{',' if len(shape) == 1 else ''} = {np}.shape({v})  "
                         f"# {fmt_shape(shape) if len(shape) == 2 else 'index vector, ' + str(shape[0])}")
            bound |= {dim for dim in shape if isinstance(dim, str)}
        for axis, dim in enumerate(shape):  # 4*h: h = shape[1] // 4
            if isinstance(dim, Coef) and dims.names(dim)[0] not in bound:
                lines.append(f"    {dims.names(dim)[0]} = {np}.shape({v})[{axis}] // {dim.num}  # {fmt_shape(shape)}")
                bound.add(dims.names(dim)[0])
    lines += reversed(body)
    lines.append("    return {" + ", ".join(f"{v!r}: {g}" for v, g in grads.items()) + "}")
    return "\n".join(lines) + "\n"


def _kept_rows(steps, returned):
    """Step name -> its row (column) node, for the steps whose value is a row (column) spread by
    ones (:func:`~derivlib.engine.npsource.spread`), not returned, and used only as an operand of
    a sum, difference, product or quotient whose other operand is a full array of the result's
    shape: there numpy broadcasts the row itself, so the full array is never built."""
    lets = {id(s.node): s for s in steps if s.node.op == "let"}
    rows = {s.name: spread(s.node.args[0]) for s in lets.values() if s.name not in returned}
    rows = {k: r for k, r in rows.items() if r is not None}
    if not rows:
        return rows
    candidate = {id(s.node) for s in lets.values() if s.name in rows}

    def refers(node):  # a reference to a candidate, not through another step
        return any(n.op == "ref" and id(n.attr) in candidate for n in _unnamed(node))

    bad = set()
    for s in steps:
        top = s.node.args[0] if s.node.op == "let" else s.node
        if top.op == "ref" and id(top.attr) in candidate:  # another name for it: that name needs it whole
            bad.add(lets[id(top.attr)].name)
        for n in _unnamed(top):
            for i, a in enumerate(n.args):
                if a.op != "ref" or id(a.attr) not in candidate:
                    continue
                other = n.args[1 - i] if len(n.args) == 2 else None
                if (n.op not in ("add", "sub", "mul", "div") or other is None
                        or tuple(other.shape) != tuple(n.shape) or refers(other)):
                    bad.add(lets[id(a.attr)].name)
    return {k: r for k, r in rows.items() if k not in bad}


def _unnamed(node):
    """``node`` and the nodes under it, not descending into named steps or references."""
    out, todo = [], [node]
    while todo:
        n = todo.pop()
        out.append(n)
        todo.extend(a for a in n.args if a.name is None and a.op != "ref")
    return out
