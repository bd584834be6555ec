"""Command line: ``python -m derivlib derive EXPR --shape X=n,p ... [--wrt W,b] [--latex | --numpy]``.

Prints the derivation (forward and backward steps, each with its shape, differential and
identity) and the result of checking every step against finite differences.
"""

from __future__ import annotations

import argparse
import sys


def _shape(text):
    name, sep, dims = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"--shape takes NAME=DIMS, like X=n,p or b=1,q; got {text!r}")
    parts = [d.strip() for d in dims.split(",")] if dims.strip() else []
    return name.strip(), tuple(int(d) if d.isdigit() else d for d in parts)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m derivlib", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("derive", help="derive the gradients of a scalar expression, step by step")
    p.add_argument("expr", help='e.g. "sum(G * sigmoid(X @ W + b))"')
    p.add_argument("--shape", action="append", type=_shape, default=[], metavar="NAME=DIMS",
                   help="a variable's shape, e.g. X=n,p (repeat for each variable)")
    p.add_argument("--wrt", default=None, help="comma-separated variables (default: all)")
    p.add_argument("--seed", type=int, default=0, help="seed of the check (default 0)")
    p.add_argument("--size", action="append", type=_shape, default=[], metavar="DIM=SIZE",
                   help="size of a dimension in the check, e.g. n=4 (default: distinct primes)")
    form = p.add_mutually_exclusive_group()
    form.add_argument("--latex", action="store_true", help="print the derivation as LaTeX")
    form.add_argument("--numpy", action="store_true", help="print a standalone numpy backward function")
    form.add_argument("--no-check", action="store_true", help="skip the numeric check")
    args = parser.parse_args(argv)

    from .engine import derive

    sizes = {}
    for name, value in args.size:
        if len(value) != 1 or not isinstance(value[0], int):
            parser.error(f"--size takes DIM=N with N a whole number; got {name}={','.join(map(str, value))}")
        sizes[name] = value[0]
    try:
        d = derive(args.expr, shapes=dict(args.shape), wrt=args.wrt)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.latex:
        print(d.latex())
        return 0
    if args.numpy:
        print(d.numpy_source(), end="")
        return 0
    print(d.text())
    if args.no_check:
        return 0
    print()
    try:
        report = d.check(sizes=sizes or None, seed=args.seed)
    except ImportError:  # no numpy: the same check in pure Python
        report = d.check_pure(sizes=sizes or None, seed=args.seed)
        print(report)
        return 0 if report.ok else 1
    except AssertionError as exc:  # GradCheckError
        print(f"check FAILED: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
