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
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from huaweicloudsdkfrs.v2 import ShowAllFaceSetsRequest

from tests.api.test_huawei_sdk import client as huawei_client
from tests.console.driver import CROWD, LANGS, PAGES, SHOTS, open_page, run_form, sign_in, token_headers

pytestmark = [pytest.mark.models, pytest.mark.data]


def test_the_page_loads_under_a_second_and_signs_in_by_keyboard(page, server):
    url, shop = server
    # Navigation Timing, from the navigation's start: to the load event, and to the sign-in form
    # being usable (the console's own performance mark). In this test's fresh browser context,
    # then on reload. The wall clock around goto (renderer start included) is only printed.
    for visit in ("fresh context", "reload"):
        started = time.perf_counter()
        page.goto(f"{url}/console")  # the bare path redirects
        page.wait_for_selector("body[data-ready='signin']")
        wall_ms = (time.perf_counter() - started) * 1000
        timing = page.evaluate("performance.getEntriesByType('navigation')[0].toJSON()")
        ready = page.evaluate("performance.getEntriesByName('openfrs-signin-ready')[0].startTime")
        load_ms = timing["loadEventEnd"] - timing["startTime"]
        print(f"console load ({visit}): load event {load_ms:.0f} ms, sign-in form ready {ready:.0f} ms, "
              f"wall clock {wall_ms:.0f} ms")
        assert 0 < load_ms < 1000 and ready < 1000, timing
    scripts = page.evaluate("performance.getEntriesByType('resource').map(r => r.name.split('/').pop())")
    assert "pages.js" not in scripts and "sets.js" not in scripts  # loaded after sign-in only
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
    refused = httpx.post(f"{url}/v2/{shop.project_id}/face-detect", headers=token_headers(page),
                         json={"image_base64": "not base64!"}, timeout=60)
    assert refused.status_code == 400
    usage = httpx.get(f"{url}/v1/{shop.project_id}/usage", headers=token_headers(page)).json()["usage"]
    detects = sum(row["calls"] for row in usage if row["api"] == "face_detect")
    failed = sum(row["errors"] for row in usage if row["api"] == "face_detect")
    assert detects >= 3 and failed >= 1
    open_page(page, "usage")
    bars = page.locator("#usage-chart rect.bar[data-api='face_detect']")
    assert sum(int(bars.nth(i).get_attribute("data-calls")) for i in range(bars.count())) == detects
    assert page.inner_text("#usage-out tr[data-api='face_detect'] td.errors") == str(failed)
    with page.expect_download() as caught:
        page.click("#usage-csv")
    rows = list(csv.DictReader(io.StringIO(Path(caught.value.path()).read_text())))
    assert sum(int(r["calls"]) for r in rows if r["api"] == "face_detect") == detects
    assert sum(int(r["errors"]) for r in rows if r["api"] == "face_detect") == failed


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
    page.click(f"tr[data-ak='{ak}'] button:has-text('轮换')")  # rotate: a new key, the old one signs a day
    page.wait_for_selector("#new-sk")
    ak2, sk2 = page.inner_text("#new-ak"), page.inner_text("#new-sk")
    assert ak2 != ak and page.evaluate("document.activeElement.id") == "new-key-done"
    assert page.inner_text(f"tr[data-ak='{ak}'] td:nth-child(4)")  # its end of grace is shown
    for key, secret in ((ak, sk), (ak2, sk2)):
        listed = huawei_client(url, key, secret, shop.project_id).show_all_face_sets(ShowAllFaceSetsRequest())
        assert listed.face_sets_info is not None
    page.click("#new-key-done")
    page.fill("#user-name", "bob")
    page.fill("#user-password", "bob-password")
    page.click("#create-user button[type=submit]")
    page.wait_for_selector("tr[data-user='bob']")
    page.select_option("#reset-user", "bob")  # reset bob's password: the new one signs in, the old not
    page.fill("#reset-pass", "bob-new-password")
    with page.expect_response(lambda r: r.request.method == "PUT" and r.url.endswith("/users/bob")) as reset:
        page.click("#reset-password button[type=submit]")
    assert reset.value.status == 200
    page.wait_for_selector("tr[data-user='bob']")  # the page reloaded after the reset
    assert sign_in_status(url, "bob", "bob-new-password") == 201
    assert sign_in_status(url, "bob", "bob-password") == 401
    page.click(f"tr[data-ak='{ak}'] button:has-text('禁用')")
    page.wait_for_selector(f"tr[data-ak='{ak}']:has-text('已禁用')")
    assert page.locator("tr[data-user='alice'] button").count() == 0  # no way to lock oneself out
    open_page(page, "audit")
    page.fill("#audit-action", "createCredential")
    page.fill("#audit-actor", "user:alice")
    page.click("#audit-form button[type=submit]")
    page.wait_for_selector(".audit-row")
    assert f"credential/{ak}" in page.inner_text("#audit-out")
    today = datetime.now(UTC).date()  # the log's times are UTC
    page.fill("#audit-from", (today + timedelta(days=1)).isoformat())  # the date filter: nothing after today
    page.click("#audit-form button[type=submit]")
    page.wait_for_function("document.querySelectorAll('#audit-out .audit-row').length === 0")
    page.fill("#audit-from", today.isoformat())
    page.fill("#audit-to", today.isoformat())
    page.click("#audit-form button[type=submit]")
    page.wait_for_selector(".audit-row")
    assert f"credential/{ak}" in page.inner_text("#audit-out")


def sign_in_status(url: str, user: str, password: str) -> int:
    identity = {"methods": ["password"], "password": {"user": {"name": user, "password": password}}}
    body = {"auth": {"identity": identity, "scope": {"project": {"name": "shop"}}}}
    return httpx.post(f"{url}/v3/auth/tokens", json=body).status_code


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


def test_every_page_in_both_languages_with_screenshots(page, server, shared_data, tencent_group):
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
        page.evaluate("location.hash = '#/sets/visitors'")  # a Tencent group: its persons, faces' person ids
        page.wait_for_selector("body[data-ready='sets'] .person-row")
        page.screenshot(path=str(SHOTS / f"group-{lang}.png"), full_page=True)
        page.click("#signout")
        page.wait_for_selector("body[data-ready='signin']")
        page.screenshot(path=str(SHOTS / f"signin-{lang}.png"))
