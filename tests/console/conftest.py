"""Fixtures of the console tests: one real `openfrs serve` with auth on (project "shop" with the
user alice) and one headless Debian Chromium for the whole session, and a fresh browser context
per test whose console errors and failed requests fail the test."""

from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path

import pytest
from playwright import sync_api
from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.iai.v20200303 import iai_client, models

from openfrs.benchmark.http_load import free_port, start_server
from tests.api.test_auth import accounts, projects_with_credentials
from tests.conftest import server_env, stores_of_their_own
from tests.console.driver import CHROMIUM, PASSWORD, Watch

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")  # the browser is Debian's, never fetched


@pytest.fixture(scope="session")
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


# Module scope, not longer: while open, the sync API keeps an event loop running in this thread,
# and any later test calling asyncio.run() would fail.
@pytest.fixture(scope="module")
def playwright():
    if not Path(CHROMIUM).exists() or not shutil.which("chromium"):
        pytest.fail(f"no {CHROMIUM}: install Debian's chromium (make system-packages)")
    with sync_api.sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(playwright):
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=["--no-sandbox", "--disable-gpu"])
    yield browser
    browser.close()


@pytest.fixture()
def page(browser, server):
    context = browser.new_context(viewport={"width": 1200, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.watch = Watch(page)
    yield page
    context.close()
    page.watch.check()


def tencent_client(endpoint: str, secret_id: str, secret_key: str) -> iai_client.IaiClient:
    profile = ClientProfile(httpProfile=HttpProfile(endpoint=endpoint, protocol="http"))
    return iai_client.IaiClient(credential.Credential(secret_id, secret_key), "ap-guangzhou", profile)


class TencentCalls:
    """Calls a Tencent IAI action by name with a dict of fields, through the SDK's request model."""

    def __init__(self, client) -> None:
        self.client = client

    def __call__(self, action: str, **fields):
        request = getattr(models, f"{action}Request")()
        request.from_json_string(json.dumps(fields))
        return getattr(self.client, action)(request)


@pytest.fixture(scope="session")
def tencent_group(server, shared_data):
    """A Tencent group "visitors" of project shop with 12 persons (one LFW photo each), made through
    the official Tencent SDK signed with shop's credential: (group id, [person ids])."""
    url, shop = server
    endpoint = url.removeprefix("http://")
    people = sorted(p.name for p in (shared_data / "lfw-partial" / "images").iterdir())[:12]
    with pytest.MonkeyPatch.context() as patch:  # the SDK honours proxies by host:port
        patch.setenv("NO_PROXY", f"{endpoint},127.0.0.1")
        patch.setenv("no_proxy", f"{endpoint},127.0.0.1")
        sdk = TencentCalls(tencent_client(endpoint, shop.ak, shop.sk))
        sdk("CreateGroup", GroupId="visitors", GroupName="Visitors", GroupExDescriptions=["dept"], Tag="vip")
        for i, person in enumerate(people):
            photo = next((shared_data / "lfw-partial" / "images" / person).glob("*.jpg")).read_bytes()
            sdk("CreatePerson", GroupId="visitors", PersonId=person, PersonName=person.replace("_", " "),
                Gender=1 + i % 2, Image=base64.b64encode(photo).decode(),
                PersonExDescriptionInfos=[{"PersonExDescriptionIndex": 0, "PersonExDescription": f"d{i}"}])
    return "visitors", people
