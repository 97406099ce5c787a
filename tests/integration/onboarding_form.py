"""Reads the Stripe emulator's hosted onboarding page as a plain HTTP client would."""

from __future__ import annotations

from html.parser import HTMLParser


class FormReader(HTMLParser):
    """The page's form: its method, action and the values its inputs carry."""

    def __init__(self) -> None:
        super().__init__()
        self.method = self.action = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.method, self.action = attrs.get("method"), attrs.get("action")
        elif tag == "input" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value") or ""


def read_form(page: str) -> FormReader:
    reader = FormReader()
    reader.feed(page)
    return reader
