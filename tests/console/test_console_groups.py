"""Tencent groups and persons in the console's face libraries, and the face browser's filter: a
group made with the official Tencent SDK shows its badge, group id/name/tag and its persons (paged,
10 a page, over the FRS extension `…/persons`); its faces carry their person id; a filter typed in
the face browser shows, page by page, exactly the faces the API lists for that filter."""

from __future__ import annotations

import httpx
import pytest

from tests.console.driver import open_page, sign_in, token_headers

pytestmark = [pytest.mark.models, pytest.mark.data]


def rows(page, selector: str, attribute: str) -> list[str]:
    return page.eval_on_selector_all(selector, f"els => els.map(e => e.getAttribute('{attribute}'))")


def test_a_tencent_group_shows_its_persons_and_faces(page, server, tencent_group):
    url, shop = server
    group_id, people = tencent_group
    sign_in(page, url, "en", page_name="sets")
    row = page.locator("tr[data-set='visitors']")
    assert "Person group" in row.inner_text() and "visitors · Visitors · Tag: vip" in row.inner_text()
    others = page.locator("tr[data-set]:not([data-set='visitors'])").all_inner_texts()
    assert all("Person group" not in text for text in others)  # plain FRS sets have no badge
    row.get_by_role("link", name="visitors").click()
    page.wait_for_selector("body[data-ready='sets'] .person-row")
    assert page.inner_text("#group-id") == group_id and page.inner_text("#group-name") == "Visitors"
    assert page.inner_text("#group-tag") == "vip"
    assert "null" not in page.inner_text("main")  # no absent part rendered as text
    api = httpx.get(f"{url}/v2/{shop.project_id}/face-sets/visitors/persons?offset=0&limit=100",
                    headers=token_headers(page)).json()
    assert api["total"] == len(people) == 12
    first = rows(page, ".person-row", "data-person")
    assert first == [p["person_id"] for p in api["persons"][:10]]
    assert page.inner_text("#persons-range") == "1–10 of 12"
    mine = page.locator(f".person-row[data-person='{first[1]}']").inner_text()
    assert "female" in mine and "dept: d" in mine  # gender 2 and the group's description field
    page.get_by_role("button", name="Next (Persons)").click()
    page.wait_for_selector("#persons-range:has-text('11–12 of 12')")
    assert rows(page, ".person-row", "data-person") == [p["person_id"] for p in api["persons"][10:]]
    faces = httpx.get(f"{url}/v2/{shop.project_id}/face-sets/visitors/faces?offset=0&limit=10",
                      headers=token_headers(page)).json()["faces"]
    shown = dict(zip(rows(page, ".face-row", "data-face"),
                     page.locator(".face-row .person-id").all_inner_texts(), strict=True))
    assert shown == {face["face_id"]: face["person_id"] for face in faces}
    assert set(shown.values()) <= set(people)


def test_the_face_filter_pages_what_the_api_lists(page, server, tencent_group):
    url, shop = server
    _, people = tencent_group
    sign_in(page, url, page_name="sets/visitors")
    page.wait_for_selector(".face-row")

    def apply(text: str) -> None:
        page.get_by_label("按条件筛选", exact=False).fill(text)
        page.get_by_label("按条件筛选", exact=False).press("Enter")
        page.wait_for_selector(f"#faces-filtered:has-text('{text}')")

    def listed(text: str) -> list[str]:
        answer = httpx.get(f"{url}/v2/{shop.project_id}/face-sets/visitors/faces",
                           params={"filter": text, "offset": 0, "limit": 100}, headers=token_headers(page))
        assert answer.status_code == 200, answer.text
        return [face["face_id"] for face in answer.json()["faces"]]

    one = f"external_image_id:{people[3]}"
    apply(one)
    assert rows(page, ".face-row", "data-face") == listed(one) and len(listed(one)) == 1
    assert page.inner_text(".face-row .person-id") == people[3]
    others = f"(!external_image_id:{people[3]})"  # 11 faces: two pages
    apply(others)
    expected = listed(others)
    assert len(expected) == 11
    seen = rows(page, ".face-row", "data-face")
    assert page.inner_text("#faces-range") == "第 1–10 条"
    page.get_by_role("button", name="下一页 (人脸)").click()
    page.wait_for_selector("#faces-range:has-text('第 11–11 条')")
    seen += rows(page, ".face-row", "data-face")
    assert page.get_by_role("button", name="下一页 (人脸)").is_disabled()
    assert seen == expected
    page.click("#filter-clear")
    page.wait_for_selector("#faces-range:has-text('共 12 条')")
    open_page(page, "sets")
