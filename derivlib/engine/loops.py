"""Loops (standard library only): a ``for t in range(T):`` block derived once, as a recurrence.

A program such as::

    H = H0
    L = 0
    for t in range(T):
        H = tanh(X[t] @ Wx + H @ Wh + b)
        L = L - sum(Y[t] * log_softmax(H @ V + c)) / n
    L

declares sequences with three entries (``X: ("T", "n", "d")``, read only as ``X[t]`` inside
the loop), a **state** (a name bound before the loop and rebound inside it: ``H``, its value
before the loop a declared variable, ``H0``) and at most one **accumulator** (``L = 0``
before, ``L = L + ...`` or ``L = L - ...`` inside). The final expression is the accumulator,
a read-out of the states after the last step, or the accumulator plus or minus a read-out.

The loop body is derived once by the ordinary engine (:class:`~derivlib.engine.derivation.
Derivation`), as the per-step loss plus ``sum(Ḡ_H ∘ H_t)`` for each state, ``Ḡ_H`` being
the adjoint that arrives from step t+1; its steps are shown with the index t, the arriving
adjoint as the previous state's adjoint one step later, and the gradients of the weights
shared by every step as sums over t. The length of the text does not depend on T.
"""

from __future__ import annotations

import ast
import re

from .columns import forward_lines
from .derivation import Derivation, _forward_text, _pad
from .loopsyntax import LoopProgram, has_loop
from .nodes import ExpressionError, Sym, fmt_shape, superscript
from .parse import parse
from .render import latex as render_latex
from .render import text as render_text

__all__ = ["has_loop", "derive_loop", "LoopDerivation", "LoopProgram"]

_SUB = dict(zip("0123456789+-=()aehijklmnoprstuvx",
                "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ"))


def _sub_text(s):
    """``s`` as Unicode subscripts when every character has one (t−1 -> ₜ₋₁), else ``_s`` / ``_{s}``."""
    plain = s.replace("−", "-")
    if all(ch in _SUB for ch in plain):
        return "".join(_SUB[ch] for ch in plain)
    return "_" + s if len(s) == 1 else "_{" + s + "}"


def _index_text(letter, shift):
    """The index ``letter + shift`` as (text, latex): ("t", 0) -> t, ("t", -1) -> t−1, ("", 1) -> 1."""
    if not letter:
        return str(shift), str(shift)
    if shift == 0:
        return letter, letter
    sign = "+" if shift > 0 else "−"
    return f"{letter}{sign}{abs(shift)}", f"{letter}{'+' if shift > 0 else '-'}{abs(shift)}"


# ------------------------------------------------------------------------------- the body, spelled
class _Spelled(Derivation):
    """An ordinary derivation whose names are spelled with the loop's index (Xₜ, Hₜ₋₁, δ₁,ₜ).

    ``kinds`` maps an identifier of the program to its kind: ``"seq"`` (read at t), ``"prev"``
    (the state before step t: base name and shift −1), ``"shared"`` (no index), ``"arriving"``
    (the adjoint from t+1), ``"final"`` (a state after the last step: H_T); any other name (an
    intermediate) is one value per step.
    """

    def __init__(self, expr, shapes, wrt, kinds, index, default="step", length="T", reserved=()):
        self._kinds, self._index_letter, self._default, self._length = dict(kinds), index, default, length
        self._reserved = set(reserved)  # the program's names: no step of this part is named as one
        self.arriving_spelling = {}  # the arriving adjoint's identifier -> (text, latex)
        self._registry = []  # (sym, spelling function)
        root = parse(expr, shapes)
        seen = set()
        todo = [root]
        while todo:
            n = todo.pop()
            if id(n) in seen:
                continue
            seen.add(id(n))
            if n.op == "var":
                self._register(n.attr)
            if n.name is not None:
                self._register(n.name)
            todo.extend(n.args)
        self._setting = (index, 0)
        self._apply()
        super().__init__(expr, shapes, root, wrt)

    def _name_intermediates(self):
        shapes = self.shapes  # the program's other names taken too (a step R would hide an initial state R)
        self.shapes = {**{k: () for k in self._reserved if k not in shapes}, **shapes}
        try:
            super()._name_intermediates()
        finally:
            self.shapes = shapes
        if self.root.name is not None and self._default == "step":  # the step's loss: ℓₜ
            self._kinds[self.root.name.ident] = ("step", "ell")
        for n in self.nodes:
            if n.name is not None and all(s is not n.name for s, _ in self._registry):
                self._register(n.name)
        self._apply()

    def _fresh_sym(self, sym):
        sym = super()._fresh_sym(sym)
        if all(s is not sym for s, _ in self._registry):
            self._register(sym)
            self._apply()
        return sym

    # -- spelling ------------------------------------------------------------------------------------
    def _register(self, sym):
        self._registry.append((sym, self._speller(sym.ident, sym.text, sym.latex)))

    def _speller(self, ident, text0, latex0):
        """A function (letter, shift) -> (text, latex) for the name ``ident``."""
        g = 0
        while ident.startswith("G_") and len(ident) > 2:
            ident, g = ident[2:], g + 1
        path = re.fullmatch(r"(.*)_path(\d+)", ident)
        k = None
        if path:
            ident, k = path.group(1), path.group(2)
        primes = len(ident) - len(ident.rstrip("_")) if ident.rstrip("_") else 0
        base = ident.rstrip("_") or ident
        kind = self._kinds.get(base, (self._default, base))
        if kind[0] == "arriving":  # spelled as the adjoint it stands for, once that is known
            return lambda letter, shift: self.arriving_spelling.get(base, (text0, latex0))
        name = kind[1]
        m = re.fullmatch(r"(.*?)_?(\d+)", name)
        core, digits = (m.group(1), m.group(2)) if m and m.group(1) else (name, "")
        core_sym = Sym(core)
        offset = {"prev": -1}.get(kind[0], 0)

        def spell(letter, shift):
            if kind[0] in ("shared", "plain"):
                text, tex = Sym(name).text, Sym(name).latex
            else:
                if kind[0] == "final":
                    it = il = str(self._length)
                else:
                    it, il = _index_text(letter, shift + offset)
                sub_t = digits.translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))
                text = core_sym.text + (sub_t + "," + _sub_text(it).lstrip("_") if digits else _sub_text(it))
                tex = core_sym.latex + "_{" + (digits + "," if digits else "") + il + "}"
            text += "′" * primes
            tex += "'" * primes
            if k:
                text += "⁽" + k.translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")) + "⁾"
                tex = "{" + tex + "}^{(" + k + ")}"
            for _ in range(g):
                text, tex = "G_" + text, "G_{" + tex + "}"
            return text, tex

        return spell

    def _apply(self, setting=None):
        """Spell every registered name for the loop index ``setting`` = (letter, shift)."""
        self._setting = setting or self._setting
        for sym, spell in self._registry:
            sym.text, sym.latex = spell(*self._setting)


class LoopDerivation:
    """A loop derived once as a recurrence: see :func:`derive_loop` and the module's docstring.

    Attributes
    ----------
    program : LoopProgram
    body : Derivation
        The loop body's derivation (the step's loss plus ``sum(Ḡ ∘ state)`` for each state),
        its names spelled with the index.
    readout : Derivation or None
        The read-out after the last step, a derivation of its own (the states as ``H_T``).
    wrt : list of str
        The variables differentiated: sequences (one gradient per step, stacked like the
        sequence), shared weights (sums over the steps) and the states' initial values.
    shapes : dict
        The declared shapes, sequences with three entries.
    """

    def __init__(self, expr, shapes, wrt=None):
        self.expr, self.shapes = expr, dict(shapes)
        p = self.program = LoopProgram(expr, shapes)
        self.index, self.length = p.index, p.length
        self.variables = [v for v in shapes if v in p.reads or v in p.states.values()
                          or (p.readout and v in _names(p.readout))]
        self.wrt = self._check_wrt(wrt)
        self._derive_body()
        self._derive_readout()

    def _check_wrt(self, wrt):
        if wrt is None:
            return list(self.variables)
        if isinstance(wrt, str):
            wrt = [w.strip() for w in wrt.split(",")]
        if not isinstance(wrt, (list, tuple)) or not all(isinstance(w, str) for w in wrt):
            raise TypeError(f"wrt must be a variable name, names separated by commas, or a list of names; got {wrt!r:.60}")
        for w in wrt:
            if w not in self.variables:
                raise ExpressionError(f"wrt: cannot differentiate with respect to {w!r}: it is not a variable the "
                                      f"program reads; the variables are {', '.join(self.variables)}")
        if not wrt or len(set(wrt)) != len(wrt):
            raise ExpressionError(f"wrt: name each variable once, at least one; got {list(wrt)}")
        return list(wrt)

    def _derive_body(self):
        p = self.program
        shapes = {v: p.plain[v] for v in p.plain if v in p.reads}
        shapes.update({x: p.sequences[x][1:] for x in p.sequences if x in p.reads})
        # the other variables too, unread: they declare the dimensions the body uses as numbers (H / k),
        # and no step of the body is named after one (a step Z would overwrite the size Z in numpy_source())
        shapes.update({v: p.plain[v] for v in p.plain if v not in shapes})
        shapes.update({x: p.sequences[x][1:] for x in p.sequences if x not in shapes})
        for s, init in p.states.items():
            shapes[p.prev[s]] = p.plain[init]
            shapes[p.arriving[s]] = p.plain[init]
        for s, init in p.states.items():  # the state keeps its shape: checked before it meets its adjoint
            shape = parse("\n".join(p.body + [s]), shapes).shape
            if tuple(shape) != tuple(p.plain[init]):
                raise ExpressionError(f"the state {s} changes shape: {init} is {fmt_shape(p.plain[init])} but the "
                                      f"loop body makes {s} {fmt_shape(shape)}")
        for t in p.terms:  # each step adds a number to the accumulator
            shape = parse("\n".join(p.body + [t]), shapes).shape
            if tuple(shape) != (1, 1):
                raise ExpressionError(f"the term {t!r} added to {p.accumulator} at every step is "
                                      f"{fmt_shape(shape)}, not a number: add sum(...) or mean(...) of it")
        carry = " + ".join(f"sum({p.arriving[s]} * {s})" for s in p.states)
        loss = " + ".join(f"({t})" for t in p.terms)
        final = f"({loss}) + ({carry})" if loss else carry
        program = "\n".join(p.body + [final])
        kinds = {x: ("seq", x) for x in p.sequences}
        kinds.update({v: ("shared", v) for v in p.plain})
        kinds.update({p.prev[s]: ("prev", s) for s in p.states})
        kinds.update({p.arriving[s]: ("arriving", s) for s in p.states})
        used_prev = [p.prev[s] for s in p.states if p.prev[s] in _names(program)]
        wrt = [v for v in self.wrt if v in p.reads] + used_prev
        self.body = _Spelled(program, shapes, wrt, kinds, p.index, reserved=self._reserved())
        self.has_loss = bool(loss)

    def _derive_readout(self):
        p = self.program
        self.readout = None
        if p.readout is None:
            return
        used = _names(p.readout)
        shapes = {v: p.plain[v] for v in p.plain if v in used}
        shapes.update({s: p.plain[p.states[s]] for s in p.states if s in used})
        # the other variables too, unread: they declare the dimensions the read-out uses as numbers (k + ...)
        shapes.update({v: p.plain[v] for v in p.plain if v not in shapes})
        shapes.update({x: p.sequences[x][1:] for x in p.sequences if x not in shapes})
        kinds = {v: ("shared", v) for v in p.plain}
        kinds.update({s: ("final", s) for s in p.states})
        wrt = [s for s in p.states if s in used] + [v for v in self.wrt if v in used]
        if not wrt:
            raise ExpressionError(f"the final expression's {p.readout!r} after the loop reads no state and no "
                                  f"variable differentiated: a constant changes no gradient, leave it out")
        self.readout = _Spelled(p.readout, shapes, wrt, kinds, p.index, default="plain", length=p.length,
                                reserved=self._reserved())
        if self.readout.root.shape != (1, 1):
            raise ExpressionError(f"the final expression {p.readout!r} is {fmt_shape(self.readout.root.shape)}, "
                                  f"not a scalar")

    def _reserved(self):
        """Every name of the program (variables, states, the accumulator, intermediates, loop variable)."""
        return set(self.shapes) | _names(self.expr.strip("\n"))

    # -- the parts of the recurrence ---------------------------------------------------------------
    def _carry_step(self, s):
        """The body's step of the previous state's adjoint (G_{H_{t−1}}), or None when unused."""
        return self.body._adjoint_step.get(self.program.prev[s])

    def _render(self, node, setting, how):
        self.body._apply(setting)
        try:
            return how(node)
        finally:
            self.body._apply((self.index, 0))

    def _arriving_texts(self):
        """Spell each arriving adjoint Ḡ as its previous-state adjoint one step later (δₜ₊₁Whᵀ)."""
        p = self.program
        self.arriving_bare = {}
        for s in p.states:
            step = self._carry_step(s)
            sym = next(n.attr for n in self.body.nodes if n.op == "var" and n.attr.ident == p.arriving[s])
            if step is None:
                self.body.arriving_spelling[sym.ident] = ("0", "0")
                continue
            node = step.node.args[0]
            t = self._render(node, (self.index, 1), render_text)
            tex = self._render(node, (self.index, 1), render_latex)
            simple = node.op in ("ref", "var")
            self.arriving_bare[sym.ident] = (t, tex)  # a whole right-hand side: no parentheses
            self.body.arriving_spelling[sym.ident] = (t, tex) if simple else (f"({t})", rf"\left({tex}\right)")
        self.body._apply()

    def _lines(self, fmt):
        """The derivation as (section header, [(lhs, rhs, shape, why)]) in ``fmt`` (text or latex).

        The adjoint arriving from step t+1 is spelled as the next step's expression while the
        lines are written, then as its own symbol again: the body's steps keep the spelling of
        their differentials, which ``check_why`` compares with what it checks."""
        try:
            return self._spelled_lines(fmt)
        finally:
            self.body.arriving_spelling.clear()
            self.body._apply()

    def _spelled_lines(self, fmt):
        p, b = self.program, self.body
        text = fmt == "text"
        render = render_text if text else render_latex
        b._apply((self.index, 0))
        self._arriving_texts()
        i = self.index
        sym = (lambda s: s.text) if text else (lambda s: s.latex)
        forward = []
        for s in forward_lines(b.forward_steps):
            if isinstance(s, list):  # the blocks of one split
                forward.append(("blocks", s))
                continue
            if s.node is b.root:
                if self.has_loss:
                    ell = "ℓ" + _sub_text(i) if text else rf"\ell_{{{i}}}"
                    forward.append((ell, render(b.root.args[0]), s.shape, ""))
                continue
            forward.append((sym(s.node.name), render(s.node), s.shape, ""))
        arriving = {p.arriving[s] for s in p.states}
        carries = {id(self._carry_step(s)) for s in p.states}
        shared_steps = {v: b._adjoint_step[v] for v in b.wrt if v in p.plain}
        backward, sums = [], []
        for s in b.backward_steps:
            if id(s) in carries or any(s is st for st in shared_steps.values()):
                continue
            why = ("; ".join(x for x in (s.differential, s.identity) if x) if text
                   else r";\quad ".join(x for x in (s.differential_latex, s.identity_latex) if x))
            e = s.node.args[0]
            if e.op == "var" and e.attr.ident in arriving:
                state = next(k for k, a in p.arriving.items() if a == e.attr.ident)
                seed = (self.readout is not None and state in self.readout._adjoint_step)
                last = (f"the read-out's G_{state}_{p.length}" if seed else "0")
                last_latex = (rf"\text{{the read-out's }} G_{{{state}_{{{p.length}}}}}" if seed else "0")
                why = (f"from step {i}+1 ({last} at {i} = {p.length})" if text
                       else rf"\text{{from step }} {i}+1 \text{{ (}}{last_latex}\text{{ at }} {i} = {p.length}\text{{)}}")
                rhs = self.arriving_bare.get(e.attr.ident, (render(e), render(e)))[0 if text else 1]
            else:
                rhs = render(e)
            backward.append((sym(s.node.name), rhs, s.shape, why))
        sigma = f"Σ{_sub_text(i)} " if text else rf"\sum_{{{i}}} "
        out_grads = self.readout._adjoint_step if self.readout is not None else {}
        for v, st in shared_steps.items():
            e = st.node.args[0]
            body = render(e)
            if e.op in ("add", "sub"):
                body = f"({body})" if text else rf"\left({body}\right)"
            rhs = sigma + body
            if v in out_grads:
                rhs += " + " + (f"{render(out_grads[v].node.args[0])} (read-out)" if text
                                else rf"{render(out_grads[v].node.args[0])} \text{{ (read-out)}}")
            sums.append((sym(st.node.name), rhs, st.shape, "the same weights at every step: a sum over " + i
                         if text else rf"\text{{the same weights at every step: a sum over }} {i}"))
        for v in self.wrt:
            if v in out_grads and v not in shared_steps:
                st = out_grads[v]
                sums.append((sym(st.node.name), render(st.node.args[0]), st.shape, "through the read-out" if text
                             else r"\text{through the read-out}"))
        for s, init in p.states.items():
            if init not in self.wrt:
                continue
            step = self._carry_step(s)
            lhs = Sym("G_" + init).text if text else Sym("G_" + init).latex
            if step is None:
                sums.append((lhs, "0", p.plain[init], ""))
                continue
            rhs = self._render(step.node.args[0], ("", 1), render)
            sums.append((lhs, rhs, p.plain[init], f"the adjoint of {Sym(s).text}₀ at {i} = 1" if text
                         else rf"\text{{the adjoint of }} {s}_0 \text{{ at }} {i} = 1"))
        return forward, backward, _add_paths(sums, text)

    # -- renderings --------------------------------------------------------------------------------
    def text(self):
        """The recurrence as Unicode text: the forward body once, the backward loop t = T … 1, the sums."""
        p = self.program
        forward, backward, sums = self._lines("text")
        i, T = self.index, self.length
        init = ", ".join(f"{Sym(s).text}₀ = {Sym(v).text}" for s, v in p.states.items()
                         if Sym(s).text + "₀" != Sym(v).text)
        lines = [f"forward, {i} = 1 … {T}" + (f"   ({init})" if init else "")]
        for row in forward:
            if row[0] == "blocks":
                lines.append("  " + _forward_text(row[1]))
            else:
                lines.append("  " + _row(*row))
        if self.has_loss:
            lines.append("  " + _row(Sym(p.accumulator).text, f"Σ{_sub_text(i)} ℓ{_sub_text(i)}", (1, 1), ""))
        if self.readout is not None:
            lines += ["", f"read-out after step {T}"] + ["  " + _forward_text(s) for s in
                                                           forward_lines(self.readout.forward_steps)]
            lines += ["", "backward of the read-out"] + ["  " + s.text for s in self.readout.backward_steps]
        start = " and ".join(f"G_{s}_{T} of the read-out" for s in p.states
                             if self.readout is not None and s in self.readout._adjoint_step)
        lines += ["", f"backward, {i} = {T} … 1   (the terms from step {i}+1 are "
                  + (start + " at " + f"{i} = {T}" if start else f"0 at {i} = {T}") + ")"]
        lines += ["  " + _row(*row) for row in backward]
        lines += ["", "gradients"] + ["  " + _row(*row) for row in sums]
        return "\n".join(lines)

    def latex(self, why=True):
        """The recurrence as one LaTeX ``aligned`` block."""
        forward, backward, sums = self._lines("latex")
        i, T = self.index, self.length

        def row(lhs, rhs, shape, w):
            sh = r" \times ".join(str(d) for d in shape)
            return f"{lhs} &= {rhs} && {sh}" + (f" && {w}" if why and w else "") + r" \\"

        rows = [rf"&\textbf{{forward}},\ {i} = 1, \dots, {T} \\"]
        for r in forward:
            if r[0] == "blocks":
                from .derivation import _blocks_latex

                rows.append(_blocks_latex(r[1]) + r" \\")
            else:
                rows.append(row(*r))
        if self.readout is not None:
            rows.append(r"&\textbf{read-out} \\")
            rows += [row(s.symbol_latex, s.expression_latex, s.shape, "") for s in self.readout.forward_steps]
            rows += [row(s.symbol_latex, s.expression_latex, s.shape,
                         r";\quad ".join(x for x in (s.differential_latex, s.identity_latex) if x))
                     for s in self.readout.backward_steps]
        rows.append(rf"&\textbf{{backward}},\ {i} = {T}, \dots, 1 \\")
        rows += [row(*r) for r in backward]
        rows.append(r"&\textbf{gradients} \\")
        rows += [row(*r) for r in sums]
        return "\\begin{aligned}\n" + "\n".join(rows) + "\n\\end{aligned}"

    def numpy_source(self):
        """Source of a standalone ``backward(**variables)`` with real loops: see :mod:`.loopcode`."""
        from .loopcode import numpy_source

        return numpy_source(self)

    def gradients(self, values):
        """Gradients on numpy arrays (sequences of shape (T, n, d)) from the generated code."""
        from .loopcode import gradients

        return gradients(self, values)

    def loss(self, values):
        """The loss on numpy arrays, from the program unrolled at the values' length."""
        from .loopcode import loss

        return loss(self, values)

    def unrolled(self, length):
        """The program written out for ``length`` steps: (expression, shapes), an ordinary derivation's input."""
        from .loopcode import unroll

        return unroll(self, length)

    def random_inputs(self, sizes=None, seed=0):
        from .loopcode import random_values

        return random_values(self, sizes, seed)

    def check(self, sizes=None, seed=0):
        """Unroll at a small length and compare every gradient with finite differences of the unrolled loss."""
        from .loopcode import check

        return check(self, sizes=sizes, seed=seed)

    def gradients_pure(self, values):
        """Gradients in pure Python (lists of lists; a sequence's a list of T of them): the recurrence run."""
        from .looppure import gradients_pure

        return gradients_pure(self, values)

    def loss_pure(self, values):
        """The loss in pure Python, from the program unrolled at the values' length."""
        from .looppure import loss_pure

        return loss_pure(self, values)

    def check_pure(self, sizes=None, seed=0):
        """The check in pure Python (no numpy): each gradient of the recurrence against a central
        difference of the unrolled loss; a report, nothing raised."""
        from .looppure import check_pure

        return check_pure(self, sizes=sizes, seed=seed)

    def check_why(self, sizes=None, seed=0):
        """Check every displayed "why": the body's and the read-out's differentials as other
        derivations' are; the lines from step t+1 and the sums over t, exact, explained in the
        report (see :mod:`.loopwhy`). Raises ``DifferentialError`` naming a wrong line."""
        from .loopwhy import check_why

        return check_why(self, sizes=sizes, seed=seed)

    def __repr__(self):
        return f"<LoopDerivation over {self.index} in range({self.length}) with respect to {', '.join(self.wrt)}>"


def _row(lhs, rhs, shape, why):
    line = _pad(f"{lhs} = {rhs}", 28) + "  " + fmt_shape(shape).ljust(6)
    return (line + "  " + why) if why else line.rstrip()


def _names(src):
    return {n.id for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Name)}


def derive_loop(expr, shapes, wrt=None, indices=None):
    """Derive a program with a ``for`` loop as a recurrence: a :class:`LoopDerivation`."""
    if indices:
        raise ExpressionError("index vectors are not supported in a loop program yet")
    return LoopDerivation(expr, shapes, wrt)


def _add_paths(sums, text):
    """The gradient lines with a variable reached more than one way (read by the steps and
    starting a state, say) written as its paths G⁽¹⁾, G⁽²⁾, … and their sum."""
    count = {}
    for lhs, *_ in sums:
        count[lhs] = count.get(lhs, 0) + 1
    out, seen = [], {}
    for lhs, rhs, shape, why in sums:
        if count[lhs] == 1:
            out.append((lhs, rhs, shape, why))
            continue
        k = seen[lhs] = seen.get(lhs, 0) + 1
        path = f"{lhs}⁽{superscript(k)}⁾" if text else f"{lhs}^{{({k})}}"
        out.append((path, rhs, shape, why))
        if k == count[lhs]:
            parts = [f"{lhs}⁽{superscript(j)}⁾" if text else f"{lhs}^{{({j})}}" for j in range(1, k + 1)]
            out.append((lhs, " + ".join(parts), shape, f"reached {k} ways: add the paths" if text
                        else rf"\text{{reached {k} ways: add the paths}}"))
    return out
