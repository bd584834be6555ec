"""Reverse mode over the expression graph (standard library only): one backward step per
named intermediate and per differentiated variable, a step per path where a name is used
several times, and each step's "why" line (the differential of its consumer and the
identities that give the adjoint).

:class:`ReverseMode` is a part of :class:`derivlib.engine.derivation.Derivation`, which
makes each step (``_step``).
"""

from __future__ import annotations

from typing import NamedTuple

from .columns import merge
from .identities import identity
from .nodes import ExpressionError, Node, Sym, mk_add, ones, ref, split, superscript, var
from .render import latex, text
from .rules import RULES

__all__ = ["ReverseMode"]


class _Contribution(NamedTuple):
    expr: Node
    consumer: Node  # the named node (or the loss) whose differential this use is part of
    path: tuple  # ((node, argument index), ...) from the consumer down to the use


def _simple(node):
    """An adjoint short enough to write in place of its name: G, −Y/n, 1."""
    c, core = split(node)
    return core.op in ("var", "ones", "const", "dim")


def _trivial(t):
    left, right = t.split(" = ", 1)
    a = left.removeprefix("Ḡ : ").strip()
    b, _, da = right.rpartition(" : ")
    return a == da and b.strip() == "Ḡ"


class ReverseMode:
    """The backward steps of a derivation (a part of ``Derivation``)."""

    def _backward(self):
        contribs = {id(self.root): [_Contribution(ones((1, 1)), None, ())]}
        self._adjoint_step = {}
        for n in reversed(self.nodes):
            if id(n) not in self.active or n.op == "var":
                continue
            cs = contribs.get(id(n), [])
            if not cs:
                continue
            if n is self.root:
                g = cs[0].expr
            elif n.name is not None:
                g = self._emit(n, cs)
            else:
                g = cs[0].expr
                for c in cs[1:]:
                    g = mk_add(g, c.expr)
            named = n.name is not None
            backs = RULES[n.op].vjp(g, n, list(n.args))
            for j, (a, b) in enumerate(zip(n.args, backs)):
                if id(a) not in self.active or b is None:
                    continue
                consumer = n if named else cs[0].consumer
                path = ((n, j),) if named else cs[0].path + ((n, j),)
                contribs.setdefault(id(a), []).append(_Contribution(b, consumer, path))
        for v in self.wrt:
            n = self.variables[v]
            self._emit(n, contribs.get(id(n), []))

    def _emit(self, n, cs):
        sym = self._adj_sym(n)
        if not cs:  # cannot happen for an active node; kept for a clear failure
            raise ExpressionError(f"{n.name.ident if n.name else n.attr.ident}: no path to the loss")
        merged = merge([c.expr for c in cs])
        if merged is not None:  # the adjoints of the blocks of a split, side by side: [G_i G_f G_o G_g]
            uses = sorted(cs, key=lambda c: c.consumer.attr[0])  # each use is a block (a named split)
            step = self._step("paths", sym, n, merged, *self._blocks_why(n, uses))
            self._uses[step.name] = uses  # checked as one differential (adjoint.check_why)
        elif len(cs) == 1:
            g = cs[0].expr
            step = self._step("backward", sym, n, g, *self._why(n, cs[0]))
            self._uses[step.name] = cs[0]
        else:
            parts = []
            for k, c in enumerate(cs, 1):
                psym = self._fresh_sym(Sym(f"{sym.ident}_path{k}", f"{sym.text}⁽{superscript(k)}⁾",
                                           f"{sym.latex}^{{({k})}}"))
                parts.append(self._step("path", psym, n, c.expr, *self._why(n, c)))
                self._uses[psym.ident] = c
            total = None
            for p in parts:
                r = ref(p.node)
                try:
                    total = r if total is None else mk_add(total, r)
                except ExpressionError as exc:
                    raise ExpressionError(f"{sym.text}, the sum of the paths: {exc}") from None
            name = n.name or n.attr
            step = self._step("paths", sym, n, total,
                              f"{name.text} is used {len(cs)} times: add the paths",
                              rf"\text{{{len(cs)} uses of }} {name.latex}\text{{: add the paths}}", "", "")
        if n.op == "var":
            self._adjoint_step[n.attr.ident] = step
        g = step.node.args[0]
        return g if _simple(g) else ref(step.node)

    def _differential(self, n, c):
        """(dn, dC, C) of one use c of n: the differential dC of its consumer C along dn, the
        jvps composed along the path (what the step's "why" shows)."""
        name = n.name or n.attr
        dn = var(Sym("d" + name.ident, "d" + name.text, r"\mathrm{d}" + name.latex), n.shape)
        d = dn
        for node, j in reversed(c.path):
            dargs = [None] * len(node.args)
            dargs[j] = d
            d = RULES[node.op].jvp(node, list(node.args), dargs)
        return dn, d, c.consumer or self.root

    def _blocks_why(self, n, uses):
        """(differential text, latex, identity text, latex) of the block row of a split's adjoint:
        ``d[i f o g] = split(dA)``, the blocks' differentials together (``uses``: one per block,
        in split order), and ``Σⱼ Ḡⱼ : dA[:, block j] = [Ḡ₁ … Ḡ₄] : dA``: the split rule's identity
        for each block (each checked by ``check_rule``), added over the blocks, whose columns do
        not overlap."""
        diffs = [self._differential(n, c)[1] for c in uses]
        blocks = [c.consumer for c in uses]
        da = self._differential(n, uses[0])[0].attr
        k = blocks[0].attr[3]
        if len(blocks) == k:
            rt, rl = f"split({da.text})", rf"\operatorname{{split}}\left({da.latex}\right)"
        else:
            rt = "[" + " ".join(text(x) for x in diffs) + "]"
            rl = r"\begin{bmatrix} " + " & ".join(latex(x) for x in diffs) + r" \end{bmatrix}"
        names_t = " ".join(b.name.text for b in blocks)
        names_l = " & ".join(b.name.latex for b in blocks)
        sub = str(k).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))
        return (f"d[{names_t}] = {rt}", rf"\mathrm{{d}}\begin{{bmatrix}} {names_l} \end{{bmatrix}} = {rl}",
                f"Σⱼ Ḡⱼ : dA[:, block j] = [Ḡ₁ … Ḡ{sub}] : dA",
                rf"\textstyle\sum_j \bar G_j : \mathrm{{d}}A_{{[:,\, \text{{block }} j]}} = "
                rf"\begin{{bmatrix}} \bar G_1 & \cdots & \bar G_{{{k}}} \end{{bmatrix}} : \mathrm{{d}}A")

    def _why(self, n, c):
        """(differential text, latex, identity text, latex) of one use of n."""
        _, d, consumer = self._differential(n, c)
        cname = consumer.name
        ids = []
        for node, j in c.path:
            t, lx = identity(node, j)
            if not _trivial(t):
                ids.append((t, lx))
        return (f"d{cname.text} = {text(d)}", rf"\mathrm{{d}}{cname.latex} = {latex(d)}",
                "; ".join(t for t, _ in ids), r";\ ".join(lx for _, lx in ids))
