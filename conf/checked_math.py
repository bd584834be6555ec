r"""Checked display math: every displayed result is rendered from something the build checks.

Directives, roles and one rule (registered in ``conf.py``'s ``extensions``):

``{checked-math}``
    Formulas written once in the engine's expression syntax (:mod:`derivlib.engine`),
    one per line, rendered to LaTeX by the engine's renderer and checked numerically on
    random matrices whose dimensions are distinct primes (a transpose cannot hide):

    * ``grad(W) = X.T @ Delta``: the gradient of the ``:loss:`` with respect to a
      variable or a named intermediate of the loss, compared with central differences
      (:func:`derivlib.check.gradcheck`, which also says how a wrong one is wrong) and
      with the engine's own derivation. ``Delta = grad(Z) = ...`` names it on the page.
    * ``A == B == C``: an identity, each side evaluated and compared.

    Options: ``:shapes: X=n,p W=p,q`` (required), ``:loss:`` (an engine program, for
    ``grad`` lines), ``:where:`` (assignments the lines may use), ``:sizes: n=3``,
    ``:draw: Y=onehot`` (``normal``, ``positive``, ``onehot``, ``simplex`` rows),
    ``:symbol:`` (the loss's LaTeX, default ``L``), ``:names: xk=\vec x_k`` (LaTeX for
    names longer than one letter, ``;`` between), ``:seed:``.
    A line ``d(A) == B`` states a differential: ``A`` moves along the directions ``dX``
    given in ``:shapes:`` for each variable ``X`` (central differences).

``{derivation}``
    The engine's step-by-step derivation of an expression (``derivlib.derive``), rendered
    as an aligned block (every step with its shape) and checked with ``Derivation.check``.
    Options: ``:shapes:``, ``:wrt:``, ``:steps:`` (names to show, default the backward
    steps), ``:forward:`` (show the forward steps too), ``:why:`` (show each step's
    differential and identity, each checked with ``Derivation.check_why``: the adjoint of
    the step and a derivative), ``:sizes:``, ``:seed:``.

``{formula-context} NAME`` and the role ``{checked}`NAME: formula```
    The same checks for a formula in running text: the directive (which shows nothing)
    sets the options once, the role renders one line of ``{checked-math}`` inline.

``{asked}`` (directive and role) and the role ``{verdict}``
    Formulas from the claims ledger exactly as their thread wrote them, with the verdict
    found by checking them at this build; the ``{asked}`` role shows one formula inline.

The checking itself is :mod:`verification.formulas`; this module is the Sphinx glue.

The rule
    Any other display math on a page (``$$ ... $$``, a ``{math}`` block, a bare
    ``\begin{aligned}``) fails the build, unless it carries ``:class: definition``: a
    definition or notation, which must not state a derivative except as the right-hand
    side of a ``:=`` (``J_{ijkl} := \partial S_{ij}/\partial W_{kl}``). Inline math that states
    a derivative (``$\partial L/\partial X = \Delta W^T$``) fails too, unless it comes from the
    ``{checked}`` or ``{asked}`` role (:func:`verification.raw_math.raw_inline_problem`). Math that a code
    cell displays and docstring math (tested in ``tests/test_docstring_math.py``) are
    not pages' hand-written math and are left alone.
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.utils import get_source_line
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # verification/ is imported from the checkout
    sys.path.insert(0, str(ROOT))

from verification.formulas import (  # noqa: E402
    FormulaError,
    check_formulas,
    dims_text,
    option_pairs,
    parse_shapes,
    prime_sizes,
    raw_inline_problem,
    raw_math_problem,
    rename,
    render_derivation,
)

__all__ = ["setup"]

logger = logging.getLogger(__name__)

# -- the directives ---------------------------------------------------------------------------


def _block(directive, rows, note):
    latex = "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"
    node = nodes.math_block(latex, latex, classes=["checked"], nowrap=False, number=None, label=None,
                            docname=directive.env.docname)
    directive.set_source_info(node)
    caption = nodes.paragraph("", note, classes=["checked-note"])
    return [node, caption]


def _fail(directive, exc):
    logger.error(f"wrong or unchecked formula: {exc}", location=directive.get_location(),
                 type="checked_math", subtype="formula")
    return []


class CheckedMath(SphinxDirective):
    has_content = True
    option_spec = {"shapes": directives.unchanged_required, "loss": directives.unchanged,
                   "where": directives.unchanged, "sizes": directives.unchanged, "draw": directives.unchanged,
                   "symbol": directives.unchanged, "seed": directives.nonnegative_int,
                   "names": directives.unchanged}

    def run(self):
        o = self.options
        try:
            sizes = option_pairs(o.get("sizes"), "sizes", int)
            rows = rename(o.get("names"), check_formulas(list(self.content), o.get("shapes", ""), loss=o.get("loss"),
                                  where=o.get("where", ""), sizes=sizes, draw=option_pairs(o.get("draw"), "draw"),
                                  seed=o.get("seed", 0), symbol=o.get("symbol", "L")))
        except FormulaError as exc:
            return _fail(self, exc)
        shapes = parse_shapes(o["shapes"])
        shown = prime_sizes(shapes, sizes)
        return _block(self, rows, f"Checked numerically at {dims_text(shown)}." if shown else
                      "Checked numerically.")


class FormulaContext(SphinxDirective):
    """``{formula-context} NAME`` with the options of ``{checked-math}``: shows nothing; the
    ``{checked}`` role checks inline formulas of the page against it."""

    required_arguments = 1
    option_spec = CheckedMath.option_spec

    def run(self):
        try:
            parse_shapes(self.options.get("shapes", ""))
        except FormulaError as exc:
            return _fail(self, exc)
        self.env.temp_data.setdefault("checked_math_contexts", {})[self.arguments[0]] = dict(self.options)
        return []


_BRACED = r"(?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})+"  # text with braces nested two deep
_SLASHED = re.compile(rf"\\frac\{{\\partial ({_BRACED})\}}\{{\\partial ({_BRACED})\}}")


def _checked_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """``{checked}`NAME: grad(W) = X.T @ Delta```: an inline formula, checked like a line of
    ``{checked-math}`` against the ``{formula-context}`` NAME given earlier on the page."""
    env = inliner.document.settings.env
    context_name, colon, formula = text.partition(":")
    contexts = env.temp_data.get("checked_math_contexts", {})
    try:
        if not colon or context_name.strip() not in contexts:
            raise FormulaError(f"{{checked}}`{text}`: write NAME: formula, with NAME a {{formula-context}} given "
                               f"earlier on the page (given: {', '.join(contexts) or 'none'})")
        o = contexts[context_name.strip()]
        rows = rename(o.get("names"), check_formulas([formula.strip()], o.get("shapes", ""), loss=o.get("loss"),
                      where=o.get("where", ""), sizes=option_pairs(o.get("sizes"), "sizes", int),
                      draw=option_pairs(o.get("draw"), "draw"), seed=o.get("seed", 0),
                      symbol=o.get("symbol", "L")))
    except FormulaError as exc:
        msg = inliner.reporter.error(f"wrong or unchecked formula: {exc}", line=lineno)
        return [inliner.problematic(rawtext, rawtext, msg)], [msg]
    inline = " ".join(r.split("&&")[0].replace("&", "").strip() for r in rows)
    inline = _SLASHED.sub(r"\\partial \1/\\partial \2", inline)  # ∂L/∂W in running text
    return [nodes.math(rawtext, inline, classes=["checked"])], []


class Derivation(SphinxDirective):
    has_content = True
    optional_arguments = 1
    final_argument_whitespace = True
    option_spec = {"shapes": directives.unchanged_required, "wrt": directives.unchanged,
                   "steps": directives.unchanged, "forward": directives.flag, "why": directives.flag,
                   "sizes": directives.unchanged, "seed": directives.nonnegative_int}

    def run(self):
        o = self.options
        expr = " ".join([*self.arguments, *self.content]).strip()
        wrt = [w for w in re.split(r"[,\s]+", o.get("wrt", "")) if w] or None
        steps = [w for w in re.split(r"[,\s]+", o.get("steps", "")) if w] or None
        try:
            sizes = option_pairs(o.get("sizes"), "sizes", int)
            rows = render_derivation(expr, o.get("shapes", ""), wrt=wrt, steps=steps, forward="forward" in o,
                                     why="why" in o, sizes=sizes, seed=o.get("seed", 0))
            if "why" in o:
                _check_why(expr, o.get("shapes", ""), wrt, sizes, o.get("seed", 0))
        except FormulaError as exc:
            return _fail(self, exc)
        return _block(self, rows, "Derived by derivlib.derive; every step checked against finite differences"
                      + ("; every differential shown checked as the adjoint of its step and as a derivative."
                         if "why" in o else "."))


def _check_why(expr, shapes, wrt, sizes, seed):
    """The displayed "why" lines of a derivation, checked (Derivation.check_why); a FormulaError
    naming the step whose differential or identity is wrong."""
    from derivlib import derive
    from derivlib.engine.adjoint import DifferentialError

    try:
        derive(expr, parse_shapes(shapes), wrt=wrt).check_why(sizes=sizes or None, seed=seed)
    except DifferentialError as exc:
        raise FormulaError(f"a displayed differential of the derivation of {expr!r} is wrong: {exc}") from None


# -- the asker's formula, with the ledger's verdict -------------------------------------------


def _ledger():
    from verification import claims

    return claims


class AskedFormula(SphinxDirective):
    """``{asked}`` with claim ids: each formula exactly as its thread wrote it (the ledger's
    LaTeX), and what checking it as written found, from the claims ledger at this build."""

    required_arguments = 1
    final_argument_whitespace = True
    option_spec = {"caption": directives.unchanged}

    def run(self):
        claims = _ledger()
        box = nodes.container(classes=["asked"])
        caption = self.options.get("caption", "As asked in the thread, checked as written:")
        box += nodes.paragraph("", caption, classes=["asked-caption"])
        shown = None
        for ident in self.arguments[0].split():
            try:
                claim = claims.get(ident)
            except KeyError as exc:
                logger.error(f"{{asked}}: {exc}", location=self.get_location(), type="checked_math",
                             subtype="claim")
                return []
            result = claims.check(claim)
            if result.observed != claim.expected:
                logger.error(f"{{asked}}: the ledger records {ident} as {claim.expected!r} but checking it "
                             f"now finds {result.observed!r}", location=self.get_location(),
                             type="checked_math", subtype="claim")
            slug = result.observed.replace(" ", "-")
            text = f"{{bdg-verdict}}`{result.observed}` as written"
            if claim.latex == shown:  # the same formula again, checked in another setting
                setting = claim.where.partition("(")[2].rstrip(")")
                text = f"{setting[:1].upper()}{setting[1:]}: " + text if setting else text
            else:
                math = nodes.math_block(claim.latex, claim.latex, classes=["checked", "claim"], nowrap=False,
                                        number=None, label=None, docname=self.env.docname)
                self.set_source_info(math)
                box += math
            shown = claim.latex
            if claim.corrected_latex is not None and result.observed != "holds":
                text += f"; corrected: ${claim.corrected_latex}$"
            text += f" ({{ref}}`ledger entry {ident} <claims-{ident[:3]}>`)"
            para = self.parse_text_to_nodes(text)
            for p in para:
                p["classes"] += ["verdict-line", f"verdict-line-{slug}"]
                for math in p.findall(nodes.math):  # the ledger's correction, checked with the claim
                    math["classes"].append("checked")
            box += para
        return [box]


def _verdict_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """``{bdg-verdict}`holds``` styles a status; ``{verdict}`002-q-result``` looks the claim up
    in the ledger, checks it at this build and shows what it found."""
    if name == "verdict":
        claims = _ledger()
        try:
            text = claims.check(claims.get(text.strip())).observed
        except KeyError as exc:
            msg = inliner.reporter.error(f"{{verdict}}: {exc}", line=lineno)
            return [inliner.problematic(rawtext, rawtext, msg)], [msg]
    slug = text.replace(" ", "-")
    return [nodes.inline(rawtext, text, classes=["verdict", f"verdict-{slug}"])], []


def _asked_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """``{asked}`001-q-dLdf```: a thread's formula inline, exactly as the ledger has it, after
    checking that the ledger's verdict on it still holds at this build."""
    claims = _ledger()
    try:
        claim = claims.get(text.strip())
        observed = claims.check(claim).observed
        if observed != claim.expected:
            raise KeyError(f"the ledger records {claim.id} as {claim.expected!r} but checking it now finds "
                           f"{observed!r}")
    except KeyError as exc:
        msg = inliner.reporter.error(f"{{asked}}: {exc.args[0]}", line=lineno)
        return [inliner.problematic(rawtext, rawtext, msg)], [msg]
    latex = _SLASHED.sub(r"\\partial \1/\\partial \2", claim.latex)  # ∂L/∂f in running text
    return [nodes.math(rawtext, latex, classes=["checked", "claim"])], []


def _in_output(node):
    parent = node.parent
    while parent is not None:
        if isinstance(parent, nodes.Element) and any("output" in c for c in parent.get("classes", [])):
            return True
        parent = parent.parent
    return False


def _check_raw_math(app, doctree):
    page = Path(app.env.doc2path(app.env.docname)).resolve()
    for node in (*doctree.findall(nodes.math_block), *doctree.findall(nodes.math)):
        source = get_source_line(node)[0] or ""
        if _in_output(node) or (source and Path(source.split(":")[0]).resolve() != page):
            continue  # displayed by a code cell, or a docstring pulled in by autodoc
        if isinstance(node, nodes.math_block):
            why = raw_math_problem(node.astext(), node.get("classes", []))
        else:  # inline: the roles' own formulas carry the class "checked"
            why = "" if "checked" in node.get("classes", []) else raw_inline_problem(node.astext())
        if why:
            logger.error(f"{why}: {node.astext().strip()[:80]!r}", location=node, type="checked_math",
                         subtype="raw")


def setup(app):
    # A change to this file makes Sphinx re-read every page (the checks run while reading).
    source = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
    app.add_config_value("checked_math_source", source, "env", types=frozenset({str}))
    app.add_directive("checked-math", CheckedMath)
    app.add_directive("derivation", Derivation)
    app.add_directive("asked", AskedFormula)
    app.add_role("bdg-verdict", _verdict_role)
    app.add_role("verdict", _verdict_role)
    app.add_directive("formula-context", FormulaContext)
    app.add_role("checked", _checked_role)
    app.add_role("asked", _asked_role)
    app.connect("doctree-read", _check_raw_math)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
