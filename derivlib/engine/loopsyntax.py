"""The syntax of a loop program (standard library only): :func:`has_loop` and
:class:`LoopProgram`, which reads the states, the accumulator, the loop's body and the final
expression, refusing with an ExpressionError what is outside the language (a nested loop,
indexing other than ``X[t]``, a range that is not a declared sequence length, ...). The
derivation is :mod:`derivlib.engine.loops`'.
"""

from __future__ import annotations

import ast

from .nodes import ExpressionError
from .parse import check_shapes

__all__ = ["has_loop", "LoopProgram"]



def has_loop(expr):
    """Whether the program ``expr`` (a string) has a ``for`` statement at its top level."""
    if not isinstance(expr, str) or "for" not in expr:
        return False
    try:
        tree = ast.parse(expr.strip("\n"), mode="exec")
    except SyntaxError:
        return False
    return any(isinstance(s, ast.For) for s in tree.body)



# ---------------------------------------------------------------------------------- the program
class LoopProgram:
    """A loop program read from its syntax: the parts a :class:`LoopDerivation` derives.

    Attributes: ``index`` (the loop variable, ``"t"``), ``length`` (the range, ``"T"``),
    ``states`` (state -> its initial variable), ``accumulator`` (its name or None),
    ``sequences`` (name -> declared (length, rows, columns)), ``shared`` (name -> shape, the
    variables every step reads whole), ``body`` (the body's statements as source lines, the
    sequences read as ``X`` and the previous states as ``prev[state]``), ``terms`` (the
    per-step loss terms, source), ``readout`` (the read-out's source after the loop, with the
    states as their names, or None).
    """

    def __init__(self, expr, shapes):
        if not isinstance(expr, str):
            raise TypeError(f"expr must be a string of Python syntax; got {type(expr).__name__}")
        if not isinstance(shapes, dict):
            raise TypeError(f"shapes must be a dict mapping each variable to its shape; got {type(shapes).__name__}")
        self.expr = expr
        shapes = {k: tuple(d.strip() for d in v.split(",")) if isinstance(v, str) and v.count(",") == 2 else v
                  for k, v in shapes.items()}
        seq = {k: v for k, v in shapes.items() if isinstance(v, (tuple, list)) and len(v) == 3}
        plain = check_shapes({k: v for k, v in shapes.items() if k not in seq})
        checked = check_shapes({k: tuple(v[1:]) for k, v in seq.items()})
        lengths = check_shapes({k: (v[0], 1) for k, v in seq.items()})
        self.sequences = {k: (lengths[k][0], *checked[k]) for k in seq}
        self.plain = plain
        try:
            tree = ast.parse(expr.strip("\n"), mode="exec")
        except SyntaxError as exc:
            raise ExpressionError(f"expr is not valid Python syntax: {exc.msg} (line {exc.lineno})") from None
        loops = [i for i, s in enumerate(tree.body) if isinstance(s, ast.For)]
        if len(loops) != 1:
            raise ExpressionError(f"a program has one for loop; got {len(loops)}")
        k = loops[0]
        before, loop, after = tree.body[:k], tree.body[k], tree.body[k + 1:]
        self._read_before(before)
        self._read_header(loop)
        if len(after) != 1 or not isinstance(after[0], ast.Expr):
            raise ExpressionError("after the loop comes one expression, the loss (the accumulator, e.g. 'L', or a "
                                  "read-out of the state such as 'sum(G * H)'); got "
                                  + (repr("; ".join(ast.unparse(s) for s in after)) if after else "nothing"))
        self._read_body(loop.body)
        self._read_final(after[0].value)

    # -- before the loop: the states' initial values and the accumulator ----------------------------
    def _read_before(self, before):
        self.states, self.accumulator = {}, None
        for s in before:
            if not (isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name)):
                raise ExpressionError(f"before the loop, only a state's initial value ('H = H0', H0 a declared "
                                      f"variable) or an accumulator ('L = 0'); got {ast.unparse(s)!r}")
            name, value = s.targets[0].id, s.value
            if name in self.plain or name in self.sequences:
                raise ExpressionError(f"{ast.unparse(s)!r}: {name!r} is a declared variable; name the state or the "
                                      f"accumulator otherwise")
            if name in self.states or name == self.accumulator:
                raise ExpressionError(f"{ast.unparse(s)!r}: {name!r} is bound twice before the loop")
            if isinstance(value, ast.Constant) and value.value == 0 and not isinstance(value.value, bool):
                if self.accumulator is not None:
                    raise ExpressionError(f"{ast.unparse(s)!r}: one accumulator per program; "
                                          f"{self.accumulator!r} is already one")
                self.accumulator = name
            elif isinstance(value, ast.Name) and value.id in self.plain:
                self.states[name] = value.id
            else:
                raise ExpressionError(f"{ast.unparse(s)!r}: a state starts as a declared variable (H = H0) and "
                                      f"an accumulator as 0 (L = 0)")

    def _read_header(self, loop):
        if loop.orelse or not isinstance(loop.target, ast.Name):
            raise ExpressionError(f"write the loop as 'for t in range(T):'; got 'for {ast.unparse(loop.target)} in "
                                  f"{ast.unparse(loop.iter)}'")
        it = loop.iter
        lengths = sorted({str(v[0]) for v in self.sequences.values()})
        arg = it.args[0] if isinstance(it, ast.Call) and len(it.args) == 1 else None
        length = (arg.id if isinstance(arg, ast.Name) else arg.value
                  if isinstance(arg, ast.Constant) and type(arg.value) is int else None)
        if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range"
                and not it.keywords and length is not None and str(length) in lengths):
            raise ExpressionError(f"the loop runs over a declared sequence length, 'for {loop.target.id} in "
                                  f"range(T)' with T the first entry of a sequence's shape (X: ('T', 'n', 'd')); "
                                  f"got range {ast.unparse(it)!r}"
                                  + (f" (the sequence lengths: {', '.join(lengths)})" if lengths
                                     else " (no sequence is declared: give one a shape of three entries)"))
        self.index, self.length = loop.target.id, length
        taken = set(self.plain) | set(self.sequences) | set(self.states) | {self.accumulator}
        if self.index in taken:
            raise ExpressionError(f"the loop variable {self.index!r} is already a name of the program")

    # -- the body --------------------------------------------------------------------------------
    def _read_body(self, body):
        names = set(self.plain) | set(self.sequences) | set(self.states) | {self.accumulator, self.index}
        self.prev = {s: _fresh(s + "_prev", names) for s in self.states}
        names |= set(self.prev.values())
        self.arriving = {s: _fresh("Gbar_" + s, names) for s in self.states}
        names |= set(self.arriving.values())
        self.reads = set()  # the sequences and variables the body reads
        bound, lines, self.terms = set(), [], []
        for s in body:
            if isinstance(s, ast.For):
                raise ExpressionError(f"a loop inside a loop is not supported: 'for {ast.unparse(s.target)} in "
                                      f"{ast.unparse(s.iter)}' inside 'for {self.index} in range({self.length})'")
            if not isinstance(s, ast.Assign) or len(s.targets) != 1:
                raise ExpressionError(f"inside the loop, only assignments; got {ast.unparse(s)!r}")
            target = s.targets[0]
            if isinstance(target, ast.Name) and target.id == self.accumulator:
                self.terms.append(self._term(s, bound))
                continue
            value = self._rewrite(s.value, bound, ast.unparse(s))
            targets = target.elts if isinstance(target, ast.Tuple) else [target]
            for t in targets:
                if not isinstance(t, ast.Name):
                    raise ExpressionError(f"{ast.unparse(s)!r}: assign to a name")
                if t.id in bound:
                    raise ExpressionError(f"{ast.unparse(s)!r}: {t.id!r} is assigned twice in the loop body; a state "
                                          f"is rebound once per step")
                if t.id in self.plain or t.id in self.sequences or t.id == self.index:
                    raise ExpressionError(f"{ast.unparse(s)!r}: {t.id!r} is a declared variable or the loop variable")
                bound.add(t.id)
            lines.append(f"{', '.join(t.id for t in targets)} = {ast.unparse(value)}")
        missing = [s for s in self.states if s not in bound]
        if missing:
            raise ExpressionError(f"{', '.join(missing)} is bound before the loop but not rebound inside it: a "
                                  f"state is rebound once per step (H = tanh(X[{self.index}] @ Wx + H @ Wh))")
        if self.accumulator is not None and not self.terms:
            raise ExpressionError(f"the accumulator {self.accumulator!r} is never added to inside the loop: write "
                                  f"{self.accumulator} = {self.accumulator} + (a scalar loss of the step)")
        self.body, self.bound = lines, bound

    def _term(self, s, bound):
        v, acc = s.value, self.accumulator
        if (isinstance(v, ast.BinOp) and isinstance(v.op, (ast.Add, ast.Sub)) and isinstance(v.left, ast.Name)
                and v.left.id == acc and not _mentions(v.right, acc)):
            rhs = ast.unparse(self._rewrite(v.right, bound, ast.unparse(s)))
            return rhs if isinstance(v.op, ast.Add) else f"-({rhs})"
        raise ExpressionError(f"{ast.unparse(s)!r}: an accumulator is updated as {acc} = {acc} + (a scalar) or "
                              f"{acc} = {acc} - (a scalar), reading {acc} nowhere else")

    def _rewrite(self, e, bound, where):
        """``e`` with ``X[t]`` read as ``X`` and a state not yet rebound this step as its previous value."""
        prog = self

        class T(ast.NodeTransformer):
            def visit_Subscript(self, node):
                v, i = node.value, node.slice
                if not (isinstance(v, ast.Name) and v.id in prog.sequences):
                    raise ExpressionError(f"{where!r}: the only indexing is a declared sequence at the loop variable, "
                                          f"X[{prog.index}]; got {ast.unparse(node)!r}")
                if not (isinstance(i, ast.Name) and i.id == prog.index):
                    raise ExpressionError(f"{where!r}: a sequence is read at the loop variable only, "
                                          f"{v.id}[{prog.index}]; got {ast.unparse(node)!r}")
                if prog.sequences[v.id][0] != prog.length:
                    raise ExpressionError(f"{where!r}: {v.id} has {prog.sequences[v.id][0]} entries, but the loop "
                                          f"runs over range({prog.length})")
                prog.reads.add(v.id)
                return ast.copy_location(ast.Name(v.id, ast.Load()), node)

            def visit_Name(self, node):
                if node.id in prog.sequences:
                    raise ExpressionError(f"{where!r}: {node.id} is a sequence: read it as {node.id}[{prog.index}]")
                if node.id == prog.index:
                    raise ExpressionError(f"{where!r}: the loop variable {prog.index} only indexes a sequence, "
                                          f"X[{prog.index}]")
                if node.id == prog.accumulator:
                    raise ExpressionError(f"{where!r}: the accumulator {prog.accumulator} is read only in "
                                          f"{prog.accumulator} = {prog.accumulator} + ...")
                if node.id in prog.states and node.id not in bound:
                    return ast.copy_location(ast.Name(prog.prev[node.id], ast.Load()), node)
                if node.id in prog.plain:
                    prog.reads.add(node.id)
                return node

        return T().visit(ast.parse(ast.unparse(e), mode="eval").body)

    # -- after the loop ----------------------------------------------------------------------------
    def _read_final(self, e):
        acc = self.accumulator
        self.sign = 1
        if isinstance(e, ast.Name) and e.id == acc:
            self.readout = None
            return
        body = e
        if acc is not None and isinstance(e, ast.BinOp) and isinstance(e.op, (ast.Add, ast.Sub)):
            if isinstance(e.left, ast.Name) and e.left.id == acc and not _mentions(e.right, acc):
                body = e.right if isinstance(e.op, ast.Add) else ast.UnaryOp(ast.USub(), e.right)
            elif isinstance(e.op, ast.Add) and isinstance(e.right, ast.Name) and e.right.id == acc \
                    and not _mentions(e.left, acc):
                body = e.left
        if acc is not None and _mentions(body, acc):
            raise ExpressionError(f"the final expression reads the accumulator {acc} as {acc}, {acc} + (a read-out) "
                                  f"or {acc} - (a read-out); got {ast.unparse(e)!r}")
        if acc is not None and body is e:
            raise ExpressionError(f"the final expression must use the accumulator {acc} (write {acc}, or {acc} + a "
                                  f"read-out); got {ast.unparse(e)!r}")
        for node in ast.walk(body):
            if isinstance(node, ast.Subscript):
                raise ExpressionError(f"after the loop, a sequence cannot be read (the loop variable is gone): "
                                      f"{ast.unparse(node)!r}")
            if isinstance(node, ast.Name) and (node.id in self.bound and node.id not in self.states
                                               or node.id == self.index):
                raise ExpressionError(f"after the loop, read a state or a declared variable; {node.id!r} is an "
                                      f"intermediate of the loop body")
            if isinstance(node, ast.Name) and node.id in self.sequences:
                raise ExpressionError(f"after the loop, {node.id} is a sequence of {self.sequences[node.id][0]} "
                                      f"matrices, read only as {node.id}[{self.index}] inside the loop; to use "
                                      f"one matrix after the loop, declare it apart (e.g. {node.id}_last with "
                                      f"shape {self.sequences[node.id][1:]})")
        self.readout = ast.unparse(body)


def _mentions(e, name):
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(e))


def _fresh(ident, taken):
    while ident in taken:
        ident += "_"
    return ident
