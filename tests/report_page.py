"""An HTML report page (html_report) read back for assertions: sections, tables, omissions."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path


class Page(HTMLParser):
    """Sections (id → heading, caption, images, figure captions), tables (id → rows of (text,
    attributes)) and the omitted list of a report page."""

    def __init__(self, text: str):
        super().__init__()
        self.sections: dict[str, dict] = {}
        self.tables: dict[str, list[list[tuple[str, dict]]]] = {}
        self.omitted: dict[str, str] = {}
        self._section = None
        self._table = None
        self._capture = None
        self._text = ""
        self._attributes: dict = {}
        self._omitted_key = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "section":
            self._section = attributes.get("id")
            self.sections[self._section] = {
                "heading": "",
                "caption": "",
                "images": [],
                "figcaptions": [],
            }
        elif tag == "h2" and self._section:
            self._capture, self._text = "heading", ""
        elif tag == "p" and attributes.get("class") == "caption" and self._section:
            self._capture, self._text = "caption", ""
        elif tag == "figcaption" and self._section:
            self._capture, self._text = "figcaption", ""
        elif tag == "img" and self._section:
            self.sections[self._section]["images"].append(attributes["src"])
        elif tag == "table" and attributes.get("id"):
            self._table = attributes["id"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table:
            self._capture, self._text, self._attributes = "cell", "", attributes
        elif tag == "li" and attributes.get("data-section"):
            self._omitted_key, self._capture, self._text = attributes["data-section"], "li", ""

    def handle_data(self, data):
        if self._capture:
            self._text += data

    def handle_endtag(self, tag):
        if tag in ("h2", "p") and self._capture in ("heading", "caption"):
            self.sections[self._section][self._capture] = self._text
            self._capture = None
        elif tag == "figcaption" and self._capture == "figcaption":
            self.sections[self._section]["figcaptions"].append(self._text)
            self._capture = None
        elif tag in ("td", "th") and self._capture == "cell":
            self.tables[self._table][-1].append((self._text, self._attributes))
            self._capture = None
        elif tag == "table":
            self._table = None
        elif tag == "li" and self._capture == "li":
            self.omitted[self._omitted_key] = self._text
            self._capture = None
        elif tag == "section":
            self._section = None


def read_page(path) -> Page:
    return Page(Path(path).read_text(encoding="utf-8"))
