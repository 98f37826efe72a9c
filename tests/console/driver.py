"""What the console tests share: the browser's path, alice's password, a watch on a page's errors,
and the steps every test takes (sign in, open a page, submit a form, read the session's token)."""

from __future__ import annotations

from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "alice-password"
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "console"
PAGES = ("overview", "sets", "try", "usage", "access", "audit")
LANGS = ("zh-CN", "en")
CROWD = "facenet-pytorch_multiface.jpg"  # several faces


class Watch:
    """Console errors, failed requests and answers >= 400 of a page, except those a test provokes."""

    def __init__(self, page) -> None:
        self.problems: list[str] = []
        self.expected: set[int] = set()
        page.on("console", lambda m: m.type == "error" and not self._provoked(m.text)
                and self.problems.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url} {r.failure}"))
        page.on("response", lambda r: r.status >= 400 and r.status not in self.expected
                and self.problems.append(f"{r.status}: {r.request.method} {r.url}"))

    def _provoked(self, text: str) -> bool:
        return any(f"status of {status}" in text for status in self.expected)

    def check(self) -> None:
        assert not self.problems, self.problems


def open_page(page, name: str) -> None:
    page.evaluate("name => { location.hash = '#/' + name }", name)
    page.wait_for_selector(f"body[data-ready='{name.split('/')[0]}']")


def sign_in(page, url: str, lang: str = "zh-CN", page_name: str = "", user: str = "alice",
            password: str = PASSWORD) -> None:
    """Signs a user in from the sign-in page by keyboard, then opens `page_name` if given."""
    page.goto(f"{url}/console/")
    page.wait_for_selector("body[data-ready='signin']")
    if page.input_value("#lang") != lang:
        page.select_option("#lang", lang)
        page.wait_for_selector("body[data-ready='signin']")
    assert page.evaluate("document.activeElement.id") == "project"  # the form starts focused
    page.keyboard.type("shop")
    page.keyboard.press("Tab")
    page.keyboard.type(user)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")  # keyboard only, as a user without a mouse signs in
    page.wait_for_selector("body[data-ready]:not([data-ready='signin'])")  # overview, or the page asked for
    if page_name:
        open_page(page, page_name)


def run_form(page, form: str, files: dict[str, Path], wait: str) -> None:
    """Choose the files of a form's inputs, submit it, and wait for `wait` to appear."""
    for selector, path in files.items():
        page.set_input_files(selector, str(path))
    page.click(f"#{form} button[type=submit]")
    page.wait_for_selector(wait)


def token_headers(page) -> dict[str, str]:
    session = page.evaluate("JSON.parse(sessionStorage.getItem('openfrs.session'))")
    return {"X-Auth-Token": session["token"]}
