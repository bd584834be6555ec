"""Parameters of derivlib.check, each checked with a message that names it (private)."""

from __future__ import annotations

import inspect

import numpy as np

from ._validate import real_array


def _number(name, value, *, zero_ok) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number; got {type(value).__name__} {value!r:.60}")
    value = float(value)
    if not (np.isfinite(value) and (value >= 0 if zero_ok else value > 0)):
        raise ValueError(f"{name} must be a finite number {'>= 0' if zero_ok else '> 0'}; got {value}")
    return value


def _check_eps(eps) -> float:
    return _number("eps", eps, zero_ok=False)


def _whole(name, value, minimum, note="") -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a whole number >= {minimum}{note}; got {type(value).__name__} {value!r:.60}")
    if value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}{note}; got {value!r}")
    return int(value)


def _float_args(args) -> list:
    if isinstance(args, np.ndarray) or not isinstance(args, (tuple, list)):
        raise TypeError(f"args must be a tuple or list of arrays (one per argument of f); got {type(args).__name__}")
    out = []
    for i, a in enumerate(args):
        # a private float64 copy in C order, so a flat view of it perturbs what f sees
        arr = np.array(real_array(f"args[{i}]", a), dtype=np.float64, order="C")
        if not np.isfinite(arr).all():
            raise ValueError(f"args[{i}] contains NaN or inf (shape {arr.shape})")
        out.append(arr)
    return out


def _sequence(name, value, count, what) -> list:
    if isinstance(value, np.ndarray) or not isinstance(value, (tuple, list)):
        shown = f"an ndarray of shape {value.shape}" if isinstance(value, np.ndarray) else type(value).__name__
        raise TypeError(f"{name} must be a tuple or list with one {what} per argument of f "
                        f"(e.g. ({name[:-1]},) for one argument); got {shown}")
    if len(value) != count:
        hint = " (use None to skip one)" if name == "grads" else ""
        raise ValueError(f"{name} must have one entry per argument of f{hint}: {count} args but {len(value)} {name}")
    return list(value)


def _names(f, count) -> list:
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        params = []
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) >= count:
        return positional[:count]
    return [f"args[{i}]" for i in range(count)]


def _check_wrt(wrt, count) -> list:
    if wrt is None:
        return list(range(count))
    if not isinstance(wrt, (tuple, list, range)):
        raise TypeError(f"wrt must be a sequence of argument indices, e.g. [0]; got {type(wrt).__name__} {wrt!r:.60}")
    wrt = list(wrt)
    bad = [i for i in wrt if isinstance(i, (bool, np.bool_)) or not (isinstance(i, (int, np.integer)) and 0 <= i < count)]
    if bad:
        raise ValueError(f"wrt must hold indices of args, 0 to {count - 1} ({count} args); got {bad}")
    return [int(i) for i in wrt]
