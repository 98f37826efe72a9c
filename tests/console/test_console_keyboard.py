"""The console by keyboard alone, and the names assistive technology reads: sign in, move between
pages, create a face library and run a detection with Tab / Shift+Tab / Enter / Space only (the
file chooser opened by Space, as a keyboard user opens it); a focused control shows a visible
focus ring; and on every page every control in Chromium's own accessibility tree (buttons, links,
fields, selects, checkboxes, file inputs) has an accessible name."""

from __future__ import annotations

import pytest

from tests.console.driver import CROWD, PAGES, open_page, sign_in

pytestmark = [pytest.mark.models, pytest.mark.data]
CONTROLS = {"button", "link", "textbox", "searchbox", "combobox", "listbox", "checkbox", "radio",
            "spinbutton", "slider", "switch", "menuitem"}


def tab_to(page, selector: str, key: str = "Tab", limit: int = 80) -> None:
    """Press Tab (or Shift+Tab) until the focus is on `selector`; fails if it is never reached."""
    for _ in range(limit):
        if page.evaluate("s => document.activeElement?.matches(s)", selector):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{key} never reached {selector}")


def focused(page) -> str:
    return page.evaluate("document.activeElement.id || document.activeElement.tagName")


def test_the_main_flow_by_keyboard_alone(page, server, shared_data):
    url, _ = server
    sign_in(page, url)  # by keyboard: typing, Tab, Enter
    assert page.evaluate("document.activeElement.tagName") == "H1"  # the page's heading is announced
    tab_to(page, "#nav-sets", "Shift+Tab")
    ring = page.evaluate("getComputedStyle(document.activeElement).outlineWidth")
    assert ring == "3px"  # a visible focus ring on what the keyboard reached
    page.keyboard.press("Enter")
    page.wait_for_selector("body[data-ready='sets']")
    assert page.evaluate("document.activeElement.tagName") == "H1"
    tab_to(page, "#set-name")
    page.keyboard.type("kbd")
    page.keyboard.press("Enter")  # submits the create form
    page.wait_for_selector("body[data-ready='sets'] #enroll")
    assert "kbd" in page.inner_text("h1")
    tab_to(page, "#nav-try", "Shift+Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("body[data-ready='try']")
    tab_to(page, "#detect-photo")
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(str(shared_data / "crowd" / CROWD))
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.matches('#detect button[type=submit]')")
    page.keyboard.press("Enter")
    page.wait_for_selector("#detect-canvas")
    assert int(page.get_attribute("#detect-canvas", "data-boxes")) > 1
    tab_to(page, "#live-photo")  # and on, in reading order, to the next form
    tab_to(page, "#signout", "Shift+Tab")
    page.keyboard.press("Space")
    page.wait_for_selector("body[data-ready='signin']")
    assert focused(page) == "project"


def unnamed_controls(page) -> list[str]:
    """Controls in Chromium's accessibility tree (the names a screen reader reads) without a name."""
    cdp = page.context.new_cdp_session(page)
    try:
        nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
    finally:
        cdp.detach()
    missing = []
    for node in nodes:
        role = node.get("role", {}).get("value")
        if node.get("ignored") or role not in CONTROLS:
            continue
        if not str(node.get("name", {}).get("value", "")).strip():
            missing.append(f"{role} (DOM node {node.get('backendDOMNodeId')})")
    # Chromium names a bare file input "No file chosen": every field needs a label of its own.
    missing += page.evaluate("""[...document.querySelectorAll('input, select, textarea')]
        .filter(e => !e.labels.length && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
        .map(e => 'unlabelled ' + (e.id || e.type))""")
    return missing


def test_every_control_has_an_accessible_name(page, server, tencent_group):
    url, _ = server
    page.goto(f"{url}/console/")
    page.wait_for_selector("body[data-ready='signin']")
    for label in ("项目名称或 ID", "用户名", "密码"):
        assert page.get_by_label(label, exact=True).count() == 1
    assert page.get_by_role("button", name="登录").count() == 1
    assert unnamed_controls(page) == []
    sign_in(page, url)
    for name in (*PAGES, "sets/visitors"):
        open_page(page, name)
        if name == "sets":
            page.click("#add-field")  # the custom-field rows too
        assert unnamed_controls(page) == [], name
    for label in ("按条件筛选", "按人脸 ID 查找", "照片", "搜索照片"):
        assert page.get_by_label(label, exact=False).count() >= 1, label
    open_page(page, "try")
    for label in ("动作", "录制秒数", "视频"):
        assert page.get_by_label(label, exact=False).count() >= 1, label
    assert page.get_by_role("button", name="用摄像头录制并检测").count() == 1
