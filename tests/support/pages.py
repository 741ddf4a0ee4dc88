"""Reading a script-free page (the diff page, the client-sets page) as a test would check it: its
tags' attributes, its one <style> and the policy that pins it, and which rows sit in which <details>."""

from __future__ import annotations

import base64
import hashlib
import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Page:
    attributes: list[tuple[str, dict[str, str | None]]] = field(default_factory=list)  # (tag, attrs)
    styles: list[str] = field(default_factory=list)
    csp: str = ""
    # the data-cell of every row, by the data-kind (or class) of each <details> it sits in, innermost first
    rows: list[tuple[str, tuple[str, ...], str]] = field(default_factory=list)  # (cell, details, row text)

    def cells_in(self, details: str) -> list[str]:
        return [cell for cell, where, _ in self.rows if where and where[0] == details]

    def row_text(self, cell: str) -> str:
        return next(text for found, _, text in self.rows if found == cell)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._details: list[str] = []
        self._in_style = False
        self._row: tuple[str, tuple[str, ...]] | None = None
        self._row_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        self.page.attributes.append((tag, named))
        if tag == "meta" and (named.get("http-equiv") or "").lower() == "content-security-policy":
            self.page.csp = named.get("content") or ""
        elif tag == "style":
            self._in_style = True
            self.page.styles.append("")
        elif tag == "details":
            self._details.append(named.get("data-kind") or named.get("class") or "")
        elif tag == "tr" and named.get("data-cell"):
            self._row, self._row_text = (named["data-cell"] or "", tuple(reversed(self._details))), []

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False
        elif tag == "details":
            self._details.pop()
        elif tag == "tr" and self._row is not None:
            cell, where = self._row
            self.page.rows.append((cell, where, " ".join(" ".join(self._row_text).split())))
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.page.styles[-1] += data
        elif self._row is not None:
            self._row_text.append(data)


def read_page(text: str) -> Page:
    reader = _Reader()
    reader.feed(text)
    reader.close()
    return reader.page


def assert_script_free_and_pinned(text: str) -> Page:
    """No script, no inline style attribute, nothing loaded; the one <style> admitted by its hash."""
    page = read_page(text)
    assert not [tag for tag, attrs in page.attributes if "style" in attrs], "an inline style attribute"
    assert not [tag for tag, _ in page.attributes if tag in ("script", "link", "img", "iframe", "object", "embed")]
    assert len(page.styles) == 1
    raw_style = re.search(r"<style>(.*?)</style>", text, re.S)
    assert raw_style and html.unescape(raw_style.group(1)) == raw_style.group(1), "the style must not be escaped"
    digest = base64.b64encode(hashlib.sha256(raw_style.group(1).encode("utf-8")).digest()).decode("ascii")
    assert f"style-src 'sha256-{digest}'" in page.csp
    assert "default-src 'none'" in page.csp and "script-src" not in page.csp
    return page
