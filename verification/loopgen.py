"""Random loop programs whose bodies come from the random-expression generator, one per seed.

``loop_example(seed)`` draws, from ``random.Random(seed)`` alone, one :class:`LoopExample`: a
program with a ``for`` loop (the text :func:`derivlib.engine.derive` reads), its shapes
(sequences with three entries), the sizes (the length too), ``wrt`` and a point. The same seed
always gives the same program, so a failure is replayed from its seed.

What is drawn:

* the kind: a loop over time (``for t in range(T):`` reading a sequence ``X[t]``, now and then a
  second sequence) or over layers (``for l in range(D):`` reading per-layer weights ``W[l]``
  and now and then ``b[l]``); the length 1 to 4;
* one or two states (``H = H0``), each rebound once per step as ``tanh(E)`` (bounded, so that
  the magnitudes stay sane over the steps), ``E`` an expression of
  :mod:`verification.exprgen` over the state's shape reading the sequences, the states
  (previous or, for a state bound later in the body, this step's), the shared weights, and the
  body's named intermediates (``split`` statements included);
* a per-step loss (``L = L + E`` or ``L = L - E``, E a scalar) and/or a read-out of the final
  states after the loop (``L``, ``R``, ``L + R`` or ``L - R``);
* every name from the generator's pool (``Delta``, ``G_X``, ``np``, ``_sigmoid``, ...), the
  state names, loop variable and length included among the reserved ones.

Index vectors are left out (a loop program does not take them).

Examples
--------
>>> from verification.loopgen import loop_example
>>> e = loop_example(0)
>>> e == loop_example(0) and e.program != loop_example(1).program
True
>>> "for " in e.program and set(e.wrt) <= set(e.shapes)
True
"""

from __future__ import annotations

import ast
import random
from typing import NamedTuple

from verification.exprgen import VAR_NAMES, _call, _Gen, _names

__all__ = ["LoopExample", "loop_example"]


class LoopExample(NamedTuple):
    """One random loop program, its shapes, sizes, ``wrt`` and a point in its domain."""

    seed: int
    program: str
    shapes: dict  # variable -> (rows, columns), a sequence -> (length, rows, columns)
    sizes: dict  # dimension name -> size (the length's name too)
    wrt: list
    values: dict  # variable -> list of rows; a sequence -> list of `length` matrices
    index: str  # the loop variable
    length: str  # the length's name

    def __str__(self):
        return f"seed {self.seed}: shapes={self.shapes} sizes={self.sizes} wrt={self.wrt}\n{self.program}"


class _LoopGen(_Gen):
    """The expression generator with names reserved (states, sequences, loop variable, length) and
    without index vectors."""

    def __init__(self, rng):
        super().__init__(rng)
        self.reserved = set()

    def _fresh_name(self):
        used = (set(self.vars) | {n for n, _ in self.named} | set(self.sizes) | set(self.indices)
                | self.reserved)
        free = [v for v in VAR_NAMES if v not in used]
        return self.r.choice(free) if free else f"V{len(used)}"

    def _index(self, shape, depth):  # no index vectors in a loop program
        return self._add(shape, depth)


def _subscript(expr, sequences, index):
    """``expr`` (source) with each sequence name read at the loop variable: ``X`` -> ``X[t]``."""

    class R(ast.NodeTransformer):
        def visit_Name(self, node):
            if node.id in sequences:
                return ast.Subscript(ast.Name(node.id, ast.Load()), ast.Name(index, ast.Load()), ast.Load())
            return node

    return ast.unparse(R().visit(ast.parse(expr)))


def loop_example(seed):
    """The loop program of ``seed`` (see the module docstring)."""
    return _Builder(random.Random(seed), seed).build()


class _Builder:
    def __init__(self, rng, seed):
        self.r, self.seed = rng, seed

    def build(self):
        for _ in range(100):
            got = self._attempt()
            if got is not None:
                return got
        raise RuntimeError(f"no loop program for seed {self.seed}")  # pragma: no cover

    def _attempt(self):
        r = self.r
        g = _LoopGen(r)
        g.vars, g.named, g.statements, g.number_dims, g.indices = {}, [], [], set(), {}
        layers = r.random() < 0.3
        index, length = ("l", "D") if layers else ("t", "T")
        g.reserved |= {index, length, "L", "X", "Y", "W", "b"}  # the sequences' names
        acc = "L"
        dims = sorted(g.sizes)
        # the states: name -> (shape, initial variable)
        states = {}
        for _ in range(1 if r.random() < 0.6 else 2):
            shape = (r.choice(dims), r.choice(dims + [1]))
            name = g._fresh_name()
            g.reserved.add(name)
            init = g._fresh_name()
            if r.random() < 0.3:  # the initial state read elsewhere too (the body, the read-out)
                g.vars[init] = (shape, False)
            else:
                g.reserved.add(init)
            states[name] = (shape, init)
        first = next(iter(states))
        rows, cols = states[first][0]
        # the sequences read at the loop variable
        sequences = {}
        if layers:
            sequences["W"] = (cols, cols)
            if r.random() < 0.5:
                sequences["b"] = (1, cols)
        else:
            sequences["X"] = (rows, r.choice(dims + [1]))
            if r.random() < 0.3:
                sequences["Y"] = (r.choice(dims), r.choice(dims))
        g.reserved |= set(sequences)
        for x, shape in sequences.items():
            g.vars[x] = (shape, r.random() < 0.3)
        for s, (shape, _) in states.items():
            g.vars[s] = (shape, False)  # the previous state: tanh of something, |H| < 1
        body = []
        for s, (shape, _) in states.items():
            e = g.gen(shape, r.randint(2, 4))
            src = ast.unparse(e.node)
            if s not in _names(src):
                src = f"{src} + {s}" if r.random() < 0.5 else f"{src} + {s} @ {self._weight(g, (shape[1], shape[1]))}"
            if s == first and not set(sequences) & _names("; ".join(g.statements + [src])):
                x = next(iter(sequences))
                if layers:
                    src = f"{src} + {s} @ {x}"
                else:
                    src = f"{src} + {x} @ {self._weight(g, (sequences[x][1], cols))}"
            body += g.statements + [f"{s} = tanh({src})"]
            g.statements = []
        terms = []
        if r.random() < 0.7:
            e = self._scalar(g)
            if not set(states) & _names("; ".join(g.statements + [e])):  # a loss of the step reads a state
                e = f"{self._paren(e)} + sum({r.choice(list(states))})"
            terms = g.statements + [f"{acc} = {acc} {r.choice('+-')} {self._paren(e)}"]
            g.statements = []
        # the read-out after the loop: states and shared weights, no sequence, no intermediate
        readout = None
        if not terms or r.random() < 0.4:
            g.reserved |= {n for n, _ in g.named}  # the body's intermediates: not a new variable's name
            g.named = []
            kept = {x: g.vars.pop(x) for x in sequences}
            for _ in range(20):  # an attempt that named an intermediate is dropped, its names with it
                g.statements, g.named = [], []
                e = self._scalar(g)
                if not g.statements:
                    break
            else:
                e = "sum(" + first + ")"
            g.vars.update(kept)
            if not set(states) & _names(e):
                e = f"{self._paren(e)} + sum({first})"
            readout = e
        if terms and readout is not None:
            final = f"{acc} {r.choice('+-')} {self._paren(readout)}"
        else:
            final = acc if terms else readout
        lines = [f"{s} = {init}" for s, (_, init) in states.items()]
        if terms:
            lines.append(f"{acc} = 0")
        lines.append(f"for {index} in range({length}):")
        lines += ["    " + _subscript(x, sequences, index) for x in body + terms]
        lines.append(final)
        program = "\n".join(lines) + "\n"
        return self._finish(g, program, states, sequences, index, length)

    def _weight(self, g, shape):
        name = g._fresh_name()
        g.vars[name] = (shape, False)
        return name

    def _scalar(self, g):
        r = self.r
        if r.random() < 0.4:
            return ast.unparse(g.gen((1, 1), r.randint(2, 4)).node)
        dims = g.dims()
        inner = g.gen((r.choice(dims), r.choice(dims)), r.randint(2, 4))
        return ast.unparse(_call(r.choice(("sum", "mean")), inner))

    @staticmethod
    def _paren(src):
        return src if isinstance(ast.parse(src, mode="eval").body, (ast.Name, ast.Call)) else f"({src})"

    def _finish(self, g, program, states, sequences, index, length):
        r = self.r
        used = _names(program)
        inits = {init: shape for shape, init in states.values()}
        names = [v for v in g.vars if v in used and v not in states]
        names += [init for init in inits if init not in names]
        shapes = {}
        for v in names:
            if v in sequences:
                shapes[v] = (length, *sequences[v])
            elif v in inits:
                shapes[v] = inits[v]
            else:
                shapes[v] = g.vars[v][0]
        in_shapes = {d for s in shapes.values() for d in s if d != length}
        if not g.number_dims <= in_shapes:
            return None
        steps = r.randint(1, 4)
        sizes = {d: s for d, s in g.sizes.items() if d in in_shapes}
        sizes[length] = steps
        values = {}
        for v in names:
            positive = v in g.vars and g.vars[v][1] and v not in states
            draw = (lambda: r.uniform(0.5, 2.0)) if positive else (lambda: r.gauss(0.0, 1.0))
            shape = shapes[v]
            matrix = lambda s: [[draw() for _ in range(g.size(s[1]))] for _ in range(g.size(s[0]))]  # noqa: E731
            values[v] = [matrix(shape[1:]) for _ in range(steps)] if v in sequences else matrix(shape)
        wrt = sorted(r.sample(names, r.randint(1, len(names))), key=names.index)
        return LoopExample(self.seed, program, shapes, sizes, wrt, values, index, length)
