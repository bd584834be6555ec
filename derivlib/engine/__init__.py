"""TEMPORARY STUB of the engine's contracted API, for the playground's plumbing only.

Deleted when the real engine (branch `engine`) is merged.
"""

import ast


class ExpressionError(ValueError):
    pass


class _Node:
    def __init__(self, tree, shape):
        self.tree, self.shape = tree, shape


def parse(expr, shapes):
    try:
        tree = ast.parse(expr, mode="eval").body
    except SyntaxError as err:
        raise ExpressionError(f"not an expression: {err.msg}") from None
    return _Node(tree, _shape(tree, shapes))


def _shape(t, shapes):
    if isinstance(t, ast.Name):
        if t.id not in shapes:
            raise ExpressionError(f"unknown name {t.id!r}")
        return tuple(shapes[t.id])
    if isinstance(t, ast.Constant):
        return (1, 1)
    if isinstance(t, ast.Attribute) and t.attr == "T":
        a = _shape(t.value, shapes)
        return (a[1], a[0])
    if isinstance(t, ast.Call) and t.func.id == "sum":
        return (1, 1)
    if isinstance(t, ast.Call):
        return _shape(t.args[0], shapes)
    if isinstance(t, ast.UnaryOp):
        return _shape(t.operand, shapes)
    if isinstance(t, ast.BinOp):
        a, b = _shape(t.left, shapes), _shape(t.right, shapes)
        if isinstance(t.op, ast.MatMult):
            if a[1] != b[0]:
                raise ExpressionError(f"{ast.unparse(t)}: {a} @ {b} does not conform")
            return (a[0], b[1])
        return a if a != (1, 1) else b
    raise ExpressionError(f"unsupported: {ast.unparse(t)}")


def evaluate_pure(node, env):
    raise NotImplementedError


class _Step:
    def __init__(self, name, shape, latex, text):
        self.name, self.shape, self.latex, self.text = name, shape, latex, text


class _Report:
    passed = True

    def __str__(self):
        return "stub: nothing checked"


class _Derivation:
    def __init__(self, node, wrt):
        self.steps = [_Step("L", node.shape, "L = \\sigma(X W + \\mathbf{1} b)", "L = sigma(XW + 1b)")]
        self.gradient_expressions = {}

    def latex(self):
        return "\\begin{aligned} L &= \\mathbf{1}^T\\big(G \\circ \\sigma(XW + \\mathbf{1}b)\\big)\\mathbf{1} && 1\\times 1 \\end{aligned}"

    def text(self):
        return "L = 1ᵀ(G ∘ σ(XW + 1b))1    1×1"

    def check_pure(self, sizes=None, seed=0):
        return _Report()


def derive(expr, shapes, wrt):
    return _Derivation(parse(expr, shapes), wrt)
