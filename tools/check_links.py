"""Check every link inside the built site, and list the links that leave it.

Usage: ``python tools/check_links.py _build/html [_build/linkcheck/output.json]``
(``make linkcheck`` runs it after Sphinx's link checker).

Sphinx's ``linkcheck`` builder checks external URLs, but reports links within the site
(``page.html#anchor``, ``#anchor``) as "unchecked". This script parses every HTML file of
the built site and checks each relative ``href`` and ``src``: the file must exist, and a
``#fragment`` must be an ``id`` (or ``name``) in the target page. It then lists every
external link (content links from the linkcheck output, plus any in the HTML such as the
theme's footer): CI has no network, so they are listed, not fetched. Exit status 1 if an
internal link is broken.
"""

from __future__ import annotations

import json
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[tuple[str, str]] = []  # (attribute, value)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name") if tag != "meta" else ():
            if attrs.get(key):
                self.ids.add(attrs[key])
        for key in ("href", "src"):
            if attrs.get(key) and not (tag == "link" and attrs.get("rel") in ("preconnect", "dns-prefetch")):
                self.links.append((key, attrs[key]))


def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    return page


def check(site: Path):
    # the site's pages; files under _static/ are theme template fragments, not pages
    pages = {p.resolve(): parse(p) for p in site.rglob("*.html") if "_static" not in p.relative_to(site).parts}
    broken, external = [], set()
    for path, page in sorted(pages.items()):
        for _, link in page.links:
            parts = urlsplit(link)
            if parts.scheme in ("http", "https") or link.startswith("//"):
                external.add(link)
                continue
            if parts.scheme in ("mailto", "data", "javascript") or parts.scheme:
                continue
            target = path if not parts.path else (path.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            rel = path.relative_to(site.resolve())
            if not target.exists():
                broken.append(f"{rel}: {link} (no such file)")
                continue
            if parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else parse(target).ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{rel}: {link} (no id {parts.fragment!r} in {target.name})")
    return len(pages), broken, external


def main(argv) -> int:
    if not argv:
        print(__doc__)
        return 2
    site = Path(argv[0])
    n, broken, external = check(site)
    content = []
    if len(argv) > 1 and Path(argv[1]).exists():
        for line in Path(argv[1]).read_text().splitlines():
            entry = json.loads(line)
            if entry["uri"].startswith(("http://", "https://")):
                content.append(f"{entry['uri']}  ({entry['filename']}:{entry['lineno']})")
    print(f"{n} pages; {len(broken)} broken internal links or anchors")
    for b in broken:
        print("  BROKEN", b)
    print(f"external links in the pages' content, not fetched (no network in CI): {len(content)}")
    for c in sorted(content):
        print("  ", c)
    others = sorted(external - {c.split()[0] for c in content})
    print(f"other external links in the HTML (theme, footer): {len(others)}")
    for o in others:
        print("  ", o)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
