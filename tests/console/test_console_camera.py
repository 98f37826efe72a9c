"""Action liveness from the webcam on the try-it page: Chromium's fake camera plays a REAL clip
(../shared/data/action-videos, a man turning his head), turned into a Y4M file at test time with
PyAV (the decoder the server uses); the page records it with MediaRecorder (WebM) and sends it to
live-detect, the call an uploaded clip uses. The verdict shown must be the API's answer for the
very bytes recorded (fetched back from the page), and the recording must be WebM the server
decodes. What this does not prove: a real camera's driver, or a person turning in front of it;
whether the turn is caught depends on which seconds of the looping clip were recorded, so the
verdict itself is compared, not asserted alive. Where the browser exposes no camera (plain http
off localhost), the control is disabled and says why."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import av
import httpx
import pytest

from tests.console.driver import CHROMIUM, SHOTS, Watch, sign_in, token_headers

pytestmark = [pytest.mark.models, pytest.mark.data]
CLIP = "turn-head/mpdemos_hhn.mp4"
FPS = 15  # Chromium plays the file at the rate its header says


def y4m_of(clip: Path, out: Path, fps: int = FPS) -> Path:
    """The clip as raw I420 frames in a Y4M file (Chromium's fake-camera input), one per 1/fps s."""
    with av.open(str(clip)) as container, out.open("wb") as y4m:
        stream = container.streams.video[0]
        y4m.write(f"YUV4MPEG2 W{stream.width} H{stream.height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        last = -1
        for frame in container.decode(stream):
            slot = int(frame.time * fps + 1e-6)
            if slot > last:
                last = slot
                y4m.write(b"FRAME\n" + frame.reformat(format="yuv420p").to_ndarray().tobytes())
    return out


@pytest.fixture(scope="module")
def camera_browser(playwright, shared_data, tmp_path_factory):
    y4m = y4m_of(shared_data / "action-videos" / CLIP, tmp_path_factory.mktemp("camera") / "turn.y4m")
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True,
        args=["--no-sandbox", "--disable-gpu", "--use-fake-device-for-media-stream",
              "--use-fake-ui-for-media-stream", f"--use-file-for-fake-video-capture={y4m}"])
    yield browser
    browser.close()


RECORDED = """async () => {
  const blob = await (await fetch(document.querySelector('#camera-clip').src)).blob();
  return await new Promise((done) => { const reader = new FileReader();
    reader.onload = () => done(reader.result.split(',')[1]); reader.readAsDataURL(blob); });
}"""


def test_action_liveness_from_the_camera_shows_the_apis_verdict(camera_browser, server):
    url, shop = server
    context = camera_browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    watch = Watch(page)
    try:
        sign_in(page, url, "en", page_name="try")
        assert page.get_by_role("button", name="Record with the camera and check").is_enabled()
        page.get_by_label("Actions", exact=False).fill("1")
        page.get_by_label("Seconds to record", exact=False).fill("4")
        page.get_by_role("button", name="Record with the camera and check").click()
        page.wait_for_selector("#status:has-text('Recording 4 s')")
        page.wait_for_selector("#camera-clip")
        clip = base64.b64decode(page.evaluate(RECORDED))
        assert clip[:4] == b"\x1a\x45\xdf\xa3"  # WebM (EBML), as MediaRecorder writes it
        answer = httpx.post(f"{url}/v1/{shop.project_id}/live-detect", headers=token_headers(page),
                            files={"video_file": ("camera.webm", clip, "video/webm")}, data={"actions": "1"},
                            timeout=120)
        assert answer.status_code == 200, answer.text
        result = answer.json()["video-result"]
        print(f"camera clip: {len(clip)} bytes, alive {result['alive']}, actions {result['actions']}")
        assert page.inner_text("#action-verdict") == ("alive" if result["alive"] else "not alive")
        assert json.loads(page.inner_text("#action-actions")) == result["actions"]
        assert page.inner_text("#status") == "The recording was checked."
        assert not page.locator("#camera-preview").is_visible()  # the camera is released
        page.locator("#action").screenshot(path=str(SHOTS / "try-camera-en.png"))
    finally:
        context.close()
    watch.check()


def test_without_a_camera_the_control_is_disabled_and_says_why(page, server):
    url, _ = server
    page.add_init_script("Object.defineProperty(Navigator.prototype, 'mediaDevices', {get: () => undefined})")
    sign_in(page, url, page_name="try")
    button = page.get_by_role("button", name="用摄像头录制并检测")
    assert button.is_disabled()
    assert "HTTPS 或 localhost" in page.inner_text("#camera-hint")
