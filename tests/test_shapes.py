"""One shape rule for the four places a shape is typed: the engine's ``shapes`` dict, the
playground's shapes box, the command line's ``--shape`` and the pages' ``:shapes:`` option.

Each adapter reads its own syntax and names its own argument, but the same shape gets the
same verdict, in the same words, from all four.
"""

from __future__ import annotations

import re

import pytest

from derivlib.__main__ import main
from derivlib.engine.parse import check_shapes
from derivlib.playground.requests import MAX_DIM, parse_shapes as playground_shapes
from verification.formulas import FormulaError, parse_shapes as page_shapes


def _engine(text):
    """The ``shapes`` dict: ``{"X": "n, p"}``."""
    try:
        return check_shapes({"X": text})["X"]
    except (ValueError, TypeError) as exc:
        return _refused(str(exc), "shapes['X']")


def _playground(text):
    """The playground's box: the line ``X: n, p``."""
    try:
        return playground_shapes(f"X: {text}")["X"]
    except ValueError as exc:
        return _refused(str(exc), "line 1")


def _cli(text, capsys):
    """``python -m derivlib derive ... --shape X=n,p``: exit status 0, or 2 and the message."""
    status = main(["derive", "sum(X)", "--shape", f"X={text}", "--no-check"])
    err = capsys.readouterr().err
    if status == 0:
        return "accepted"
    assert status == 2, err
    return _refused(err.removeprefix("error: ").strip(), "--shape X")


def _page(text):
    """The pages' ``:shapes: X=n,p`` option."""
    try:
        return page_shapes(f"X={text}")["X"]
    except FormulaError as exc:
        return _refused(str(exc), ":shapes: X")


def _refused(message, where):
    """``("refused", words)``: the words after the adapter's own name for its argument."""
    assert message.startswith(where), (message, where)
    return "refused", message[len(where):].lstrip(": ")


# the text of a shape, as typed after "X: " or "X=" (no spaces: the page option splits on them)
GOOD = [
    pytest.param("n,p", ("n", "p"), id="two-names"),
    pytest.param("1,q", (1, "q"), id="a-row"),
    pytest.param("n,1", ("n", 1), id="a-column"),
    pytest.param("3,5", (3, 5), id="two-numbers"),
    pytest.param("()", (1, 1), id="a-number-as-()"),
    pytest.param("1,1", (1, 1), id="a-number-as-1,1"),
    pytest.param("n_1,p2", ("n_1", "p2"), id="names-with-digits"),
    pytest.param(f"{MAX_DIM},n", (MAX_DIM, "n"), id="largest-number-the-playground-takes"),
]

BAD = [
    pytest.param("n", "must have two dimensions", id="one-dimension"),
    pytest.param("n,p,q", "must have two dimensions", id="three-dimensions"),
    pytest.param("", "must have two dimensions", id="empty"),
    pytest.param("n,", "each dimension must be a name", id="an-empty-dimension"),
    pytest.param("n,0", "whole number >= 1; got 0", id="zero"),
    pytest.param("n,-2", "whole number >= 1; got '-2'", id="negative"),
    pytest.param("n,1.5", "whole number >= 1; got '1.5'", id="a-fraction"),
    pytest.param("n,p-1", "whole number >= 1; got 'p-1'", id="an-expression"),
    pytest.param("n,²", "whole number >= 1; got '²'", id="a-superscript-digit"),
    pytest.param("(n,p)", "whole number >= 1; got '(n'", id="parentheses"),
]


@pytest.mark.parametrize(("text", "shape"), GOOD)
def test_each_entry_point_accepts_a_good_shape(text, shape, capsys):
    assert (_engine(text), _playground(text), _cli(text, capsys), _page(text)) == (shape, shape, "accepted", shape)


@pytest.mark.parametrize(("text", "words"), BAD)
def test_each_entry_point_refuses_a_bad_shape_in_the_same_words(text, words, capsys):
    verdicts = {"engine": _engine(text), "playground": _playground(text), "cli": _cli(text, capsys),
                "page": _page(text)}
    assert set(verdicts.values()) == {verdicts["engine"]}, verdicts
    assert words in verdicts["engine"][1]


@pytest.mark.parametrize("name", [
    pytest.param("1X", id="starts-with-a-digit"),
    pytest.param("X-1", id="not-an-identifier"),
    pytest.param("exp", id="a-function"),
])
def test_each_entry_point_refuses_a_bad_name_in_the_same_words(name, capsys):
    def engine():
        with pytest.raises(ValueError) as exc:
            check_shapes({name: "n, p"})
        return _refused(str(exc.value), f"shapes[{name!r}]")

    def playground():
        with pytest.raises(ValueError) as exc:
            playground_shapes(f"{name}: n, p")
        return _refused(str(exc.value), "line 1")

    def cli():
        assert main(["derive", "sum(Y)", "--shape", "Y=n,p", "--shape", f"{name}=n,p", "--no-check"]) == 2
        return _refused(capsys.readouterr().err.removeprefix("error: ").strip(), f"--shape {name}")

    def page():
        with pytest.raises(FormulaError) as exc:
            page_shapes(f"{name}=n,p")
        return _refused(str(exc.value), f":shapes: {name}")

    verdicts = [engine(), playground(), cli(), page()]
    assert verdicts == [verdicts[0]] * 4
    assert "must be a Python identifier other than the functions" in verdicts[0][1]


def test_the_playground_also_limits_a_numbered_dimension():
    with pytest.raises(ValueError, match=re.escape(f"line 1: dimension {MAX_DIM + 1} must be between 1 and {MAX_DIM} "
                                                   f"here")):
        playground_shapes(f"X: n, {MAX_DIM + 1}")


def test_the_command_line_names_a_shape_given_twice(capsys):
    assert main(["derive", "sum(X)", "--shape", "X=n,p", "--shape", "X=n,q", "--no-check"]) == 2
    assert "error: --shape X: 'X' is given a shape twice" in capsys.readouterr().err


def test_the_page_option_names_a_shape_given_twice():
    with pytest.raises(FormulaError, match=r"^:shapes: X: 'X' is given a shape twice"):
        page_shapes("X=n,p X=n,q")
