r"""Finite-difference gradients and a gradient checker that says *how* a gradient is wrong.

:func:`gradcheck` compares analytic gradients with central differences

.. math:: \frac{\partial f}{\partial a}\cdot v \approx \frac{f(a + \varepsilon v) - f(a - \varepsilon v)}{2\varepsilon}

along a few seeded random unit directions ``v`` (a handful of evaluations of f however
large the argument), and entry by entry for small arguments. When they disagree it
raises :class:`GradCheckError` with a diagnosis (``kind``, a :class:`Diagnosis`): wrong
shape, transpose, constant factor, sign flip, zero, or wrong values. When the finite
differences themselves cannot be trusted at the point (step lost in rounding, rounding
noise, curvature over the step, a kink, low-precision f, f not finite next to the
point) it raises :class:`FiniteDifferenceError` instead: change ``eps`` or the point,
not the gradient.
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Sequence

import numpy as np

from . import _fd
from ._checkargs import _check_eps, _check_wrt, _float_args, _names, _number, _sequence, _whole
from ._validate import real_array
from .diagnosis import Diagnosis, FiniteDifferenceError, GradCheckError, fd_text, relation_text
from .engine.stepcheck import relative as _relative
from .relation import ArrayKit, relate
from .relation import relation as _relation

__all__ = [
    "EPS",
    "ATOL",
    "RTOL",
    "RESOLUTION",
    "Diagnosis",
    "GradCheckError",
    "FiniteDifferenceError",
    "GradCheckReport",
    "ArgReport",
    "numerical_gradient",
    "numerical_jvp",
    "gradcheck",
]

# documented (and pickled) as members of derivlib.check, their public home
for _public in (Diagnosis, GradCheckError, FiniteDifferenceError):
    _public.__module__ = __name__

#: Default central-difference step of :func:`numerical_gradient`, :func:`numerical_jvp`
#: and :func:`gradcheck`.
EPS = 1e-6
#: Default absolute and relative tolerances of :func:`gradcheck`. The absolute part is 0:
#: the floor under the relative tolerance is the finite differences' own rounding noise,
#: which scales with the size of f (see :func:`gradcheck`).
ATOL = 0.0
RTOL = 1e-5
#: :func:`gradcheck` refuses a pass that needed the rounding allowance when the error is
#: above this fraction of the gradient's largest entry (or at all when f is not float64).
RESOLUTION = 0.1


class ArgReport(NamedTuple):
    """How one argument's gradient was checked."""

    name: str
    mode: str  # "full+directional" or "directional"
    max_abs_error: float
    max_rel_error: float


class GradCheckReport(NamedTuple):
    """Returned by :func:`gradcheck` when every gradient agrees."""

    max_abs_error: float
    max_rel_error: float
    evaluations: int
    arguments: tuple


# ---------------------------------------------------------------- parameters


def _prepare(f, args):
    if not callable(f):
        raise TypeError(f"f must be callable; got {type(f).__name__}")
    return _float_args(args), _fd.Evaluator(f)


# ---------------------------------------------------------------- finite differences


def numerical_jvp(f: Callable, args: Sequence, i: int, v, eps: float = EPS) -> float:
    r"""Central-difference directional derivative of a scalar f along ``v`` in argument ``i``.

    .. math:: \frac{\partial f}{\partial a_i} : v \approx \frac{f(\dots, a_i + \varepsilon v, \dots) - f(\dots, a_i - \varepsilon v, \dots)}{2\varepsilon}

    Two evaluations of f, whatever the size of ``a_i``; f gets fresh copies of the arguments.

    Parameters
    ----------
    f : callable
        ``f(*args)`` returns a real scalar.
    args : sequence of array_like
    i : int
        Index of the argument to move.
    v : array_like
        Direction, of ``args[i]``'s shape.
    eps : float, default :data:`EPS`

    Returns
    -------
    float

    Raises
    ------
    FiniteDifferenceError
        The step is lost in rounding (``a + eps v == a - eps v`` in an entry where ``v``
        is not 0), or f is not finite at a moved point.

    Examples
    --------
    >>> import numpy as np
    >>> from derivlib.check import numerical_jvp
    >>> A, V = np.array([[1.0, 2.0]]), np.array([[0.5, -1.0]])
    >>> np.allclose(numerical_jvp(lambda A: np.sum(A ** 2), (A,), 0, V), np.sum(2 * A * V))
    True
    """
    eps = _check_eps(eps)
    work, F = _prepare(f, args)
    (i,) = _check_wrt([i], len(work))
    v = np.asarray(real_array("v", v), dtype=np.float64)
    if v.shape != work[i].shape:
        raise ValueError(f"v must have the shape of args[{i}], {work[i].shape}; got {v.shape}")
    if not np.isfinite(v).all():
        raise ValueError(f"v contains NaN or inf (shape {v.shape})")
    F(work)
    return float(_fd.directional(F, work, i, v, eps, f"args[{i}]")[0])


def numerical_gradient(f: Callable, args: Sequence, eps: float = EPS, wrt=None) -> list:
    r"""Central-difference gradient of a scalar function, entry by entry, in float64.

    .. math:: \frac{\partial f}{\partial a_k} \approx \frac{f(a + \varepsilon e_k) - f(a - \varepsilon e_k)}{(a_k + \varepsilon) - (a_k - \varepsilon)}

    The denominator is the step actually taken, which differs from :math:`2\varepsilon`
    when :math:`a_k` is large next to it. Costs two evaluations of f per entry; use it on
    small arguments. f gets fresh copies of the arguments at every call, so an f that
    writes into its arguments does not spoil the next evaluation.

    Parameters
    ----------
    f : callable
        ``f(*args)`` returns a real scalar.
    args : sequence of array_like
    eps : float, default 1e-6
        Step. Truncation error is O(eps**2); rounding error about ``1e-16 * |f| / eps``.
    wrt : sequence of int, optional
        Indices of the arguments to differentiate; default all. Others get ``None``.

    Returns
    -------
    list
        One array per argument, each of that argument's shape (or ``None``).

    Raises
    ------
    FiniteDifferenceError
        The step is lost in rounding (``a_k + eps == a_k - eps``), or f is not finite at a
        moved point.

    Examples
    --------
    >>> import numpy as np
    >>> from derivlib.check import numerical_gradient
    >>> A = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> (g,) = numerical_gradient(lambda A: np.sum(A ** 2), (A,))
    >>> np.allclose(g, 2 * A)
    True
    """
    eps = _check_eps(eps)
    work, F = _prepare(f, args)
    wrt = _check_wrt(wrt, len(work))
    F(work)  # fail early, with a clear message, on a bad f
    grads = [None] * len(work)
    for i in wrt:
        grads[i] = _fd.partials(F, work, i, eps, f"args[{i}]")
    return grads


# ---------------------------------------------------------------- diagnoses


#: numpy arrays for :func:`derivlib.relation.relate` (a big gradient is never copied into lists).
_NUMPY = ArrayKit(
    flat=lambda a: np.ravel(a).tolist(),
    finite=lambda a: bool(np.isfinite(a).all()),
    shape=np.shape,
    transpose=np.transpose,
    reshape=np.reshape,
    sum=lambda a, axis: np.sum(a, axis=axis),
    ones=np.ones,
)


def relation(got, want, rtol=1e-9):
    """How the array ``got`` relates to the array ``want`` it should equal, as :func:`gradcheck`
    says how a gradient is wrong: None when they agree, else ``(kind, numbers)``, a
    :class:`Diagnosis` and the numbers its words need (``k`` for a constant factor: got is
    k times want). They agree when every entry is within ``rtol`` of want's, plus ``rtol``
    times (1 + want's largest entry). The same decision as :func:`derivlib.relation.relation`
    on lists of lists.
    """
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    return _relation(got, want, rtol, _NUMPY)


def _fd_numbers(kind, p, ana, noise, F, eps, scale):
    """The numbers :func:`~derivlib.diagnosis.fd_text` needs for ``kind``."""
    if kind is Diagnosis.KINK:
        return dict(jump=p["right1"] - p["left1"], left=p["left1"], right=p["right1"], d1=p["d1"], ana=ana)
    if kind is Diagnosis.CURVATURE:
        return dict(d1=p["d1"], d2=p["d2"], dh=p["dh"], ana=ana)
    spread = max(abs(p["d1"] - p["d2"]), abs(p["d1"] - p["dh"])) if p else 0.0
    return dict(noise=max(noise, spread), f=F.fmax, eps=eps, scale=scale, dtype=str(F.dtype))


def _message(name, i, verdict, abs_err, rel_err, atol, rtol, eps, noise, what, shown_num, shown_ana) -> str:
    fmt = dict(precision=6, threshold=40, edgeitems=3)
    lines = [
        f"gradient of {name!r} (argument {i} of f) {verdict}.",
        f"  max abs error {abs_err:.3g}, max rel error {rel_err:.3g} "
        f"(atol={atol:g}, rtol={rtol:g}, eps={eps:g}, rounding noise {noise:.3g}); compared {what}",
    ]
    if shown_num is not None:
        lines += [f"  numerical (central differences) {shown_num.shape}:\n{np.array2string(shown_num, **fmt)}",
                  f"  analytical {shown_ana.shape}:\n{np.array2string(shown_ana, **fmt)}"]
    return "\n".join(lines)


# ---------------------------------------------------------------- the check


def gradcheck(
    f: Callable,
    args: Sequence,
    grads: Sequence,
    *,
    eps: float = EPS,
    atol: float = ATOL,
    rtol: float = RTOL,
    n_directions: int = 3,
    full_max_size: int = 200,
    seed: int = 0,
    names: Sequence[str] | None = None,
) -> GradCheckReport:
    r"""Check analytic gradients of a scalar function against central differences.

    For each argument ``a`` with an analytic gradient ``g`` (not ``None``):

    1. ``g.shape`` must equal ``a.shape``;
    2. along ``n_directions`` random unit directions ``v`` (from
       ``np.random.default_rng(seed)``, never global state),
       :math:`\langle g, u\rangle` must match the central difference of f along v,
       where ``u`` is the direction actually taken after rounding
       (2 evaluations of f per direction, whatever the size of ``a``);
    3. if ``a.size <= full_max_size``, every entry of g must also match
       :func:`numerical_gradient`.

    **Tolerance.** A value ``x`` matches the numerical ``r`` when

    .. math:: |x - r| \le \mathrm{atol} + \mathrm{rtol}\,|r| + \delta, \qquad
              \delta = 2\,u_f \max|f| / \varepsilon

    where :math:`u_f` is the machine epsilon of the type f returns and ``max|f|`` the
    largest ``|f|`` seen at the point: :math:`\delta` bounds the rounding error of a central
    difference (two evaluations of f, each off by about 1 ulp of ``|f|``, over a step of
    :math:`2\varepsilon`). So the tolerance scales with the gradient being checked
    (``rtol`` times each entry, as in ``torch.autograd.gradcheck``) and with f, never
    with a fixed absolute number: ``atol`` defaults to 0. A gradient of 1e-7 that is
    zero, sign-flipped or permuted fails; a true zero passes (the numerical value is
    then rounding noise, within :math:`\delta`); a correct gradient passes at any scale
    while the finite differences resolve it. ``torch.autograd.gradcheck`` (atol 1e-5,
    rtol 1e-3) and ``jax.test_util.check_grads`` (tolerances fixed per dtype) both keep
    a fixed absolute term, which passes any gradient smaller than it.

    **When the finite differences are what fails**, :class:`FiniteDifferenceError` is
    raised, never a verdict on the gradient:

    * a step lost in rounding (``a + eps == a - eps`` somewhere);
    * f not finite at a moved point though finite at the point;
    * a pass that needed the rounding allowance :math:`\delta` with an error above
      ``RESOLUTION`` (0.1) times the gradient's largest entry: the finite differences
      could not tell a right gradient from a wrong one (``ROUNDING``); or any pass that
      needed it when f returns float32 or float16 (``LOW_PRECISION``). A gradient
      whose entries are all below :math:`\delta` is indistinguishable from zero and passes;
    * a mismatch that the finite differences themselves explain: the worst value is
      probed with steps eps/2, eps and 2 eps (6 more evaluations, only on failure); if
      the estimates move by as much as the mismatch, the kind is ``CURVATURE`` (they
      converge as the step shrinks) or ``ROUNDING`` (they do not), and ``KINK`` when
      the one-sided slopes differ by the same amount at eps and at 2 eps.

    Parameters
    ----------
    f : callable
        ``f(*args)`` returns a real scalar. It gets fresh float64 copies of the arguments
        at every call (it may write into them).
    args : sequence of array_like
        The point at which to check (copied to float64; f never sees the caller's arrays).
    grads : tuple or list
        One analytic gradient per argument, or ``None`` to skip that argument
        (e.g. a target). A backward's NamedTuple works directly when it has one field
        per argument.
    eps : float, default 1e-6
        Finite-difference step.
    atol, rtol : float, default 0 and 1e-5
        Absolute and relative tolerances (see above).
    n_directions : int, default 3
        Random directions per argument.
    full_max_size : int, default 200
        Arguments with at most this many entries also get the full entry-wise check.
    seed : int, default 0
        Seed of the checker's own random generator (a whole number >= 0: a check must
        be reproducible, so ``None`` is refused).
    names : sequence of str, optional
        Argument names for messages; default: f's parameter names.

    Returns
    -------
    GradCheckReport
        ``max_abs_error``, ``max_rel_error`` (max abs error over the largest numerical
        entry), ``evaluations`` of f used, and one ``ArgReport`` per checked argument.

    Raises
    ------
    GradCheckError
        A gradient disagrees; ``kind`` (a :class:`Diagnosis`) says how, and the message
        names the argument, the errors, a diagnosis, and shows numerical next to
        analytical values.
    FiniteDifferenceError
        A subclass of GradCheckError: the finite differences cannot be trusted at this
        point with this eps.
    TypeError, ValueError
        A parameter is not what it must be (the message names it), ``grads`` does not
        have one entry per argument, or f does not return a finite real scalar.

    Examples
    --------
    >>> import numpy as np
    >>> from derivlib.check import Diagnosis, gradcheck, GradCheckError
    >>> A = np.arange(6.0).reshape(2, 3)
    >>> f = lambda A: np.sum(A ** 2)
    >>> gradcheck(f, (A,), (2 * A,)).max_abs_error < 1e-6
    True
    >>> try:
    ...     gradcheck(f, (A,), (-2 * A,))
    ... except GradCheckError as err:
    ...     print(err.kind, err.diagnosis, sep="\n")
    Diagnosis.SIGN_FLIPPED
    sign flipped: it equals -1 times the true gradient
    """
    eps = _check_eps(eps)
    atol = _number("atol", atol, zero_ok=True)
    rtol = _number("rtol", rtol, zero_ok=True)
    n_directions = _whole("n_directions", n_directions, 1, " (the directional check always runs)")
    full_max_size = _whole("full_max_size", full_max_size, 0)
    seed = _whole("seed", seed, 0, " (None would make the check irreproducible)")
    args, F = _prepare(f, args)
    grads = _sequence("grads", grads, len(args), "gradient (or None)")
    names = _names(f, len(args)) if names is None else _sequence("names", names, len(args), "name")
    if not all(isinstance(n, str) for n in names):
        raise TypeError(f"names must be strings; got {names!r:.80}")
    rng = np.random.default_rng(seed)
    F(args)
    reports = []
    for i, g in enumerate(grads):
        if g is not None:
            g = real_array(f"grads[{i}] (the gradient of {names[i]!r})", g).astype(np.float64)
            V = rng.standard_normal((n_directions, args[i].size))
            V /= np.linalg.norm(V, axis=1, keepdims=True)
            reports.append(_check_one(F, args, i, g, names[i], V, eps, atol, rtol, args[i].size <= full_max_size))
    if not reports:
        raise ValueError("grads has no gradient to check (every entry is None)")
    return GradCheckReport(
        max_abs_error=float(max(r.max_abs_error for r in reports)),
        max_rel_error=float(max(r.max_rel_error for r in reports)),
        evaluations=int(F.calls),
        arguments=tuple(reports),
    )


class _Measured(NamedTuple):
    """What the finite differences measured for one argument, and how a gradient is compared with it."""

    num_dir: np.ndarray  # derivatives along the directions actually taken
    U: np.ndarray  # those directions, one per row
    num_full: np.ndarray | None  # every partial derivative, when the argument is small enough
    num: np.ndarray  # what a gradient is compared with: num_full flattened, or num_dir
    measure: Callable  # an array of the argument's shape -> what it gives in place of num (a list)
    dirs: np.ndarray  # the direction of each entry of num
    noise: float  # the rounding bound of one central difference
    scale: float  # the largest entry of num
    what: str  # what was compared, in words


def _check_one(F, args, i, g, name, V, eps, atol, rtol, full) -> ArgReport:
    """Check one argument's gradient ``g``: measure, accept, explain, raise."""
    m = _measure(F, args, i, name, V, eps, full)
    report = _accept(m, F, args, i, g, name, eps, atol, rtol)
    if report is not None:
        return report
    kind, numbers = relate(g, args[i].shape, m.measure, m.num.tolist(), _closeness(m, atol, rtol), _NUMPY)
    _raise_wrong(kind, numbers, m, args[i].shape, i, g, name, eps, atol, rtol)


def _measure(F, args, i, name, V, eps, full) -> _Measured:
    """Central differences of f along the directions ``V``, and entry by entry when ``full``."""
    a = args[i]
    pairs = [_fd.directional(F, args, i, v.reshape(a.shape), eps, name) for v in V]
    num_dir = np.array([d for d, _ in pairs])
    U = np.array([u.ravel() for _, u in pairs]).reshape(len(V), a.size)
    num_full = _fd.partials(F, args, i, eps, name) if full else None
    if full:
        num, measure, dirs = num_full.ravel(), (lambda c: np.ravel(c).tolist()), np.eye(a.size)
    else:
        num, measure, dirs = num_dir, (lambda c: (U @ np.ravel(c)).tolist()), V
    what = "entries" if full else f"derivatives along {len(V)} random directions"
    return _Measured(num_dir, U, num_full, num, measure, dirs, _fd.rounding_noise(F, eps),
                     float(np.max(np.abs(num), initial=0.0)), what)


def _tolerance(atol, rtol, noise):
    def tol(r):
        return atol + rtol * np.abs(r) + noise

    return tol


def _closeness(m, atol, rtol):
    """``close(x)``: whether ``x`` (measured as ``m.num`` is) agrees with the finite differences."""
    tol = _tolerance(atol, rtol, m.noise)
    return lambda x: bool(np.all(np.abs(np.asarray(x) - m.num) <= tol(m.num)))


def _accept(m, F, args, i, g, name, eps, atol, rtol):
    """The report when ``g`` agrees; None when it is wrong; FiniteDifferenceError when the
    finite differences cannot tell here (a pass only within the rounding allowance, or a
    mismatch that they explain themselves)."""
    a = args[i]
    shape_ok = g.shape == a.shape and bool(np.isfinite(g).all())
    if not shape_ok:
        return None
    tol = _tolerance(atol, rtol, m.noise)
    full = m.num_full is not None
    ana_dir = m.U @ g.ravel()
    errs = [(np.abs(ana_dir - m.num_dir), m.num_dir)] + ([(np.abs(g.ravel() - m.num), m.num)] if full else [])
    abs_err = float(max(np.max(e, initial=0.0) for e, _ in errs))
    top = max(m.scale, float(np.max(np.abs(g), initial=0.0)))
    explain = dict(name=name, i=i, g=g, noise=m.noise, F=F, eps=eps, scale=top, abs_err=abs_err, what=m.what,
                   atol=atol, rtol=rtol)
    if all(np.all(e <= tol(r)) for e, r in errs):
        strict = all(np.all(e <= atol + rtol * np.abs(r)) for e, r in errs)
        low_precision = F.dtype != np.float64
        if strict or not low_precision and (top <= m.noise or abs_err <= RESOLUTION * top):
            return ArgReport(name, "full+directional" if full else "directional", abs_err,
                             _relative(abs_err, max(top, m.noise)))
        # passed only thanks to a rounding allowance that is not small next to the gradient
        _raise_fd(Diagnosis.LOW_PRECISION if low_precision else Diagnosis.ROUNDING, {}, **explain)
    # the worst value: is it the gradient, or the finite differences?
    e, r = errs[-1]
    j = int(np.argmax(e - tol(r)))
    ana = float(g.ravel() @ m.dirs[j]) if full else float(ana_dir[j])
    p = _fd.probe(F, args, i, m.dirs[j].reshape(a.shape), eps, name)
    num = m.num
    kind = _fd.untrusted(p, ana, float(tol(num[j])), F, eps)
    if kind is not None:
        _raise_fd(kind, p, ana=ana, **explain)
    return None


def _raise_wrong(kind, numbers, m, shape, i, g, name, eps, atol, rtol):
    """Raise GradCheckError: ``g`` is wrong, as ``kind`` says."""
    diagnosis = relation_text(kind, **numbers)
    full = m.num_full is not None
    abs_err = float(np.max(np.abs(m.U @ g.ravel() - m.num_dir), initial=0.0)) if (
        g.shape == shape and np.isfinite(g).all()) else float("nan")
    if full and not np.isnan(abs_err):
        abs_err = max(abs_err, float(np.max(np.abs(g.ravel() - m.num), initial=0.0)))
    rel_err = _relative(abs_err, m.scale)
    shown_num = m.num_full if full else m.num_dir
    shown_ana = g if (full or g.shape != shape) else m.U @ g.ravel()
    message = _message(name, i, f"is wrong: {diagnosis}", abs_err, rel_err, atol, rtol, eps, m.noise, m.what,
                       shown_num, shown_ana)
    raise GradCheckError(message, argument=name, kind=kind, diagnosis=diagnosis, max_abs_error=abs_err,
                         max_rel_error=rel_err, numerical=shown_num, analytical=shown_ana)


def _raise_fd(kind, p, *, name, i, g, noise, F, eps, scale, abs_err, what, atol, rtol, ana=None):
    diagnosis = fd_text(kind, **_fd_numbers(kind, p, ana, noise, F, eps, scale))
    rel_err = _relative(abs_err, scale)
    message = _message(name, i, f"cannot be checked here: {diagnosis}", abs_err, rel_err, atol, rtol, eps, noise,
                       what, None, None)
    raise FiniteDifferenceError(message, argument=name, kind=kind, diagnosis=diagnosis, max_abs_error=abs_err,
                                max_rel_error=rel_err, numerical=None, analytical=g)
