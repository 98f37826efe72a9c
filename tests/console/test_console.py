"""The web console (/console) in Debian's Chromium, driven by Playwright, against a real
`openfrs serve` with auth on: sign-in, every page without console errors or failed requests, a
face library built and searched, detect boxes, the usage chart, a key made in the UI signing the
official SDK, sign-out and expiry, both languages, the page-load time. Screenshots of every page
in both languages go to docs/console/ (docs/console.md shows them).

Nothing is downloaded: Playwright's driver comes from its pinned wheel, the browser is the
`chromium` Debian package (`make system-packages`).
"""

from __future__ import annotations

import base64
import csv
import io
import os
import shutil
from pathlib import Path

import httpx
import pytest
from huaweicloudsdkfrs.v2 import ShowAllFaceSetsRequest
from playwright import sync_api

from openfrs.benchmark.http_load import free_port, start_server
from tests.api.test_auth import accounts, projects_with_credentials
from tests.api.test_huawei_sdk import client as huawei_client
from tests.conftest import server_env, stores_of_their_own

pytestmark = [pytest.mark.models, pytest.mark.data]
os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")  # the browser is Debian's, never fetched

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "console"
PAGES = ("overview", "sets", "try", "usage", "access", "audit")
LANGS = ("zh-CN", "en")
PASSWORD = "alice-password"
CROWD = "facenet-pytorch_multiface.jpg"  # several faces


@pytest.fixture(scope="module")
def server(settings, model_pack_dir, tmp_path_factory):
    """(base URL, project credential) of a real server; project "shop" has the user alice."""
    with stores_of_their_own(settings, tmp_path_factory.mktemp("console-data")) as own:
        (shop,) = projects_with_credentials(own, "shop")
        accounts(own, lambda tenancy: tenancy.create_user("shop", "alice", PASSWORD))
        port = free_port()
        proc = start_server(port, own.data_dir, settings.model_dir,
                            extra_env={"OPENFRS_AUTH": "on", **server_env(own)})
        yield f"http://127.0.0.1:{port}", shop
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists() or not shutil.which("chromium"):
        pytest.fail(f"no {CHROMIUM}: install Debian's chromium (make system-packages)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


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


@pytest.fixture()
def page(browser, server):
    context = browser.new_context(viewport={"width": 1200, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    watch = Watch(page)
    page.watch = watch
    yield page
    context.close()
    watch.check()


def open_page(page, name: str) -> None:
    page.evaluate("name => { location.hash = '#/' + name }", name)
    page.wait_for_selector(f"body[data-ready='{name}']")


def sign_in(page, url: str, lang: str = "zh-CN", page_name: str = "") -> None:
    """Signs alice in from the sign-in page by keyboard, then opens `page_name` if given."""
    page.goto(f"{url}/console/")
    page.wait_for_selector("body[data-ready='signin']")
    if page.input_value("#lang") != lang:
        page.select_option("#lang", lang)
        page.wait_for_selector("body[data-ready='signin']")
    assert page.evaluate("document.activeElement.id") == "project"  # the form starts focused
    page.keyboard.type("shop")
    page.keyboard.press("Tab")
    page.keyboard.type("alice")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
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


def test_the_page_loads_under_a_second_and_signs_in_by_keyboard(page, server):
    url, shop = server
    # A new browser context (its renderer starting too: 0.3-0.8 s on the shared 2-core CI machine),
    # then a reload, what a user of a running browser waits for: under a second.
    for visit, limit_ms in (("first", 2000), ("again", 1000)):
        page.goto(f"{url}/console")  # the bare path redirects
        page.wait_for_selector("body[data-ready='signin']")
        timing = page.evaluate("performance.getEntriesByType('navigation')[0].toJSON()")
        print(f"console load ({visit}): DOMContentLoaded {timing['domContentLoadedEventEnd']:.0f} ms, "
              f"load {timing['loadEventEnd']:.0f} ms")
        assert timing["loadEventEnd"] < limit_ms, timing
    assert page.get_attribute("html", "lang") == "zh-CN"  # Chinese first
    assert page.inner_text("#signin h1") == "登录"
    page.watch.expected.add(401)
    page.fill("#project", "shop")
    page.fill("#user", "alice")
    page.fill("#password", "wrong-password")
    page.press("#password", "Enter")
    page.wait_for_selector(".status.error")
    assert "APIG.0301" in page.inner_text("#status")
    page.watch.expected.clear()
    sign_in(page, url)
    assert page.inner_text("nav").count("人脸库") == 1
    assert page.evaluate("Object.keys(localStorage)") == ["openfrs.lang"]  # nothing secret kept there


def test_overview_services_and_qps(page, server):
    url, shop = server
    sign_in(page, url)
    assert page.is_checked("#svc-live_detect")
    page.focus("#svc-live_detect")
    page.keyboard.press("Space")
    page.wait_for_selector(".status.info")
    subscribe = httpx.get(f"{url}/v1/{shop.project_id}/subscribe", headers=token_headers(page)).json()
    assert subscribe["live_detect_service"]["subscribe_status"] is False
    page.keyboard.press("Space")
    page.wait_for_function("document.querySelector('#svc-live_detect').checked")
    page.fill("#qps", "50")
    page.press("#qps", "Enter")
    page.wait_for_selector("#status:has-text('已保存')")
    project = httpx.get(f"{url}/v1/{shop.project_id}/project", headers=token_headers(page)).json()
    assert project["qps"] == 50 and project["subscription"]["live_detect_service"]["subscribe_status"]
    assert page.locator("#health tbody tr").count() >= 2  # model versions from /health


def test_face_library_enrol_and_search(page, server, shared_data):
    url, shop = server
    lfw = shared_data / "lfw-partial" / "images"
    sign_in(page, url, page_name="sets")
    page.fill("#set-name", "staff")
    page.click("#add-field")
    page.fill("#field-name-1", "dept")
    page.select_option("#field-type-1", "string")
    page.click("#create-set button[type=submit]")
    page.wait_for_selector("body[data-ready='sets'] #enroll")
    page.set_input_files("#enroll-photo", str(lfw / "Aaron_Peirsol" / "Aaron_Peirsol_0001.jpg"))
    page.fill("#enroll-external-id", "aaron")
    page.fill("#enroll-fields", '{"dept": "swim"}')
    page.click("#enroll button[type=submit]")
    page.wait_for_selector(".face-row")
    page.fill("#enroll-external-id", "wade")
    run_form(page, "enroll", {"#enroll-photo": lfw / "Abdoulaye_Wade" / "Abdoulaye_Wade_0001.jpg"},
             ".face-row:nth-child(2)")
    assert "swim" in page.inner_text("#faces")
    probe = lfw / "Aaron_Peirsol" / "Aaron_Peirsol_0002.jpg"  # another photo of the enrolled person
    run_form(page, "search", {"#search-photo": probe}, ".result-row")
    best = page.locator(".result-row").first
    assert best.get_attribute("data-external-id") == "aaron"
    assert best.locator("td").nth(4).inner_text() == "同一人"
    similarity = float(best.locator("td").nth(3).inner_text())
    assert similarity >= 0.93


def test_try_it_detect_boxes_compare_and_liveness(page, server, shared_data):
    url, shop = server
    crowd = shared_data / "crowd" / CROWD
    sign_in(page, url, page_name="try")
    run_form(page, "detect", {"#detect-photo": crowd}, "#detect-canvas")
    expected = httpx.post(f"{url}/v2/{shop.project_id}/face-detect", headers=token_headers(page),
                          files={"image_file": crowd.read_bytes()}, timeout=60).json()["faces"]
    assert len(expected) > 1
    assert int(page.get_attribute("#detect-canvas", "data-boxes")) == len(expected)
    assert page.locator(".detect-row").count() == len(expected)
    lfw = shared_data / "lfw-partial" / "images"
    aaron = lfw / "Aaron_Peirsol"
    run_form(page, "compare", {"#compare-1": aaron / "Aaron_Peirsol_0001.jpg",
                               "#compare-2": aaron / "Aaron_Peirsol_0003.jpg"}, "#compare-verdict")
    assert "同一人" in page.inner_text("#compare-verdict")
    run_form(page, "live", {"#live-photo": aaron / "Aaron_Peirsol_0001.jpg"}, "#live-verdict")
    assert "置信度" in page.inner_text("#live-verdict")


def test_usage_chart_reflects_calls_just_made_and_exports_csv(page, server, shared_data):
    url, shop = server
    sign_in(page, url)
    photo = (shared_data / "lfw-partial" / "images" / "AJ_Cook" / "AJ_Cook_0001.jpg").read_bytes()
    for _ in range(3):
        answer = httpx.post(f"{url}/v2/{shop.project_id}/face-detect", headers=token_headers(page),
                            json={"image_base64": base64.b64encode(photo).decode()}, timeout=60)
        assert answer.status_code == 200
    usage = httpx.get(f"{url}/v1/{shop.project_id}/usage", headers=token_headers(page)).json()["usage"]
    detects = sum(row["calls"] for row in usage if row["api"] == "face_detect")
    assert detects >= 3
    open_page(page, "usage")
    bars = page.locator("#usage-chart rect.bar[data-api='face_detect']")
    assert sum(int(bars.nth(i).get_attribute("data-calls")) for i in range(bars.count())) == detects
    with page.expect_download() as caught:
        page.click("#usage-csv")
    rows = list(csv.DictReader(io.StringIO(Path(caught.value.path()).read_text())))
    assert sum(int(r["calls"]) for r in rows if r["api"] == "face_detect") == detects


def test_a_key_made_in_the_ui_signs_the_official_sdk_and_users_are_managed(page, server):
    url, shop = server
    sign_in(page, url, page_name="access")
    page.click("#create-key")
    page.wait_for_selector("#new-sk")
    ak, sk = page.inner_text("#new-ak"), page.inner_text("#new-sk")
    assert page.evaluate("document.activeElement.id") == "new-key-done"
    sdk = huawei_client(url, ak, sk, shop.project_id)
    names = [info.face_set_name for info in sdk.show_all_face_sets(ShowAllFaceSetsRequest()).face_sets_info]
    assert isinstance(names, list)
    stored = page.evaluate("JSON.stringify({...sessionStorage}) + JSON.stringify({...localStorage})")
    assert sk not in stored  # shown once, never kept
    page.click("#new-key-done")
    assert page.locator("#new-sk").count() == 0
    page.fill("#user-name", "bob")
    page.fill("#user-password", "bob-password")
    page.click("#create-user button[type=submit]")
    page.wait_for_selector("tr[data-user='bob']")
    page.click(f"tr[data-ak='{ak}'] button:has-text('禁用')")
    page.wait_for_selector(f"tr[data-ak='{ak}']:has-text('已禁用')")
    assert page.locator("tr[data-user='alice'] button").count() == 0  # no way to lock oneself out
    open_page(page, "audit")
    page.fill("#audit-action", "createCredential")
    page.fill("#audit-actor", "user:alice")
    page.click("#audit-form button[type=submit]")
    page.wait_for_selector(".audit-row")
    assert f"credential/{ak}" in page.inner_text("#audit-out")


def test_sign_out_and_expiry_lock_the_pages(page, server):
    url, shop = server
    sign_in(page, url, page_name="sets")
    page.click("#signout")
    page.wait_for_selector("body[data-ready='signin']")
    assert page.evaluate("sessionStorage.getItem('openfrs.session')") is None
    for name in PAGES:
        page.evaluate("name => { location.hash = '#/' + name }", name)
        page.wait_for_selector("body[data-ready='signin']")
        assert page.locator("nav").count() == 0 and page.locator("table").count() == 0
    sign_in(page, url)
    page.watch.expected.add(403)  # the server refuses the stale token: FRS.0002
    page.evaluate("""() => { const s = JSON.parse(sessionStorage.getItem('openfrs.session'));
                             s.token = 'MIIexpired';
                             sessionStorage.setItem('openfrs.session', JSON.stringify(s)); }""")
    page.evaluate("location.hash = '#/sets'")
    page.wait_for_selector("body[data-ready='signin']")
    assert page.evaluate("sessionStorage.getItem('openfrs.session')") is None
    assert "会话已过期" in page.inner_text("#status")


def test_every_page_in_both_languages_with_screenshots(page, server, shared_data):
    url, shop = server
    SHOTS.mkdir(parents=True, exist_ok=True)
    for lang in LANGS:
        sign_in(page, url, lang)
        assert page.get_attribute("html", "lang") == lang
        nav = page.inner_text("nav")
        assert ("人脸库" in nav) == (lang == "zh-CN") and ("Face libraries" in nav) == (lang == "en")
        for name in PAGES:
            open_page(page, name)
            assert page.locator("h1").count() == 1 and not page.locator(".status.error").count()
            if name == "try":  # show a detection in the picture
                run_form(page, "detect", {"#detect-photo": shared_data / "crowd" / CROWD}, "#detect-canvas")
            page.screenshot(path=str(SHOTS / f"{name}-{lang}.png"), full_page=True)
        sets = httpx.get(f"{url}/v2/{shop.project_id}/face-sets", headers=token_headers(page)).json()
        if "staff" not in [s["face_set_name"] for s in sets["face_sets_info"]]:  # this test run alone
            httpx.post(f"{url}/v2/{shop.project_id}/face-sets", headers=token_headers(page),
                       json={"face_set_name": "staff"})
        page.evaluate("location.hash = '#/sets/staff'")
        page.wait_for_selector("body[data-ready='sets'] #enroll")
        page.screenshot(path=str(SHOTS / f"library-{lang}.png"), full_page=True)
        page.click("#signout")
        page.wait_for_selector("body[data-ready='signin']")
        page.screenshot(path=str(SHOTS / f"signin-{lang}.png"))
