"""Command line: ``python -m derivlib derive EXPR --shape X=n,p ... [--index y=n,k] [--wrt W,b] [--latex | --numpy]``.

``EXPR`` may be a program of several lines, a ``for t in range(T):`` loop among them (a
sequence's shape has three entries, ``--shape X=T,n,d``); ``--file PATH`` reads it from a
file and ``-`` from standard input.

Prints the derivation (forward and backward steps, each with its shape, differential and
identity) and the verdict of checking every step against finite differences: right, wrong
(naming the step and how) or cannot tell here (a kink, rounding, or a random point outside
the domain of a log or sqrt: with the reason and what to try).

Exit status: 0 right (or nothing checked), 1 wrong, 2 an error in the input, 3 cannot
tell here, 4 an internal error (the message asks to report it).
"""

from __future__ import annotations

import argparse
import sys


def _pair(text):
    """``NAME=VALUE`` as ``(NAME, VALUE)``, both stripped (``--shape X=n,p``, ``--size n=4``)."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"takes NAME=VALUE, like X=n,p or n=4; got {text!r}")
    return name.strip(), value.strip()


def _shapes(pairs, sequences=False):
    """The ``--shape`` pairs as the engine's shapes, each read by the engine's shape rule; with
    ``sequences`` (a program with a loop), three dimensions make a sequence (T, n, d)."""
    from .engine.shapes import check_name, check_shape

    shapes = {}
    for name, dims in pairs:
        where = f"--shape {name}"
        parts = [d.strip() for d in dims.split(",")]
        if sequences and len(parts) == 3:  # a sequence (T, n, d): read by the loop program (derivlib.engine.loops)
            length = check_shape(f"{parts[0]}, 1", where)[0]
            shapes[check_name(name, where, shapes)] = (length, *check_shape(", ".join(parts[1:]), where))
            continue
        shapes[check_name(name, where, shapes)] = check_shape(dims, where)
    return shapes


def _indices(pairs):
    """The ``--index`` pairs (``y=n,k``) as the engine's indices, each read by the engine's shape rule."""
    from .engine.shapes import check_name, check_shape

    indices = {}
    for name, dims in pairs:
        where = f"--index {name}"
        indices[check_name(name, where, indices)] = check_shape(dims, where)
    return indices


#: Largest --size of one dimension, and most entries of one variable, in the check.
MAX_SIZE = 10_000
MAX_ENTRIES = 1_000_000


def main(argv=None):
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    try:
        return _main(argv)
    except (SystemExit, KeyboardInterrupt):
        raise
    except Exception as exc:  # noqa: BLE001 - a message, never a traceback
        print(f"internal error: {type(exc).__name__}: {exc}\nwhile running python -m derivlib with "
              f"{sys.argv[1:] if argv is None else list(argv)!r}; please report it", file=sys.stderr)
        return 4


def _main(argv):
    parser = argparse.ArgumentParser(prog="python -m derivlib", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("derive", help="derive the gradients of a scalar expression, step by step")
    p.add_argument("expr", nargs="?", default=None,
                   help='e.g. "sum(G * sigmoid(X @ W + b))", a program of several lines, or - to read it from '
                        'standard input')
    p.add_argument("--file", default=None, metavar="PATH", help="read the expression or program from a file")
    p.add_argument("--shape", action="append", type=_pair, default=[], metavar="NAME=DIMS",
                   help="a variable's shape, e.g. X=n,p (repeat for each variable)")
    p.add_argument("--index", action="append", type=_pair, default=[], metavar="NAME=N,K",
                   help="an index vector: N integers in range(K), e.g. y=n,k (class labels, word ids; read by "
                        "take, pick and onehot)")
    p.add_argument("--wrt", default=None, help="comma-separated variables (default: all)")
    p.add_argument("--seed", type=int, default=0, help="seed of the check (default 0)")
    p.add_argument("--size", action="append", type=_pair, default=[], metavar="DIM=SIZE",
                   help="size of a dimension in the check, e.g. n=4 (default: distinct primes)")
    form = p.add_mutually_exclusive_group()
    form.add_argument("--latex", action="store_true", help="print the derivation as LaTeX")
    form.add_argument("--numpy", action="store_true", help="print a standalone numpy backward function")
    form.add_argument("--no-check", action="store_true", help="skip the numeric check")
    args = parser.parse_args(argv)

    from .engine import derive

    if (args.expr is None) == (args.file is None):
        parser.error("give the expression (or - for standard input) or --file PATH, one of them")
    if args.file is not None:
        try:
            with open(args.file, encoding="utf-8") as fh:
                args.expr = fh.read()
        except (OSError, UnicodeDecodeError) as exc:
            print(f"error: --file {args.file}: {exc.strerror if isinstance(exc, OSError) else exc}", file=sys.stderr)
            return 2
    elif args.expr == "-":
        args.expr = sys.stdin.read()
    sizes = {}
    for name, value in args.size:
        if not (value.isascii() and value.isdigit()):
            parser.error(f"--size takes DIM=N with N a whole number; got {name}={value}")
        if int(value) > MAX_SIZE:
            parser.error(f"--size {name}={int(value)}: at most {MAX_SIZE:,} per dimension in the check")
        sizes[name] = int(value)
    try:
        from .engine.loops import has_loop

        shapes = _shapes(args.shape, sequences=has_loop(args.expr))
        d = derive(args.expr, shapes=shapes, wrt=args.wrt, indices=_indices(args.index))
        _check_entries(d, sizes)
    except (ValueError, TypeError) as exc:
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
    except AssertionError as exc:  # GradCheckError: an adjoint is wrong
        print(f"wrong: {exc}", file=sys.stderr)
        return 1
    except (ValueError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report)
    if not hasattr(d, "check_why"):  # a loop: checked unrolled, every gradient against finite differences
        return {"right": 0, "wrong": 1}.get(report.verdict, 3)
    if report.verdict != "right":
        return {"wrong": 1}.get(report.verdict, 3)
    try:  # the displayed differentials, at the point where every step was found right
        d.check_why(sizes=sizes or None, seed=args.seed)
    except AssertionError as exc:  # DifferentialError: a displayed differential is wrong
        print(f"wrong: {exc}", file=sys.stderr)
        return 1
    return {"right": 0, "wrong": 1}.get(report.verdict, 3)


def _check_entries(d, sizes):
    """Refuse sizes that would make a variable of the check too large, before anything is allocated."""
    from .engine import dims
    from .engine.pure import default_sizes

    if not isinstance(d.variables, dict):  # a loop derivation: its check unrolls at small sizes
        return
    bound = default_sizes(d, sizes or None)
    for name, node in d.variables.items():
        r, c = (dims.size(x, bound) for x in node.shape)
        if r * c > MAX_ENTRIES:
            raise ValueError(f"--size: {name} would have {r:,}×{c:,} = {r * c:,} entries; at most "
                             f"{MAX_ENTRIES:,} in the check (give smaller sizes)")


if __name__ == "__main__":
    sys.exit(main())
