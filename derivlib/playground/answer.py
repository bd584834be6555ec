"""Check a reader's gradient against the engine's, and say how it is wrong.

The reader's candidate, written in the engine's expression syntax, and the engine's
gradient are both evaluated with :func:`derivlib.engine.evaluate_pure` on random
matrices whose named dimensions are distinct primes (3, 5, 7, ...), so that a transpose,
a missing sum over the batch or a factor 1/n cannot hide behind equal sizes. The
diagnosis is :func:`derivlib.check.gradcheck`'s (:mod:`derivlib.relation`). Standard library
only: this module also runs in the browser, on Pyodide.
"""

from __future__ import annotations

import ast
import copy
import math
import random
import re
from typing import NamedTuple

from ..diagnosis import Diagnosis
from ..engine import derive, evaluate_pure, parse
from ..engine.rules import FORGETTABLE as ACTIVATIONS  # the activations whose derivative an answer may forget
from ..engine.dims import names as dim_names
from ..engine.dims import size as dim_size
from ..engine.sample import positive_variables
from ..relation import LISTS, relate

__all__ = ["Verdict", "KINDS", "dimension_sizes", "random_env", "diagnose", "check_answer"]

RTOL = 1e-8
_NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*\Z")


class Verdict(NamedTuple):
    """The outcome of :func:`check_answer`.

    ``right``; ``kind``, the playground's diagnosis (one of :data:`KINDS`); ``message``, in
    words; ``diagnosis``, the :class:`derivlib.diagnosis.Diagnosis` that
    :func:`derivlib.check.gradcheck` gives the same wrong gradient (None when right).
    """

    right: bool
    kind: str
    message: str
    diagnosis: Diagnosis | None = None


#: The playground's kinds and the gradcheck :class:`~derivlib.diagnosis.Diagnosis` of each.
#: Three are finer than gradcheck's: "missing sigma'" and "a path missing" (a variable used
#: twice, such as tied weights, with one use's gradient left out; gradcheck: wrong values) and
#: "off by 1/n" when yours is n times the gradient (gradcheck: a constant factor). A verdict's
#: ``diagnosis`` is the one gradcheck gives that value (:func:`derivlib.relation.relate`), which
#: may be a neighbour of the one listed: a factor 1/2 is a mean where a sum belongs
#: (``MEAN_WHERE_SUM``), an antisymmetric gradient's transpose is also its negative, one number
#: wrong is ``ONE_VALUE`` whatever the factor.
KINDS = {
    "right": None,
    "wrong shape, its transpose is right": Diagnosis.SHAPE_TRANSPOSED,
    "not summed over the batch": Diagnosis.SHAPE_NOT_SUMMED,
    "wrong shape": Diagnosis.SHAPE_UNRELATED,
    "transposed": Diagnosis.TRANSPOSED,
    "sign flipped": Diagnosis.SIGN_FLIPPED,
    "off by 1/n": Diagnosis.MEAN_WHERE_SUM,
    "off by a factor": Diagnosis.CONSTANT_FACTOR,
    "missing sigma'": Diagnosis.WRONG_VALUES,
    "a path missing": Diagnosis.WRONG_VALUES,
    "unrelated": Diagnosis.WRONG_VALUES,
    "right only if the rows of the target sum to 1": Diagnosis.WRONG_VALUES,
    "not finite": Diagnosis.NOT_FINITE,
}


def dimension_sizes(shapes: dict, first: int = 3) -> dict:
    """Distinct primes from ``first`` on for the named dimensions, skipping the integers in ``shapes``.

    >>> dimension_sizes({"X": ("n", "p"), "b": (1, "p"), "W": ("p", 3)})
    {'n': 5, 'p': 7}
    """
    fixed = {d for shape in shapes.values() for d in shape if isinstance(d, int)}
    free = (p for p in _primes() if p >= first and p not in fixed)
    sizes = {}
    for shape in shapes.values():
        for d in shape:
            for x in dim_names(d):
                if x not in sizes:
                    sizes[x] = next(free)
    return sizes


def _primes():
    n = 2
    while True:
        if all(n % k for k in range(2, int(n ** 0.5) + 1)):
            yield n
        n += 1


def random_env(shapes: dict, sizes: dict, rng: random.Random, positive=(), indices=None) -> dict:
    """A random matrix (list of lists) for each variable, a 1×1 one for a number (shape ``()``).

    Entries are normal, or uniform in (0.5, 1.5) for the names in ``positive`` (or for every
    name when ``positive`` is True). Each index vector of ``indices`` (name -> ``(n, k)``)
    gets n integers drawn uniformly from range(k), as the engine's check draws them.
    """
    env = {}
    for name, shape in shapes.items():
        rows, cols = (dim_size(d, sizes) for d in shape) if shape else (1, 1)  # 4*h: 4 times h's size
        if positive is True or name in positive:
            env[name] = [[rng.uniform(0.5, 1.5) for _ in range(cols)] for _ in range(rows)]
        else:
            env[name] = [[rng.gauss(0.0, 1.0) for _ in range(cols)] for _ in range(rows)]
    for name, (n, k) in (indices or {}).items():
        env[name] = [rng.randrange(dim_size(k, sizes)) for _ in range(dim_size(n, sizes))]
    return env


def _evaluate(node, env: dict, sizes: dict):
    """:func:`derivlib.engine.evaluate_pure` of ``node`` given only the values of the names it reads.

    ``env`` may hold index vectors (lists of ints) beside the matrices; a node that does not
    read one would take it for a malformed matrix.
    """
    seen, reads, todo = set(), set(), [node]
    while todo:
        n = todo.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        if n.op in ("var", "index"):
            reads.add(n.attr.ident)
        todo.extend(n.args)
        todo.extend(x for x in (n.attr if n.op == "ref" else None, n.aux) if x is not None)
    return evaluate_pure(node, {k: v for k, v in env.items() if k in reads}, sizes=sizes)


def _shape(m) -> tuple:
    return (len(m), len(m[0]))


def _flat(m) -> list:
    return [x for row in m for x in row]


def _close(a, b) -> bool:
    fa, fb = _flat(a), _flat(b)
    scale = max([1.0] + [abs(x) for x in fb])
    return len(fa) == len(fb) and all(abs(x - y) <= RTOL * scale for x, y in zip(fa, fb))


def _dims(shape) -> str:
    return "×".join(str(d) for d in shape)


def _wrong(kind: str, message: str, diagnosis: Diagnosis | None = None) -> Verdict:
    return Verdict(False, kind, message, diagnosis or KINDS[kind])


def diagnose(candidate, truth, name: str, *, sizes: dict, alternatives=()) -> Verdict:
    """Compare ``candidate`` with the true gradient ``truth`` (both lists of lists).

    The diagnosis is :func:`derivlib.relation.relate`'s, as :func:`derivlib.check.gradcheck`
    decides it (``Verdict.diagnosis``), put in the playground's kinds and words:
    ``sizes`` maps dimension names to their sizes (a factor 1/size is then named);
    ``alternatives`` are ``(kind, what, matrix)``: known wrong gradients, such as the one
    with an activation's derivative left out, recognised when the candidate equals one.

    Examples
    --------
    >>> T = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    >>> diagnose(T, T, "W", sizes={}).kind
    'right'
    >>> diagnose([[-x for x in row] for row in T], T, "W", sizes={}).kind
    'sign flipped'
    >>> diagnose([[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]], T, "W", sizes={}).kind
    'wrong shape, its transpose is right'
    """
    grad = f"∂L/∂{name}"
    got, want = _shape(candidate), _shape(truth)
    if got == want and LISTS.finite(candidate) and _close(candidate, truth):
        return Verdict(True, "right", f"Right: your gradient equals {grad}.")
    ft = _flat(truth)
    scale = max([1.0] + [abs(x) for x in ft])

    def close(m):  # entries row by row, against the truth's
        return len(m) == len(ft) and all(abs(x - y) <= RTOL * scale for x, y in zip(m, ft))

    kind, numbers = relate(candidate, want, LISTS.flat, ft, close)
    if kind is Diagnosis.NOT_FINITE:
        return _wrong("not finite", f"Wrong: your gradient has NaN or infinite entries where {grad} has none.")
    if got != want:
        return _wrong_shape(kind, numbers, candidate, got, want, name, grad, close)
    if kind in (Diagnosis.TRANSPOSED, Diagnosis.TRANSPOSED_OR_SIGN_FLIPPED):
        return _wrong("transposed", f"Wrong: yours is the transpose of {grad} (the shapes agree only "
                      "because it is square).", kind)
    for alternative, what, value in alternatives:
        if _close(candidate, value):
            return _wrong(alternative, f"Wrong: yours is {grad} {what}.", kind)
    if kind is Diagnosis.TRUE_GRADIENT_ZERO:
        return _wrong("unrelated", f"Wrong: {grad} is zero at this point and yours is not.", kind)
    k = numbers["got"] / numbers["want"] if kind is Diagnosis.ONE_VALUE else numbers.get("k")
    if kind is Diagnosis.SIGN_FLIPPED:
        k = -1.0
    if k is not None and abs(k) > 1e-12:
        return _factor(k, grad, sizes, kind)
    if not any(_flat(candidate)):
        return _wrong("unrelated", f"Wrong: yours is zero where {grad} is not.", kind)
    return _wrong("unrelated", f"Wrong: yours is not {grad}, nor its transpose, a multiple of it, or "
                  "it with a sum or an activation's derivative missing; a term is likely wrong, or a matrix "
                  "product stands where an element-wise one belongs.", kind)


def _wrong_shape(kind, numbers, candidate, got, want, name, grad, close) -> Verdict:
    """The verdict on a candidate of the wrong shape, which ``relate`` found to be ``kind``."""
    head = f"Wrong shape: yours is {_dims(got)}, {grad} is {_dims(want)}, the shape of {name}."
    if kind is Diagnosis.SHAPE_TRANSPOSED:
        return _wrong("wrong shape, its transpose is right",
                      head + " Its transpose is right: a gradient has the shape of its variable, "
                      "so transpose yours (or swap the factors of the product and transpose each).", kind)
    if kind is Diagnosis.SHAPE_FLATTENED:
        return _wrong("wrong shape", head + f" Its entries, read row by row into the shape of {name}, are "
                      "right: a gradient has the shape of its variable.", kind)
    if kind is Diagnosis.SHAPE_NOT_SUMMED and numbers["axis"] == 0 and want == (1, got[1]):
        return _wrong("not summed over the batch",
                      head + f" Summed over its {got[0]} rows, the samples of the batch, it is right: "
                      f"{name} is shared by every sample, so its gradient sums their contributions "
                      f"(multiply by a row of ones on the left, 1ᵀ).", kind)
    if kind is Diagnosis.SHAPE_NOT_SUMMED and numbers["axis"] == 1 and want == (got[0], 1):
        return _wrong("not summed over the batch",
                      head + f" Summed over its {got[1]} columns it is right: {name} is broadcast "
                      "across them, so its gradient sums their contributions (multiply by a column "
                      "of ones on the right, 1).", kind)
    if kind is Diagnosis.SHAPE_NOT_SUMMED:
        over = f"its {got[0]} rows" if numbers["axis"] == 0 else f"its {got[1]} columns"
        return _wrong("not summed over the batch", head + f" Summed over {over} and written as "
                      f"{_dims(want)}, it is right: a gradient has the shape of its variable.", kind)
    if want[0] == 1 and got[1] == want[1] and close([sum(c) / got[0] for c in zip(*candidate)]):
        return _wrong("not summed over the batch",
                      head + f" Averaged over its {got[0]} rows, the samples of the batch, it is right: "
                      f"{name} is shared by every sample, and the expression takes the mean over them "
                      f"(multiply by a row of ones on the left, 1ᵀ, and divide by {got[0]}).", kind)
    return _wrong("wrong shape",
                  head + " Neither its transpose nor a sum over its rows or columns is the gradient.", kind)


def _factor(k, grad, sizes, kind) -> Verdict:
    """The verdict on a candidate ``k`` times the gradient (``kind``, as ``relate`` said)."""
    if abs(k + 1) < 1e-6:
        return _wrong("sign flipped", f"Wrong: the sign is flipped, yours is −{grad}.", kind)
    for dim, size in sizes.items():
        if abs(k * size - 1) < 1e-6:
            return _wrong("off by 1/n", f"Wrong: yours is {grad} divided by {dim} (= {size} here): "
                          "a mean where the expression sums, so drop the 1/" + dim + ".", kind)
        if abs(k - size) < 1e-6 * size:
            return _wrong("off by 1/n", f"Wrong: yours is {grad} times {dim} (= {size} here): "
                          f"the expression takes a mean, so divide by {dim}.", kind)
    return _wrong("off by a factor", f"Wrong: yours is {k:.6g} times {grad}; find the constant "
                  f"factor (1/k = {1 / k:.6g}).", kind)


def _step_names(d, shapes: dict, name: str) -> dict:
    """The steps the candidate may use by name: name -> node.

    The forward intermediates (``S`` for ``sigmoid(...)``) and the backward adjoints
    (``Delta``, ``delta2``, ``G_H``), as the derivation shows them; not the loss, and not
    the gradient asked for or its paths.
    """
    asked = d.variables.get(name)
    return {step.name: step.node for step in d.steps
            if _NAME.match(step.name) and step.name not in shapes and step.name != "L"
            and (asked is None or step.of is not asked)}


def _missing_paths(d, name: str, env: dict, sizes: dict, node=None) -> list:
    """The gradient of a variable used several times with the paths through some uses left out.

    One alternative ``(kind, what, value)`` per proper, non-empty subset of the paths
    (the derivation's steps of kind ``"path"``), its value the sum of the paths kept.
    ``node`` is the forward node whose gradient is asked, when it is not the variable ``name``.
    """
    asked = d.variables.get(name) if node is None else node
    paths = [s for s in d.backward_steps if s.kind == "path" and s.of is asked]
    if not 1 < len(paths) <= 4:
        return []
    values = [_evaluate(p.node, env, sizes=sizes) for p in paths]
    out = []
    for mask in range(1, 2 ** len(paths) - 1):
        kept = [k for k in range(len(paths)) if mask >> k & 1]
        left = [paths[k] for k in range(len(paths)) if not mask >> k & 1]
        total = values[kept[0]]
        for k in kept[1:]:
            total = [[x + y for x, y in zip(r, q)] for r, q in zip(total, values[k])]
        missing = " and ".join(f"the path through {p.differential} ({p.symbol} = {p.expression})" for p in left)
        out.append(("a path missing", f"without {missing}: {name} is used {len(paths)} times, and its "
                    "gradient adds the gradients through every use", total))
    return out


def _parse_text(candidate: str) -> ast.AST:
    """The Python syntax tree of a candidate, or a ValueError saying where its syntax is wrong."""
    try:
        return ast.parse(candidate.strip(), mode="exec")
    except SyntaxError as exc:
        raise ValueError(f"your gradient is not valid syntax: {exc.msg} in {candidate.strip()!r}") from None


def _inline(expr: str) -> ast.expr:
    """The loss of ``expr`` as one expression tree: ``H = f(A); g(H)`` becomes ``g(f(A))``."""
    tree = ast.parse(expr.strip(), mode="exec")
    bound = {}

    class Substitute(ast.NodeTransformer):
        def visit_Name(self, node):
            return copy.deepcopy(bound[node.id]) if node.id in bound else node

    for statement in tree.body[:-1]:  # the engine accepted expr: `name = expression` or `a, b = split(A, 2)`
        if isinstance(statement.targets[0], ast.Name):  # blocks of a split stay names
            bound[statement.targets[0].id] = Substitute().visit(statement.value)
    return Substitute().visit(tree.body[-1].value)


def _activations(tree) -> list:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
            and n.func.id in ACTIVATIONS and len(n.args) == 1 and not n.keywords]


class _StraightThrough(ast.NodeTransformer):
    """``f(A)`` -> ``A + c`` for the calls named in ``consts`` (their text -> the constant's name)."""

    def __init__(self, consts):
        self.consts = consts

    def visit_Call(self, node):
        text = ast.unparse(node)
        node = self.generic_visit(node)
        if text in self.consts:
            return ast.BinOp(node.args[0], ast.Add(), ast.Name(self.consts[text], ast.Load()))
        return node


def _missing_derivatives(expr: str, shapes: dict, name: str, env: dict, sizes: dict, indices=None) -> list:
    """The gradient with an activation's derivative left out (``sigmoid(A)`` passes dA through).

    Each activation ``f(A)`` in turn (every use of the same ``f(A)`` together), then all of
    them, becomes ``A + C`` with the constant ``C = f(A) - A`` at this point: the values stay
    the same, and the derivative through that node becomes the identity.
    """
    if any(isinstance(t, ast.Tuple) for s in ast.parse(expr.strip()).body[:-1] for t in s.targets):
        return []  # the blocks of a split are not inlined: no rewritten expression to derive
    texts = list(dict.fromkeys(ast.unparse(c) for c in _activations(_inline(expr))))
    choices = [[t] for t in texts] + ([texts] if len(texts) > 1 else [])
    out = []
    for choice in choices:
        consts, extra_shapes, extra_env = {}, {}, {}
        for i, text in enumerate(choice):
            const = f"c{i}_"
            while const in shapes:
                const += "_"
            call = ast.parse(text, mode="eval").body
            inner = ast.unparse(call.args[0])
            consts[text] = const
            extra_shapes[const] = parse(inner, shapes, indices=indices).shape
            extra_env[const] = _evaluate(parse(f"{text} - ({inner})", shapes, indices=indices), env, sizes=sizes)
        rewritten = ast.unparse(_StraightThrough(consts).visit(_inline(expr)))
        grad = derive(rewritten, shapes={**shapes, **extra_shapes}, wrt=[name],
                      indices=indices).gradient_expressions[name]
        what = " and ".join(f"{t.partition('(')[0]}′ at {t}" for t in choice)
        out.append(("missing sigma'", f"without the derivative {what}: an element-wise activation multiplies "
                    "its incoming gradient by its derivative, element by element",
                    _evaluate(grad, {**env, **extra_env}, sizes=sizes)))
    return out


def check_answer(d, expr: str, shapes: dict, name: str, candidate: str, *, seed: int = 0) -> Verdict:
    """Is ``candidate`` the gradient of ``expr`` with respect to ``name``? A :class:`Verdict`.

    ``d`` is ``derive(expr, shapes=shapes, wrt=[name, ...], indices=...)``. The candidate may
    use the variables, the derivation's step names, forward (``S``) and backward (``Delta``,
    ``G_H``) but not the gradient asked for, the step function ``[Z > 0]``, the
    dimensions' names as numbers and the index vectors of ``d.indices`` through
    ``onehot(y)``, ``pick(S, y)`` and ``take(E, y)``; the random point draws each index
    vector's integers.
    Raises ``ValueError`` (naming what is wrong) when the candidate does not parse or its
    products do not conform.
    """
    if not isinstance(candidate, str) or not candidate.strip():
        raise ValueError("write your gradient as an expression, such as X.T @ G")
    declared = {**shapes, **d.indices}  # an index vector's n and k are dimensions too
    verdict = _check_at(d, expr, shapes, name, candidate, dimension_sizes(declared), seed)
    if verdict.kind == "off by 1/n":  # a factor equal to a size: is it that size at other sizes too?
        return _check_at(d, expr, shapes, name, candidate, dimension_sizes(declared, first=5), seed + 1)
    return verdict


def _check_at(d, expr: str, shapes: dict, name: str, candidate: str, sizes: dict, seed: int) -> Verdict:
    """:func:`check_answer` at one random point with the dimensions' ``sizes``."""
    forward = _step_names(d, shapes, name)
    asked = {s.name for s in d.steps if s.of is d.variables.get(name)}
    used = {n.id for n in ast.walk(_parse_text(candidate)) if isinstance(n, ast.Name)}
    if used & asked:
        raise ValueError(f"{', '.join(sorted(used & asked))} is ∂L/∂{name} itself, the gradient asked for: write "
                         "it with the variables and the other steps")
    named = {**shapes, **{k: v.shape for k, v in forward.items()}}
    numbers = {}
    indices = d.indices
    try:
        node = parse(candidate, named, step=True, indices=indices)
    except ValueError:
        # a dimension's name is also a number (X.T @ D / n): then the shapes are numbers
        numbers = {dim: [[float(size)]] for dim, size in sizes.items() if dim in used and dim not in named}
        if not numbers:
            raise
        sized = {k: tuple(sizes.get(x, x) for x in v) for k, v in named.items()}
        node = parse(candidate, {**sized, **{k: (1, 1) for k in numbers}}, step=True,
                     indices={k: tuple(sizes.get(x, x) for x in v) for k, v in indices.items()})
    rng = random.Random(seed)
    # positive where the engine says so (log, sqrt, division by a variable); then, if the
    # point is still outside the expression's domain, every variable positive
    for positive in (positive_variables(d), True):
        env = random_env(shapes, sizes, rng, positive, indices)
        try:
            truth = _evaluate(d.gradient_expressions[name], env, sizes=sizes)
            values = {k: _evaluate(v, env, sizes=sizes) for k, v in forward.items()}
            alternatives = (_missing_paths(d, name, env, sizes)
                            + _missing_derivatives(expr, shapes, name, env, sizes, indices))
        except (ValueError, OverflowError, ZeroDivisionError):
            continue
        if all(math.isfinite(x) for x in _flat(truth)):
            break
    else:
        raise ValueError("the expression cannot be evaluated at random points (a log or a division by zero)")
    try:
        value = _evaluate(node, {**env, **values, **numbers}, sizes=_used(sizes, numbers))
    except (ValueError, OverflowError, ZeroDivisionError) as err:
        return _wrong("not finite", f"Wrong: your gradient cannot be evaluated at a random point ({err}).")
    verdict = diagnose(value, truth, name, sizes=sizes, alternatives=alternatives)
    if verdict.kind not in ("unrelated", "wrong shape"):  # (Ŷ − Y)/n for a bias: not summed, and one-hot
        return verdict
    # the textbook's softmax cross-entropy gradient assumes targets whose rows sum to 1
    for target in _targets(expr, shapes):
        probs = {**env, target: [[x / sum(row) for x in row] for row in random_env(shapes, sizes, rng, True)[target]]}
        try:
            at = {**probs, **{k: _evaluate(v, probs, sizes=sizes) for k, v in forward.items()}, **numbers}
            there = diagnose(_evaluate(node, at, sizes=_used(sizes, numbers)),
                             _evaluate(d.gradient_expressions[name], probs, sizes=sizes), name, sizes=sizes)
        except (ValueError, OverflowError, ZeroDivisionError):
            continue
        assumes = (f"For any {target}, ∂L/∂{name} has the row sums of {target} where yours assumes 1: "
                   f"write Ŷ ∘ ({target}1) (sum({target}, axis=1) in this syntax) for Ŷ.")
        if there.right:
            return _wrong("right only if the rows of the target sum to 1",
                          f"Right only when each row of {target} sums to 1 (one-hot or probability targets). "
                          + assumes)
        if there.kind not in ("unrelated", "wrong shape"):
            said = there.message.removeprefix("Wrong: ")
            said = said[0].lower() + said[1:] if said.startswith("Wrong") else said  # "wrong shape: yours is"
            return there._replace(diagnosis=Diagnosis.WRONG_VALUES,  # gradcheck, at a general point
                                  message=f"Wrong, even where each row of {target} sums to 1: {said} "
                                  f"And {assumes[0].lower()}{assumes[1:]}")
    return verdict


def _used(sizes: dict, numbers: dict) -> dict:
    """The sizes of the dimensions, but for those the candidate uses as numbers (then 1×1 values)."""
    return {k: v for k, v in sizes.items() if k not in numbers}


def _targets(expr: str, shapes: dict) -> list:
    """Variables multiplied element-wise with a log or log-softmax: cross-entropy targets."""
    found = []
    for node in ast.walk(_inline(expr)):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            for a, b in ((node.left, node.right), (node.right, node.left)):
                if (isinstance(a, ast.Name) and a.id in shapes and isinstance(b, ast.Call)
                        and isinstance(b.func, ast.Name) and b.func.id in ("log_softmax", "log")):
                    found.append(a.id)
    return list(dict.fromkeys(found))
