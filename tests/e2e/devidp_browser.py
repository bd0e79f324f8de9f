"""Signing in to a live sandbox's web interface through the development IdP, as a browser
without JavaScript does: follow the redirects, press the demo person's button, press the
button of the auto-post page. Only what the pages themselves offer is used (forms, their
hidden fields and actions), so a broken page or link fails the sign-in."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urljoin

import requests

TIMEOUT = 20


class Forms(HTMLParser):
    """Every ``<form>`` of a page: its action, its inputs and its buttons' texts."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._button: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action", ""), "fields": {}, "buttons": []})
        elif tag == "input" and self.forms and attrs.get("name"):
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value", "")
        elif tag == "button" and self.forms:
            self._button = []

    def handle_data(self, data):
        if self._button is not None:
            self._button.append(data)

    def handle_endtag(self, tag):
        if tag == "button" and self._button is not None:
            self.forms[-1]["buttons"].append(" ".join("".join(self._button).split()))
            self._button = None


def forms_of(html: str) -> list[dict]:
    parser = Forms()
    parser.feed(html)
    return parser.forms


def press(browser: requests.Session, page: requests.Response, button: str) -> requests.Response:
    """Submit the form of ``page`` that has a button reading ``button``."""
    for form in forms_of(page.text):
        if button in form["buttons"]:
            action = urljoin(page.url, form["action"])
            return browser.post(action, data=form["fields"], timeout=TIMEOUT)
    raise AssertionError(f"no button {button!r} on {page.url}:\n{page.text[:2000]}")


def sign_in(base_url: str, display_name: str, start: str = "/ui/"):
    """A session signed in as the development IdP's demo person ``display_name``, and the
    page it lands on (``start``, after the IdP)."""
    browser = requests.Session()
    chooser = browser.get(base_url + start, timeout=TIMEOUT)
    assert chooser.status_code == 200, chooser.text[:2000]
    assert "/devidp/sso" in chooser.url, chooser.url
    autopost = press(browser, chooser, f"Inloggen als {display_name}")
    assert autopost.status_code == 200, autopost.text[:2000]
    landing = press(browser, autopost, "Doorgaan naar de gateway")
    assert landing.status_code == 200, landing.text[:2000]
    return browser, landing


def figure(page: str, label: str) -> int:
    """The number of a dashboard tile: ``<span class="figure">N</span> <label>``."""
    found = re.search(r'<span class="figure">(\d+)</span>\s*' + re.escape(label), page)
    assert found, f"no tile {label!r} on the page"
    return int(found.group(1))


def text_of(html: str) -> str:
    """The page's text with tags dropped and spaces collapsed, for phrases across tags."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())
