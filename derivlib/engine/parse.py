"""Parse an expression in Python syntax into typed nodes, with ``ast`` (never ``eval``).

An expression is one Python expression, optionally preceded by assignments that name
intermediates (``"H = sigmoid(X @ W1 + b1); -sum(Y * log_softmax(H @ W2 + b2)) / n"``).
Names are variables (given a shape), assigned intermediates, or dimension names (which
stand for their size, a number: ``/ n``).

A message that names a subexpression quotes it as it was typed, with its parentheses
(``(S * (1 - S)) @ X.T``, which Python would print as ``S * (1 - S) @ X.T``). With
``step=True`` (a reader's answer) the step function the derivations write for ReLU's
derivative, ``[A > 0]``, is also accepted, as ``[A > 0]``, ``(A > 0)`` or ``A > 0``.
"""

from __future__ import annotations

import ast
import math
import sys

from .columns import split_assign
from .dims import names as dim_names
from .indexing import index_node, refuse_use
from .limits import MAX_DEPTH, MAX_LENGTH, MAX_OPERATIONS, guarded
from .nodes import ExpressionError, Node, Sym, const, dim, var
from .rules import FUNCTIONS, RULES
from .shapes import check_indices, check_name, check_shape

__all__ = ["parse", "check_shapes"]

_BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.MatMult: "matmul"}
_OPNAMES = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.MatMult: "@", ast.Pow: "**",
            ast.FloorDiv: "//", ast.Mod: "%", ast.BitXor: "^", ast.BitAnd: "&", ast.BitOr: "|",
            ast.LShift: "<<", ast.RShift: ">>"}


def check_shapes(shapes):
    """Validate ``shapes`` (name -> two dimensions, a tuple or ``"n, q"``); return name -> shape tuple.

    Each shape is read by :func:`.shapes.check_shape`, the rule every entry point shares,
    which names it ``shapes['X']``.
    """
    if not isinstance(shapes, dict):
        raise TypeError(f"shapes must be a dict mapping each variable to its shape, e.g. "
                        f"{{'X': ('n', 'p')}}; got {type(shapes).__name__}")
    out = {}
    for name, shape in shapes.items():
        where = f"shapes[{name!r}]"
        out[check_name(name, where)] = check_shape(shape, where)
    for name in out:
        if any(name in dim_names(d) for s in out.values() for d in s):
            raise ExpressionError(f"shapes: {name!r} is both a variable and a dimension name")
    return out


@guarded("parse")
def parse(expr, shapes, *, step=False, indices=None):
    """The typed expression graph of ``expr``: a :class:`Node` with ``.shape``.

    ``step=True`` accepts the step function ``[A > 0]`` (1 where A > 0, else 0), which the
    derivations write for ReLU's derivative, in a reader's answer. ``indices`` declares
    index vectors, name -> (n, k): n integers in range(k), read by take, pick and onehot
    (``derivlib.engine.indexing``).

    Raises
    ------
    ExpressionError
        (a ValueError) naming the subexpression and the shapes when the expression is
        not in the language or its shapes do not conform, or naming the limit when it is
        longer than ``limits.MAX_LENGTH`` characters or
        ``limits.MAX_OPERATIONS`` operations, or nests deeper than
        ``limits.MAX_DEPTH`` operations (or Python's parser allows).

    Examples
    --------
    >>> from derivlib.engine import parse
    >>> parse("X @ W + b", {"X": ("n", "p"), "W": ("p", "q"), "b": (1, "q")}).shape
    ('n', 'q')
    """
    if not isinstance(expr, str):
        raise TypeError(f"expr must be a string of Python syntax; got {type(expr).__name__}")
    shapes = check_shapes(shapes)
    indices = check_indices(indices, shapes)
    if len(expr) > MAX_LENGTH:
        raise ExpressionError(f"expr is {len(expr):,} characters long; at most {MAX_LENGTH:,}: split it or name "
                              f"fewer, larger matrices")
    tree = _syntax(expr)
    _check_size(tree, expr)
    if not tree.body or not isinstance(tree.body[-1], ast.Expr):
        raise ExpressionError(f"expr must end with an expression (the loss), e.g. 'sum(G * sigmoid(X @ W))'; "
                              f"got {expr!r}")
    p = _Parser(shapes, expr.strip(), step, indices)
    for stmt in tree.body[:-1]:
        p.statement(stmt)
    root = p.node(tree.body[-1].value)
    return root


def _short(expr):
    expr = expr.strip()
    return repr(expr) if len(expr) <= 80 else repr(expr[:60]) + f"... ({len(expr):,} characters)"


def _syntax(expr):
    """``ast.parse`` with its own limits named: a syntax error names the place."""
    try:
        return ast.parse(expr.strip(), mode="exec")
    except SyntaxError as exc:
        if "too many nested parentheses" in str(exc.msg):
            raise ExpressionError(f"expr nests parentheses deeper than Python's parser allows (at most 200 "
                                  f"nested parentheses): name intermediate results (H1 = ...; H2 = ...) in "
                                  f"{_short(expr)}") from None
        raise ExpressionError(f"expr is not valid Python syntax: {exc.msg} in {_short(expr)}") from None
    except (MemoryError, RecursionError):  # the parser's own stack: e.g. thousands of nested minus signs
        raise ExpressionError(f"expr nests operations deeper than Python's parser allows (this engine takes at "
                              f"most {MAX_DEPTH:,} nested operations): name intermediate results (H1 = ...; "
                              f"H2 = ...) in {_short(expr)}") from None


def _check_size(tree, expr):
    """Refuse, naming the limit, a tree with too many operations or nested too deep (no recursion)."""
    count, todo = 0, [(tree, 0)]
    while todo:
        node, depth = todo.pop()
        count += 1
        if depth > MAX_DEPTH:
            raise ExpressionError(f"expr nests more than {MAX_DEPTH:,} operations; at most {MAX_DEPTH:,}: name "
                                  f"intermediate results (H1 = ...; H2 = ...) in {_short(expr)}")
        todo.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    if count > 3 * MAX_OPERATIONS:
        raise ExpressionError(f"expr has more than {MAX_OPERATIONS:,} operations; at most {MAX_OPERATIONS:,}: "
                              f"{_short(expr)}")


def _finite_number(value, src):
    """Refuse a literal that float64 cannot hold (1e400 is inf), naming it."""
    if isinstance(value, float) and not math.isfinite(value) or abs(value) > sys.float_info.max:
        raise ExpressionError(f"{src}: the number is beyond float64's largest, about 1.8e308")


def _constant_value(op, attr, values, src):
    """The value of an operation on numbers alone, or an ExpressionError naming it when that is
    not a finite number (sqrt(-2), 0 ** -1, 10 ** 400): no random point could make it one."""
    try:
        value = RULES[op].pure(attr, {}, *[[[v]] for v in values])[0][0]
    except (ArithmeticError, ValueError):
        value = math.nan
    if not math.isfinite(value):
        raise ExpressionError(f"{src} is {value} in float64: outside the domain of {op}, or too large; a number "
                              f"in an expression must have a finite value")
    return value


class _Src:
    """The source text of a subexpression as typed (with its parentheses), written only when a
    message needs it."""

    __slots__ = ("tree", "source", "text")

    def __init__(self, tree, source):
        self.tree, self.source, self.text = tree, source, None

    def __str__(self):
        if self.text is None:
            self.text = ast.get_source_segment(self.source, self.tree) or ast.unparse(self.tree)
        return self.text

    def __format__(self, spec):
        return format(str(self), spec)

    def __repr__(self):
        return repr(str(self))

    def __bool__(self):
        return True


class _Parser:
    def __init__(self, shapes, text="", step=False, indices=None):
        self.shapes = shapes
        self.indices = indices or {}
        self.text = text
        self.step = step
        self.vars = {}
        self.assigned = {}
        self.depth = {}
        # the nodes made of numbers alone (no dimension) and their values; keyed by identity,
        # holding the node (a node dropped while parsing, --0.5's inner 0.5, must not lend its id)
        self.numbers = {}
        self.operations = 0
        self.dims = {x for s in (*shapes.values(), *self.indices.values()) for d in s for x in dim_names(d)}

    def statement(self, stmt):
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Tuple):
            return split_assign(self, stmt)  # i, f, o, g = split(A, 4)
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
            raise ExpressionError(f"only assignments 'Name = expression' (or 'i, f, o, g = split(A, 4)') may "
                                  f"come before the final expression; got {ast.unparse(stmt)!r}")
        name = stmt.targets[0].id
        self.check_new_name(name, ast.unparse(stmt.value))
        node = self.node(stmt.value)
        if node.op in ("var", "index", "const", "dim") or node.name is not None:
            raise ExpressionError(f"{name} = {ast.unparse(stmt.value)}: name an operation, not a variable "
                                  f"or a number")
        node.name = Sym(name)
        self.assigned[name] = node

    def check_new_name(self, name, what):
        """An ExpressionError when ``name`` is taken (a variable, a dimension, a function, assigned)."""
        if (name in self.shapes or name in self.indices or name in self.assigned or name in self.dims
                or name in FUNCTIONS):
            raise ExpressionError(f"{name!r} is already a variable, a dimension, a function or assigned: "
                                  f"choose another name for {what!r}")

    def node(self, e):
        src = _Src(e, self.text)
        if self.step and isinstance(e, (ast.List, ast.Compare)):
            return self.step_function(e, src)
        if isinstance(e, ast.Name):
            return self.name(e.id, src)
        if isinstance(e, ast.Constant):
            if isinstance(e.value, bool) or not isinstance(e.value, (int, float)):
                raise ExpressionError(f"{src}: only numbers may appear as constants")
            _finite_number(e.value, src)
            node = const(e.value, src)
            self.numbers[id(node)] = (node, float(e.value))
            return node
        if isinstance(e, ast.UnaryOp) and isinstance(e.op, (ast.USub, ast.UAdd)):
            a = self.node(e.operand)
            if isinstance(e.op, ast.UAdd):
                return a
            if a.op == "const":
                node = const(-a.attr, src)
                self.numbers[id(node)] = (node, -self._number(a))
                return node
            return self.make("neg", [a], None, src)
        if isinstance(e, ast.BinOp):
            if isinstance(e.op, ast.Pow):
                return self.power(e, src)
            if type(e.op) not in _BINOPS:
                raise ExpressionError(f"{src}: the operator {_OPNAMES.get(type(e.op), '?')} is not supported; "
                                      f"use @, +, -, *, / or ** with a number")
            return self.make(_BINOPS[type(e.op)], [self.node(e.left), self.node(e.right)], None, src)
        if isinstance(e, ast.Attribute):
            if e.attr != "T":
                raise ExpressionError(f"{src}: the only attribute is .T (transpose)")
            return self.make("T", [self.node(e.value)], None, src)
        if isinstance(e, ast.Call):
            return self.call(e, src)
        raise ExpressionError(f"{src}: not part of the expression language (variables, numbers, @ + - * / "
                              f"** .T and the functions {', '.join(FUNCTIONS)})")

    def step_function(self, e, src):
        """``[A > 0]``, ``(A > 0)`` or ``0 < A``: 1 where A > 0, else 0."""
        inner = e.elts[0] if isinstance(e, ast.List) and len(e.elts) == 1 else e
        if isinstance(inner, ast.Compare) and len(inner.ops) == 1:
            left, op, right = inner.left, inner.ops[0], inner.comparators[0]
            zero = [x for x in (left, right) if isinstance(x, ast.Constant) and x.value == 0
                    and not isinstance(x.value, bool)]
            if isinstance(op, ast.Gt) and zero and zero[0] is right:
                a = self.node(left)
            elif isinstance(op, ast.Lt) and zero and zero[0] is left:
                a = self.node(right)
            else:
                a = None
            if a is not None:
                return Node("step", (a,), a.shape, None, src)
        raise ExpressionError(f"{src}: the only comparison is the step function [A > 0] (1 where A > 0, "
                              f"else 0), the derivative of relu(A)")

    def name(self, ident, src):
        if ident in self.assigned:
            return self.assigned[ident]
        if ident in self.shapes:
            if ident not in self.vars:
                self.vars[ident] = var(Sym(ident), self.shapes[ident], src)
            return self.vars[ident]
        if ident in self.indices:
            if ident not in self.vars:
                self.vars[ident] = index_node(ident, self.indices[ident], src)
            return self.vars[ident]
        if ident in self.dims:
            return dim(ident, src)
        if ident in FUNCTIONS:
            raise ExpressionError(f"{ident} is a function: call it, e.g. {ident}(A)")
        known = sorted(self.shapes) + sorted(self.assigned)
        raise ExpressionError(f"unknown name {ident!r}: give its shape in shapes, e.g. shapes={{{ident!r}: "
                              f"('n', 'q'), ...}} (known: {', '.join(known) or 'none'})")

    def power(self, e, src):
        p = e.right
        sign = 1
        if isinstance(p, ast.UnaryOp) and isinstance(p.op, ast.USub):
            sign, p = -1, p.operand
        if not (isinstance(p, ast.Constant) and isinstance(p.value, (int, float)) and not isinstance(p.value, bool)):
            raise ExpressionError(f"{src}: the exponent must be a number, like A ** 2; got {ast.unparse(e.right)}")
        from fractions import Fraction

        _finite_number(p.value, src)
        return self.make("pow", [self.node(e.left)], Fraction(str(sign * p.value)), src)

    def call(self, e, src):
        if not isinstance(e.func, ast.Name):
            raise ExpressionError(f"{src}: call a function by its name, one of {', '.join(FUNCTIONS)}")
        fn = e.func.id
        if fn not in FUNCTIONS:
            hint = {"square": " (write A ** 2)", "transpose": " (write A.T)", "dot": " (write A @ B)",
                    "matmul": " (write A @ B)", "maximum": " (write relu(A - B) + B for an element-wise maximum)",
                    "cat": " (write concat(A, B))", "hstack": " (write concat(A, B))"}.get(fn, "")
            raise ExpressionError(f"{src}: unknown function {fn!r}{hint}; the functions are "
                                  f"{', '.join(FUNCTIONS)}")
        if RULES[fn].call is not None:
            args, attr = RULES[fn].call(self, e, src)
            return self.make(fn, args, attr, src)
        if len(e.args) != 1:
            raise ExpressionError(f"{src}: {fn} takes one matrix argument")
        axis = None
        for kw in e.keywords:
            if fn not in ("sum", "mean") or kw.arg != "axis":
                raise ExpressionError(f"{src}: {fn} takes no keyword {kw.arg!r}"
                                      + (" (only axis=0 or axis=1)" if fn in ("sum", "mean") else
                                         " (softmax and log_softmax work over each row)"))
            if not (isinstance(kw.value, ast.Constant) and kw.value.value in (0, 1, None)
                    and not isinstance(kw.value.value, bool)):
                raise ExpressionError(f"{src}: axis must be 0 (over rows, giving a 1×q row), 1 (over columns, "
                                      f"giving an n×1 column) or None; got {ast.unparse(kw.value)}")
            axis = kw.value.value
        return self.make(fn, [self.node(e.args[0])], axis, src)

    def _number(self, node):
        """The value of a node made of numbers alone, or None."""
        return self.numbers.get(id(node), (None, None))[1]

    def make(self, op, args, attr, src):
        refuse_use(op, args, src)
        shape = RULES[op].shape(args, attr, src)
        node = Node(op, args, shape, attr, src)
        if op == "div" and self._number(args[1]) == 0.0:
            raise ExpressionError(f"{src}: a division by zero")
        if shape == (1, 1) and args and all(self._number(a) is not None for a in args):
            # numbers only, and a number (concat(1.5, 2) is a 1×2 row): the value must be finite
            self.numbers[id(node)] = (node, _constant_value(op, attr, [self._number(a) for a in args], src))
        depth = 1 + max((self.depth.get(id(a), 0) for a in args), default=0)
        self.operations += 1
        if depth > MAX_DEPTH:
            raise ExpressionError(f"{src}: the expression nests more than {MAX_DEPTH:,} operations, counting "
                                  f"through the names assigned; at most {MAX_DEPTH:,}")
        if self.operations > MAX_OPERATIONS:
            raise ExpressionError(f"the expression has more than {MAX_OPERATIONS:,} operations; at most "
                                  f"{MAX_OPERATIONS:,}")
        self.depth[id(node)] = depth
        return node

