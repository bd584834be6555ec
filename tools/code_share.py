"""Share of a page's characters that are code a reader sees open (code cells not folded).

    python tools/code_share.py docs/sigmoid_layer.md docs/linear_dot.md ...
    python tools/code_share.py --rev main docs/sigmoid_layer.md   (the page at a git revision)

A code cell is visible unless its tags include hide-input, remove-input or remove-cell.
The share is (characters of visible code-cell sources) / (characters of the page without
its front matter).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

FOLDED = {"hide-input", "remove-input", "remove-cell"}
CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```\s*$", re.M | re.S)


def split_cell(body):
    """(tags, source) of a code cell's body."""
    tags = set()
    if body.startswith("---\n"):
        head, _, body = body[4:].partition("\n---\n")
        tags |= set(re.findall(r"[\w-]+", " ".join(re.findall(r"tags:\s*\[(.*?)\]", head))))
    else:
        lines = body.split("\n")
        while lines and lines[0].startswith(":"):
            m = re.match(r":tags:\s*\[(.*?)\]", lines[0])
            if m:
                tags |= set(re.findall(r"[\w-]+", m.group(1)))
            lines.pop(0)
        body = "\n".join(lines)
    return tags, body.strip("\n")


def share(text):
    """(visible code characters, all characters, share)."""
    if text.startswith("---\n"):
        text = text.split("\n---\n", 1)[1]
    visible = sum(len(src) for tags, src in map(split_cell, CELL.findall(text)) if not tags & FOLDED)
    return visible, len(text), visible / len(text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="+")
    parser.add_argument("--rev", help="read the pages at this git revision")
    args = parser.parse_args(argv)
    for page in args.pages:
        text = (subprocess.run(["git", "show", f"{args.rev}:{page}"], capture_output=True, text=True,
                               check=True).stdout if args.rev else open(page, encoding="utf-8").read())
        code, total, frac = share(text)
        print(f"{page}: {code} of {total} characters are visible code ({100 * frac:.0f}%)")


if __name__ == "__main__":
    sys.exit(main())
