"""The names of a derivation's steps (standard library only): its forward order, the letters
of its intermediates (Z, S, Ŷ, L), the adjoints' names (Δ, δ₁, G_W) and a fresh name where
the reader's is taken (Δ′).

:class:`Naming` is a part of :class:`derivlib.engine.derivation.Derivation`.
"""

from __future__ import annotations

from . import dims
from .nodes import Node, Sym
from .rules import ACTIVATIONS, LETTERS, RULES

__all__ = ["Naming", "topo", "fresh"]

#: The activations of a layer: the adjoint of an argument of one is Δ (δ₁, δ₂, ...); of exp, log
#: and sqrt, which are element-wise functions but not a layer's activation, it is G_name.
_LAYER_ACTIVATIONS = tuple(op for op, r in RULES.items() if r.layer)


def topo(root):
    """The nodes below ``root`` (and their aux nodes), each once, every argument before its use."""
    order, seen = [], set()

    def visit(node):
        if id(node) in seen:
            return
        seen.add(id(node))
        for a in node.args:
            visit(a)
        if node.aux is not None:
            visit(node.aux)
        order.append(node)

    visit(root)
    return _blocks_together(order)


def _blocks_together(order):
    """``order`` with the blocks of each split side by side in split order, where the first of them
    was (each depends on its split's argument alone, which comes before): ``[i f o g] = split(A)``
    is one line."""
    groups = {}
    for n in order:
        if n.op == "split" and n.name is not None:
            groups.setdefault((id(n.args[0]), n.attr[2:]), []).append(n)
    # two splits of one matrix into as many blocks (a block index twice) are left as they are
    groups = {k: g for k, g in groups.items() if len({b.attr[0] for b in g}) == len(g)}
    if not groups:
        return order
    out, placed = [], set()
    for n in order:
        if id(n) in placed:
            continue
        group = groups.get((id(n.args[0]), n.attr[2:])) if n.op == "split" and n.name is not None else None
        for m in sorted(group, key=lambda b: b.attr[0]) if group else [n]:
            placed.add(id(m))
            out.append(m)
    return out


def fresh(ident, taken):
    """``ident``, or ``ident`` followed by as few underscores as make it a name not in ``taken``."""
    while ident in taken:
        ident += "_"
    return ident


def _constant(node):
    """A node written with numbers and dimensions only (sqrt(d)): no variable below it."""
    return node.op != "var" and all(_constant(a) for a in node.args)


class Naming:
    """Naming the intermediates and the adjoints of a derivation (a part of ``Derivation``)."""

    def _name_intermediates(self):
        taken = set(self.shapes) | set(self.indices) | set(self.dims())
        taken |= {n.name.ident for n in self.nodes if n.name is not None}
        wanted = []  # (node, letter)
        for n in self.nodes:
            if n.op in ACTIVATIONS and not _constant(n):  # √d is a number, not a step
                a = n.args[0]
                if a.name is None and a.op not in ("var", "const", "dim"):
                    wanted.append((a, "Z"))
                if n.name is None:
                    wanted.append((n, LETTERS[n.op]))
                if n.op == "log_softmax":
                    n.aux = Node("softmax", (a,), a.shape)
                    wanted.append((n.aux, "Yhat"))
            if n.op == "split" and n.args[0].name is None and n.args[0].op != "var":  # G_A = [G_i G_f]
                if all(a is not n.args[0] for a, _ in wanted):
                    wanted.append((n.args[0], "A"))
            if n.op == "max" and n.args[0].name is None and n.args[0].op not in ("var", "const", "dim"):
                # its pullback reads the argument twice (onehot(argmax(A))): a step, computed once
                if all(a is not n.args[0] for a, _ in wanted) and not _constant(n.args[0]):
                    wanted.append((n.args[0], "A"))
        if self.root.name is None:
            wanted.append((self.root, "L"))
        letters = [w for _, w in wanted]
        counters = {}
        for node, letter in wanted:
            if letters.count(letter) == 1 and letter not in taken:
                ident = letter
            else:
                k = counters.get(letter, 0)
                while True:
                    k += 1
                    ident = f"{letter}{k}" if letter[-1].isalpha() else f"{letter}_{k}"
                    if ident not in taken:
                        break
                counters[letter] = k
            taken.add(ident)
            node.name = Sym(ident)
        self._taken = taken  # every name so far: the reader's and the forward steps' (see _fresh_sym)
        # ordered forward: the aux softmax right after its log_softmax
        self.nodes = topo(self.root)
        self.active = set()
        for n in self.nodes:
            if (n.op == "var" and n.attr.ident in self.wrt) or any(id(a) in self.active for a in n.args):
                self.active.add(id(n))
        # Δ, δ₁, δ₂: only the adjoint of a pre-activation (the argument of a layer's activation, as
        # the pages write δ₂ = ∂L/∂Θ), numbered over the network's layers whatever wrt asks for.
        # A block of a split keeps G_ and its name (G_i), so its split's adjoint reads as the block
        # row of the blocks' adjoints, G_A = [G_i G_f G_o G_g], in split order
        pre = [n for n in self.nodes if n.name is not None and n.op not in ("var", "split")
               and any(m.op in _LAYER_ACTIVATIONS and m.args[0] is n for m in self.nodes)]
        self._adjoint_ident = {}
        for k, n in enumerate(pre, 1):
            self._adjoint_ident[id(n)] = "Delta" if len(pre) == 1 else f"delta{k}"

    def _adj_sym(self, n):
        if n.op == "var":
            return self._fresh_sym(Sym("G_" + n.attr.ident))
        ident = self._adjoint_ident.get(id(n)) or "G_" + n.name.ident
        return self._fresh_sym(Sym(ident))

    def _fresh_sym(self, sym):
        """``sym``, or when its name is taken (a reader's variable called ``Delta``), a primed one (Δ′)."""
        ident = fresh(sym.ident, self._taken)
        self._taken.add(ident)
        if ident == sym.ident:
            return sym
        primes = len(ident) - len(sym.ident)
        return Sym(ident, sym.text + "′" * primes, sym.latex + "'" * primes)
