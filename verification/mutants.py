"""The catalogue of wrong formulas that ``tools/mutate.py`` plants in a copy of derivlib.

Each mutant is one realistic mistake, written as an exact text replacement in one file
of derivlib. ``old`` must occur exactly once in that file: if a refactor of derivlib
changes the text, ``make mutate`` fails loudly instead of silently testing nothing.
``old`` and ``new`` may be tuples of equal length when one mistake needs two edits
(e.g. a formula and the import it uses).
"""

from __future__ import annotations

from typing import NamedTuple


class Mutant(NamedTuple):
    name: str
    path: str  # relative to the repository root
    old: str | tuple
    new: str | tuple
    description: str


SL = "derivlib/sigmoid_layer.py"
LD = "derivlib/linear_dot.py"
TL = "derivlib/two_layer.py"
PR = "derivlib/primitives.py"
CK = "derivlib/check.py"
RL = "derivlib/relation.py"
EN = "derivlib/engine/rules.py"
ES = "derivlib/engine/nodes.py"
FD = "derivlib/_fd.py"
RV = "derivlib/engine/reverse.py"
CA = "derivlib/_checkargs.py"
IX = "derivlib/engine/indexing.py"
CO = "derivlib/engine/columns.py"
CV = "derivlib/engine/conv.py"

CATALOGUE = [
    # -- sigmoid layer (source 000) ----------------------------------------------------
    Mutant(
        "sl-dW-delta-xT", SL,
        "dW=X.T @ Delta,",
        "dW=Delta @ X.T,",
        "dW = Δ Xᵀ instead of Xᵀ Δ (the asker's order): conforms only when q = p, "
        "and then has shape (n, n)",
    ),
    Mutant(
        "sl-dW-numerator", SL,
        "dW=X.T @ Delta,",
        "dW=Delta.T @ X,",
        "dW = Δᵀ X, the transpose of the gradient (numerator layout): right shape only when p = q",
    ),
    Mutant(
        "sl-sigma-prime-dropped", SL,
        "    return np.multiply(G, _sigma_prime(out, e, XW, b), out=out)",
        "    return np.multiply(G, 1.0, out=out)",
        "σ'(Z) dropped: Δ = G instead of G ∘ S ∘ (1 − S)",
    ),
    Mutant(
        "sl-sigma-prime-unsquared", SL,
        "    np.square(np.add(e, 1.0, out=out), out=out)  # (1 + e)^2",
        "    np.add(e, 1.0, out=out)  # (1 + e)^2",
        "σ'(Z) written as e/(1 + e) = σ(−|Z|), the square of 1 + e dropped",
    ),
    Mutant(
        "sl-db-first-row", SL,
        "db=Delta.sum(axis=0).reshape(b.shape)",
        "db=Delta[0].reshape(b.shape)",
        "bias gradient not summed over the batch: the first row of Δ only",
    ),
    Mutant(
        "sl-db-mean", SL,
        "db=Delta.sum(axis=0).reshape(b.shape)",
        "db=Delta.mean(axis=0).reshape(b.shape)",
        "bias gradient averaged over the batch where the loss sums",
    ),
    Mutant(
        "sl-dX-W-not-WT", SL,
        "dX=Delta @ W.T,",
        "dX=Delta @ W,",
        "dX = Δ W instead of Δ Wᵀ: conforms only when p = q",
    ),
    Mutant(
        "sl-jacobian-no-sigma-prime", SL,
        "S_prime = elementwise(_sigma_prime, _xw(X, W), b)",
        "S_prime = elementwise(_sigma, _xw(X, W), b)",
        "explicit 4-D Jacobian with σ(Z) where σ'(Z) belongs",
    ),
    # -- linear map then dot product (source 001) ------------------------------------
    Mutant(
        "ld-dW-numerator", LD,
        "dW=(x.T @ ones) @ ycol.T,",
        "dW=ycol @ (ones.T @ x),",
        "dW = y x, the (c, m) numerator-layout result the asker's chain rule gave",
    ),
    Mutant(
        "ld-dy-first-row", LD,
        "dy=(f.T @ ones).reshape(y.shape),",
        "dy=f[0].reshape(y.shape),",
        "dy = fᵀ of the first row only: not summed over the batch",
    ),
    Mutant(
        "ld-db-no-n", LD,
        "db=(n * ycol.T).reshape(b.shape),",
        "db=ycol.T.reshape(b.shape),",
        "db = yᵀ for a batch: the factor n (b is added to every row) dropped",
    ),
    # -- two-layer network (source 002) ---------------------------------------------
    Mutant(
        "tl-yhat-minus-y", TL,
        "return (Yhat * Y.sum(axis=1, keepdims=True) - Y) / n",
        "return (Yhat - Y) / n",
        "dL/dΘ = ŷ − y used whatever the target rows sum to",
    ),
    Mutant(
        "tl-W2-not-W2T", TL,
        "D1 = D2 @ W2.T  #",
        "D1 = D2 @ W2  #",
        "W2 instead of W2ᵀ in Δ1: conforms only when h = k",
    ),
    Mutant(
        "tl-matmul-not-elementwise", TL,
        "D1 = elementwise(_delta1, D1, H, out=D1)",
        "D1 = D1 @ (H * (1 - H)).T @ H",
        "a matrix product with σ'(A) where the element-wise product belongs "
        "(written to conform for any shapes: (Δ2 W2ᵀ)(H ∘ (1 − H))ᵀ H)",
    ),
    Mutant(
        "tl-grad-sum-loss-mean", TL,
        "return (Yhat * Y.sum(axis=1, keepdims=True) - Y) / n",
        "return Yhat * Y.sum(axis=1, keepdims=True) - Y",
        "mean loss, summed gradient: the 1/n dropped in backward",
    ),
    Mutant(
        "tl-loss-sum-grad-mean", TL,
        "cross_entropy(Theta, Y / X.shape[0])",
        "cross_entropy(Theta, Y)",
        "summed loss, mean gradient: the 1/n dropped in forward",
    ),
    Mutant(
        "tl-dW2-transposed", TL,
        "dW2=H.T @ D2,",
        "dW2=D2.T @ H,",
        "dW2 = Δ2ᵀ H, the transpose (numerator layout): right shape only when h = k",
    ),
    Mutant(
        "tl-log-of-softmax", TL,
        "loss = float(cross_entropy(Theta, Y / X.shape[0]).sum())",
        "loss = float(-(Y * np.log(_softmax(Theta))).sum() / X.shape[0])",
        "loss computed as log(softmax(Θ)): −inf and NaN once a probability underflows",
    ),
    # -- primitives ------------------------------------------------------------------
    Mutant(
        "pr-sigmoid-one-sided", PR,
        "return np.divide(out, np.add(e, 1.0, out=e), out=out)",
        "return np.copyto(out, np.where(Z >= 0, 1.0 / (1.0 + np.exp(-Z)), np.exp(Z) / (1.0 + np.exp(Z)))) or out",
        "a 'stable' sigmoid whose branches are both evaluated: exp overflows on one side",
    ),
    Mutant(
        "pr-sigmoid-naive", PR,
        "return np.divide(out, np.add(e, 1.0, out=e), out=out)",
        "return np.divide(1.0, np.add(np.exp(np.negative(Z)), 1.0, out=out), out=out)",
        "the textbook sigmoid 1/(1 + e^(−z)): exp overflows for z ≪ 0",
    ),
    Mutant(
        "pr-softmax-no-shift", PR,
        "e = np.exp(t - t.max(axis=1, keepdims=True))",
        "e = np.exp(t)",
        "softmax without subtracting the row maximum: exp overflows, inf/inf = NaN",
    ),
    Mutant(
        "pr-log-of-softmax", PR,
        "return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))",
        "return np.log(softmax(t))",
        "log_softmax computed as log(softmax): −inf where a probability underflows",
    ),
    Mutant(
        "pr-softmax-jacobian-sign", PR,
        "- p[:, :, None] * p[:, None, :]",
        "+ p[:, :, None] * p[:, None, :]",
        "softmax Jacobian Diag(ŷ) + ŷᵀŷ: wrong sign on the outer product",
    ),
    Mutant(
        "pr-cross-entropy-axis", PR,
        "return terms.sum(axis=1) + y.sum(axis=1) * lse",
        "return terms.sum(axis=0) + y.sum(axis=1) * lse",
        "cross-entropy summed over the batch axis instead of the classes",
    ),
    # -- the checker itself ----------------------------------------------------------
    Mutant(
        "ck-forward-difference", FD,
        "g[k] = (f_hi - f_lo) / (hi - lo)",
        "g[k] = (f_hi - f_lo) / ((hi - lo) / 2)",
        "numerical_gradient divides the central difference by ε instead of 2ε",
    ),
    Mutant(
        "ck-shape-ignored", CK,
        "shape_ok = g.shape == a.shape and",
        "shape_ok = g.size == a.size and",
        "gradcheck compares flattened arrays: a gradient of the wrong shape with the "
        "right number of entries can pass",
    ),
    # -- the derivation engine's rule table (derivlib.derive) ---------------------------
    Mutant(
        "en-matmul-numerator", EN,
        "lambda g, out, args: (mk_matmul(g, mk_T(args[1])), mk_matmul(mk_T(args[0]), g))),",
        "lambda g, out, args: (mk_matmul(g, mk_T(args[1])), mk_matmul(mk_T(g), args[0]))),",
        "engine: the pullback of A @ B to B is ḠᵀA (numerator layout) instead of AᵀḠ",
    ),
    Mutant(
        "en-bias-not-summed", EN,
        "lambda g, out, args: (unbroadcast(g, args[0].shape), unbroadcast(g, args[1].shape)),",
        "lambda g, out, args: (unbroadcast(g, args[0].shape), g),",
        "engine: a broadcast bias gets Ḡ, not 1ᵀḠ (not summed over the batch)",
    ),
    Mutant(
        "en-sigmoid-prime-plus", EN,
        "lambda g, out, args: (mk_mul(mk_mul(g, ref(out)), mk_sub(_one(), ref(out))),)),",
        "lambda g, out, args: (mk_mul(mk_mul(g, ref(out)), mk_add(_one(), ref(out))),)),",
        "engine: σ' written as S ∘ (1 + S)",
    ),
    Mutant(
        "en-tanh-prime", EN,
        "lambda g, out, args: (mk_mul(g, mk_sub(_one(), mk_mul(ref(out), ref(out)))),)),",
        "lambda g, out, args: (mk_mul(g, mk_sub(_one(), ref(out))),)),",
        "engine: tanh' written as 1 − T instead of 1 − T ∘ T",
    ),
    Mutant(
        "en-softmax-diagonal", EN,
        "lambda g, out, args: (mk_mul(ref(out), mk_sub(g, _row_sums(mk_mul(g, ref(out))))),)),",
        "lambda g, out, args: (mk_mul(ref(out), g),)),",
        "engine: softmax treated as element-wise, P ∘ Ḡ (the off-diagonal Jacobian dropped)",
    ),
    Mutant(
        "en-log-softmax-diagonal", EN,
        "lambda g, out, args: (mk_sub(g, mk_mul(ref(out.aux), _row_sums(g))),)),",
        "lambda g, out, args: (mk_sub(g, mk_mul(ref(out.aux), g)),)),",
        "engine: log-softmax pullback Ḡ − P ∘ Ḡ, the row sums Ḡ1 forgotten",
    ),
    Mutant(
        "en-mean-not-divided", EN,
        "lambda g, out, args: (mk_scale(_count(args[0].shape, out.attr).inverse(), expand(g, args[0].shape)),)),",
        "lambda g, out, args: (expand(g, args[0].shape),)),",
        "engine: the pullback of a mean forgets to divide by the number of entries",
    ),
    Mutant(
        "en-transpose-dropped", EN,
        "lambda g, out, args: (mk_T(g),)),",
        "lambda g, out, args: (g,)),",
        "engine: the pullback of Aᵀ is Ḡ instead of Ḡᵀ",
    ),
    Mutant(
        "en-quotient-sign", EN,
        "unbroadcast(mk_neg(mk_div(mk_mul(g, args[0]), mk_pow(args[1], 2))),",
        "unbroadcast(mk_div(mk_mul(g, args[0]), mk_pow(args[1], 2)),",
        "engine: the quotient rule without its minus sign, d(A/B) = dA/B + A dB/B²",
    ),
    # -- the displayed differentials only (the rules table, each step's "why" line): every
    # gradient stays right, only the line a reader reads is wrong --------------------------
    Mutant(
        "en-show-sigmoid-differential", EN,
        "lambda out, args, d: _opt(lambda x: mk_mul(mk_mul(ref(out), mk_sub(_one(), ref(out))), x), d[0]),",
        "lambda out, args, d: _opt(lambda x: mk_mul(ref(out), x), d[0]),",
        "engine, display only: the sigmoid rule shows dS = S ∘ dZ, the (1 − S) dropped",
    ),
    Mutant(
        "en-show-softmax-row-sum", EN,
        "mk_mul(ref(out), _row_sums(mk_mul(ref(out), x)))), d[0]),",
        "mk_mul(ref(out), _row_sums(x))), d[0]),",
        "engine, display only: the softmax rule shows dP = P ∘ dA − P ∘ (dA 1), the P ∘ inside the row sum dropped",
    ),
    Mutant(
        "en-show-quotient-sign", EN,
        "_opt(lambda x: mk_neg(mk_div(mk_mul(args[0], x), mk_pow(args[1], 2))), d[1])),",
        "_opt(lambda x: mk_div(mk_mul(args[0], x), mk_pow(args[1], 2)), d[1])),",
        "engine, display only: the quotient rule shows d(A/B) = dA/B + A ∘ dB/B², its minus sign lost",
    ),
    Mutant(
        "en-show-why-path-order", RV,
        "        for node, j in reversed(c.path):",
        "        for node, j in c.path:",
        "engine, display only: a step's why line composes the jvps from the consumer down instead of "
        "from the use up (dL = G(1ᵀ dS 1) for the sigmoid layer's G_S)",
    ),
    Mutant(
        "en-simplify-sub-swapped", ES,
        'return mk_scale(-ca, Node("sub", (bc, ac), shape))',
        'return mk_scale(-ca, Node("sub", (ac, bc), shape))',
        "engine's simplifier: −A + B rewritten as A − B (a sign lost in δ₂ = (Ŷ∘(Y1) − Y)/n)",
    ),
    # -- the checker's own trust (issue 11) --------------------------------------------
    Mutant(
        "ck-tolerance-fixed", CK,
        "return atol + rtol * np.abs(r) + noise",
        "return 1e-6 + rtol * np.abs(r) + noise",
        "a tolerance that does not scale: a fixed absolute 1e-6 passes any gradient smaller than it",
    ),
    Mutant(
        "ck-sign-test-dropped", RL,
        "flipped = close([-x for x in m])",
        "flipped = False",
        "the sign test dropped: a sign flip is reported as a constant factor k = -1",
    ),
    Mutant(
        "ck-copy-keeps-order", CA,
        'dtype=np.float64, order="C")',
        'dtype=np.float64, order="K")',
        "the private copy keeps Fortran order: its flat view is a copy and the perturbation never reaches f",
    ),
    Mutant(
        "ck-no-fresh-copy", FD,
        "self.f(*[a.copy() for a in args])",
        "self.f(*args)",
        "f gets the checker's own arrays: an f that writes into its argument spoils every later evaluation",
    ),
    Mutant(
        "ck-nominal-step", FD,
        "g[k] = (f_hi - f_lo) / (hi - lo)",
        "g[k] = (f_hi - f_lo) / (2 * eps)",
        "the nominal step 2ε instead of the step actually taken, (x + ε) − (x − ε)",
    ),
    Mutant(
        "ck-no-fd-probe", CK,
        "kind = _fd.untrusted(p, ana, float(tol(num[j])), F, eps)",
        "kind = None",
        "finite differences never blamed: a kink, curvature or rounding is reported as a wrong gradient",
    ),
    # -- the layer pack (issue 21): index vectors, max, abs, column blocks, convolution windows --
]

#: Wrong formulas planted into the layer pack's operations (index vectors, max, split, concat,
#: abs, the convolution windows), killed by the unit tests: ``make mutate-unit`` (CI) runs them
#: with the catalogue. They join ``CATALOGUE``, and the reliability page's table, at the next
#: full ``make mutate``, which runs the docs half too.
LAYER_PACK = [
    Mutant(
        "ix-take-scatter-assigns", IX,
        ("np.add.at(out, y, g)",
         'f"    {np}.add.at(out, y, G)",',
         "out[i] = [a + b for a, b in zip(out[i], row)]"),
        ("out[y] = g",
         'f"    out[y] = G",',
         "out[i] = list(row)"),
        "engine: take's pullback O_yᵀG written as an assignment G_E[y] = G (numpy, generated code and pure "
        "Python alike): a word used twice in the batch counts once",
    ),
    Mutant(
        "ix-pick-without-onehot", IX,
        "return (mk_mul(onehot_of(args[1]), expand(g, args[0].shape)), None)",
        "return (expand(g, args[0].shape), None)",
        "engine: pick's pullback G 1ᵀ without O_y ∘: every class of a row gets the gradient, not only its label",
    ),
    Mutant(
        "co-max-last-maximum", CO,
        "if v > values[best] or",
        "if v >= values[best] or",
        "engine (pure Python, the playground): at a tie the gradient of max goes to the last maximum, "
        "not the first one numpy's argmax picks",
    ),
    Mutant(
        "en-abs-without-sign", EN,
        'vjp=lambda g, out, args: (mk_mul(mk_fn("sign", args[0]), g),)),',
        "vjp=lambda g, out, args: (g,)),",
        "engine: the pullback of abs(A) is Ḡ, the sign(A) ∘ dropped (abs treated as the identity)",
    ),
    Mutant(
        "co-split-block-row-reversed", CO,
        "parts = [g if j == a else zeros((rows, w)) for j in range(m)]",
        "parts = [g if j == m - 1 - a else zeros((rows, w)) for j in range(m)]",
        "engine: a split block's adjoint put in the mirrored place of the block row, [G_g G_o G_f G_i] "
        "instead of [G_i G_f G_o G_g]",
    ),
    Mutant(
        "co-concat-pullback-swapped", CO,
        "    return tuple(backs)",
        "    return tuple(backs[::-1])",
        "engine: concat(A, B)'s pullback gives A the column block of G that belongs to B and B that of A",
    ),
    Mutant(
        "cv-col2im-overlaps-dropped", CV,
        ("x[:, di:di + stride * Ho:stride, dj:dj + stride * Wo:stride] += g[..., di, dj]",
         "x[k] += v"),
        ("x[:, di:di + stride * Ho:stride, dj:dj + stride * Wo:stride] = g[..., di, dj]",
         "x[k] = v"),
        "engine: col2im assigns each window's gradient instead of adding it (numpy and pure Python alike): "
        "where windows overlap only the last one counts",
    ),
    Mutant(
        "cv-im2col-kernel-major", CV,
        ("return windows.reshape(-1, C * kh * kw)",
         "g = g.reshape(-1, Ho, Wo, C, kh, kw)",
         "for c in range(C):\n                for di in range(kh):\n                    for dj in range(kw):"),
        ("return windows.transpose(0, 1, 2, 4, 5, 3).reshape(-1, C * kh * kw)",
         "g = g.reshape(-1, Ho, Wo, kh, kw, C).transpose(0, 1, 2, 5, 3, 4)",
         "for di in range(kh):\n                for dj in range(kw):\n                    for c in range(C):"),
        "engine: im2col's columns kernel-major, (di, dj, c), instead of channel-major (c, di, dj), torch "
        "unfold's order, with col2im to match: consistent in itself, but a torch weight reshaped to "
        "(C'·C·kh·kw) meets the wrong pixels",
    ),
    Mutant(
        "cv-group-pullback-swapped", CV,
        '_ADJOINT = {"im2col": "col2im", "group": "ungroup", "ungroup": "group"}',
        '_ADJOINT = {"im2col": "col2im", "group": "group", "ungroup": "ungroup"}',
        "engine: the pullback of group(Y, m) written as group(Ḡ, m) and that of ungroup as ungroup: "
        "the operation itself where its adjoint belongs",
    ),
]

#: Wrong formulas planted into the loops (``derivlib.engine.loops``, ``loopcode``, ``looppure``),
#: killed by the unit tests (``tools/mutate.py --unit-only --only NAME`` runs them). They join
#: ``CATALOGUE`` once a page derives loops, so that the docs half can kill them too, with
#: ``docs/_generated/mutation.md`` made again by ``make mutate``.
LOOPS = [
    Mutant(
        "loop-no-sum-over-t", "derivlib/engine/loopcode.py",
        'op = "+=" if v in p.plain else "="',
        'op = "="',
        "a shared weight's gradient is the last step's term (t = 0), not the sum over t of every step's",
    ),
    Mutant(
        "loop-arriving-dropped", "derivlib/engine/looppure.py",
        "arriving = {s: g.get(p.prev[s], zero[s]) for s in p.states}",
        "arriving = dict(zero)",
        "no adjoint flows back through time: each step sees only its own loss (truncated to one step)",
    ),
    Mutant(
        "loop-arriving-same-step", "derivlib/engine/loops.py",
        "t = self._render(node, (self.index, 1), render_text)",
        "t = self._render(node, (self.index, 0), render_text)",
        "the text writes the adjoint from step t+1 with index t (G_Hₜ = δₜWhᵀ + ..., not δₜ₊₁Whᵀ)",
    ),
]
