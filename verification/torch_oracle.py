"""An oracle that shares no code with derivlib: the expression run by PyTorch autograd at float64.

:func:`torch_gradients` reads the expression with Python's ``ast`` (not derivlib's
parser), evaluates it on ``torch.float64`` tensors with torch's own operations (its
stable ``sigmoid``, ``softmax`` and ``log_softmax`` over each row) and differentiates
it with ``torch.autograd.grad``. Every value is a 2-D tensor: a number is 1×1, a
dimension name stands for its size as a 1×1 tensor, ``sum``/``mean`` keep their
dimensions, as in derivlib's language. An index vector is a 1-D integer array (a
``torch.long`` tensor, never differentiated): ``take(E, y)`` is
``torch.nn.functional.embedding(y, E)``, ``pick(S, y)`` is ``S.gather(1, y[:, None])`` and
``onehot(y)`` is ``torch.nn.functional.one_hot(y, k)`` with ``k`` from ``classes``.

Examples
--------
>>> import numpy as np
>>> from verification.torch_oracle import torch_gradients
>>> g = torch_gradients("sum(W * W) / n", {"W": np.array([[1.0, 2.0]])}, {"n": 2})
>>> g["W"].tolist()
[[1.0, 2.0]]
"""

from __future__ import annotations

import ast

import numpy as np
import torch

__all__ = ["torch_gradients", "torch_loss", "torch_loop_gradients"]

_FUNCTIONS = {
    "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "exp": torch.exp, "log": torch.log,
    "sqrt": torch.sqrt, "softmax": lambda a: torch.softmax(a, dim=1),
    "softplus": lambda a: torch.nn.functional.softplus(a, threshold=50.0),  # x itself only where exp(−x) < 1e-21
    "log_softmax": lambda a: torch.log_softmax(a, dim=1),
    "abs": torch.abs,
}


def _max(a, axis):
    """torch.max over a dimension: its gradient goes to the index it returns (not split among ties
    as torch.amax's)."""
    if axis is None:
        return a.reshape(-1).max(dim=0).values.reshape(1, 1)
    return a.max(dim=axis, keepdim=True).values


def _im2col(x, image, kernel, stride=1, pad=0):
    """The windows as rows by torch's own ``unfold`` of the NCHW batch: (n·H'W') × (C·kh·kw)."""
    H, W, C = image
    cols = torch.nn.functional.unfold(x.reshape(-1, H, W, C).permute(0, 3, 1, 2), kernel, padding=pad,
                                      stride=stride)  # n × Ckh·kw × H'W'
    return cols.transpose(1, 2).reshape(-1, cols.shape[1])


_WINDOWS = {
    "im2col": _im2col,
    "group": lambda a, m: a.reshape(a.shape[0] // m, -1),
    "ungroup": lambda a, m: a.reshape(a.shape[0] * m, -1),
}
_BINARY = {ast.Add: torch.add, ast.Sub: torch.sub, ast.Mult: torch.mul, ast.Div: torch.div,
           ast.MatMult: torch.matmul}


def _number(v):
    return torch.full((1, 1), float(v), dtype=torch.float64)


def _exponent(e):
    if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.USub):
        return -_exponent(e.operand)
    return e.value


def _index_call(fn, args, classes):
    if fn == "take":
        return torch.nn.functional.embedding(args[1], args[0])
    if fn == "pick":
        return args[0].gather(1, args[1][:, None])
    raise ValueError(f"the torch oracle reads onehot with its classes, not {fn}")


class _Eval:
    def __init__(self, env, sizes, classes=None):
        self.env, self.sizes, self.classes = env, sizes, classes or {}
        self.steps = {}  # a loop variable -> its value

    def __call__(self, e):
        if isinstance(e, ast.Name):
            if e.id in self.env:
                return self.env[e.id]
            return _number(self.sizes[e.id])
        if isinstance(e, ast.Constant):
            return _number(e.value)
        if isinstance(e, ast.UnaryOp):
            a = self(e.operand)
            return -a if isinstance(e.op, ast.USub) else a
        if isinstance(e, ast.BinOp) and isinstance(e.op, ast.Pow):
            return self(e.left) ** _exponent(e.right)
        if isinstance(e, ast.BinOp):
            return _BINARY[type(e.op)](self(e.left), self(e.right))
        if isinstance(e, ast.Subscript):  # X[t] in a loop: the entry of the 3-D tensor at the loop's step
            return self(e.value)[self.steps[e.slice.id]]
        if isinstance(e, ast.Attribute) and e.attr == "T":
            return self(e.value).T
        if isinstance(e, ast.Call) and e.func.id in ("take", "pick", "onehot"):
            args = [self(x) for x in e.args]
            if e.func.id == "onehot":
                name = e.args[0].id
                if name not in self.classes:
                    raise ValueError(f"onehot({name}): give classes={{{name!r}: k}}, the range of {name}")
                return torch.nn.functional.one_hot(args[0], self.classes[name]).to(torch.float64)
            return _index_call(e.func.id, args, self.classes)
        if isinstance(e, ast.Call):
            fn = e.func.id
            if fn == "concat":
                return torch.cat([self(x) for x in e.args], dim=1)
            a = self(e.args[0])
            if fn in _WINDOWS:
                return _WINDOWS[fn](a, *[ast.literal_eval(x) for x in e.args[1:]],
                                    **{k.arg: ast.literal_eval(k.value) for k in e.keywords})
            if fn == "max":
                return _max(a, next((k.value.value for k in e.keywords if k.arg == "axis"), None))
            if fn in _FUNCTIONS:
                return _FUNCTIONS[fn](a)
            axis = next((k.value.value for k in e.keywords if k.arg == "axis"), None)
            reduce = torch.sum if fn == "sum" else torch.mean
            return reduce(a).reshape(1, 1) if axis is None else reduce(a, dim=axis, keepdim=True)
        raise ValueError(f"the torch oracle cannot evaluate {ast.unparse(e)!r}")


def _is_index(v):
    return np.issubdtype(np.asarray(v).dtype, np.integer) and np.ndim(v) == 1


def _tensor(k, v, wrt):
    if _is_index(v):  # an index vector: integers, never differentiated
        return torch.tensor(np.asarray(v), dtype=torch.long)
    return torch.tensor(np.asarray(v, dtype=np.float64), dtype=torch.float64, requires_grad=k in wrt)


def _assign(ev, stmt):
    target = stmt.targets[0]
    if isinstance(target, ast.Tuple):  # i, f, o, g = split(A, 4): torch.split into equal blocks
        a, k = ev(stmt.value.args[0]), stmt.value.args[1].value
        for t, block in zip(target.elts, torch.split(a, a.shape[1] // k, dim=1)):
            ev.env[t.id] = block
    else:
        ev.env[target.id] = ev(stmt.value)


def _statement(ev, stmt):
    """Run one statement; a ``for i in range(N):`` loop (N a number or a dimension name) step by step."""
    if isinstance(stmt, ast.For):
        arg = stmt.iter.args[0]
        length = arg.value if isinstance(arg, ast.Constant) else ev.sizes[arg.id]
        for step in range(length):
            ev.steps[stmt.target.id] = step
            for s in stmt.body:
                _statement(ev, s)
        return
    if isinstance(stmt.value, ast.Constant) and stmt.value.value == 0:  # an accumulator: L = 0
        ev.env[stmt.targets[0].id] = _number(0)
        return
    _assign(ev, stmt)


def _run(expr, values, sizes, wrt, classes=None):
    env = {k: _tensor(k, v, wrt) for k, v in values.items()}
    tree = ast.parse(expr.strip("\n"))
    ev = _Eval(dict(env), sizes, classes)
    for stmt in tree.body[:-1]:
        _statement(ev, stmt)
    return env, ev(tree.body[-1].value)


def torch_loss(expr, values, sizes, classes=None):
    """The loss as a float: ``expr`` on ``values`` (name -> 2-D array, or a 1-D integer array for an
    index vector), dimensions of ``sizes``; ``classes``: index vector -> k, for ``onehot``."""
    with torch.no_grad():
        return float(_run(expr, values, sizes, (), classes)[1].item())


def torch_gradients(expr, values, sizes, wrt=None, classes=None):
    """Gradients of the scalar ``expr`` with respect to ``wrt`` (default: every variable but the
    index vectors), as arrays; ``classes`` as in :func:`torch_loss`."""
    wrt = [k for k, v in values.items() if not _is_index(v)] if wrt is None else list(wrt)
    env, loss = _run(expr, values, sizes, set(wrt), classes)
    if loss.shape != (1, 1):
        raise ValueError(f"{expr!r} is {tuple(loss.shape)}, not a scalar")
    if not loss.requires_grad:  # the loss reads none of wrt (a state the loss never reads): every gradient is 0
        return {w: np.zeros(np.shape(values[w])) for w in wrt}
    grads = torch.autograd.grad(loss.sum(), [env[w] for w in wrt], allow_unused=True)
    return {w: (np.zeros(np.shape(values[w])) if g is None else g.numpy()) for w, g in zip(wrt, grads)}


def torch_loop_gradients(program, values, sizes, wrt=None):
    """Gradients of a loop program's scalar loss, the loop run step by step in torch (unrolled by
    autograd's tape): ``values`` maps a sequence to a 3-D array (its entries ``X[t]``), any other
    variable to a 2-D array; ``sizes`` gives every dimension, the loop's length included."""
    return torch_gradients(program, values, sizes, wrt)
