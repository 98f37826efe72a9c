// Webcam capture for action liveness: getUserMedia + MediaRecorder record a few seconds (WebM in
// Chromium and Firefox, MP4 in Safari: the server decodes both), which are then sent to the same
// live-detect call as an uploaded clip. Browsers expose the camera only to secure origins (https,
// or localhost), so elsewhere the control is disabled and says why.
import { fail, field, h, notify } from "./core.js";
import { t } from "./i18n.js";

export function cameraAvailable() {
  return !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.MediaRecorder);
}

function recorderType() {
  for (const type of ["video/webm;codecs=vp8", "video/webm", "video/mp4"]) {
    if (MediaRecorder.isTypeSupported(type)) return type;
  }
  return "";
}

// Records `seconds` of the camera, showing it live in `preview`; resolves to a Blob.
export async function record(seconds, preview) {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
  try {
    preview.srcObject = stream;
    preview.hidden = false;
    await preview.play().catch(() => {});  // the preview is a courtesy; recording does not need it
    const type = recorderType();
    const recorder = new MediaRecorder(stream, type ? { mimeType: type } : {});
    const chunks = [];
    recorder.ondataavailable = (event) => { if (event.data.size) chunks.push(event.data); };
    const stopped = new Promise((resolve, reject) => {
      recorder.onstop = resolve;
      recorder.onerror = (event) => reject(event.error || new Error("MediaRecorder"));
    });
    recorder.start();
    setTimeout(() => recorder.state !== "inactive" && recorder.stop(), seconds * 1000);
    await stopped;
    return new Blob(chunks, { type: recorder.mimeType || type || "video/webm" });
  } finally {
    stream.getTracks().forEach((track) => track.stop());  // the camera light goes off at once
    preview.srcObject = null;
    preview.hidden = true;
  }
}

// The camera controls of the action-liveness form: `ready()` checks the form before recording,
// `run(blob)` sends the recording.
export function cameraControls(ready, run) {
  const available = cameraAvailable();
  const preview = h("video", { id: "camera-preview", muted: true, playsinline: true, hidden: true,
                               "aria-label": t("try.camera.live") });
  preview.muted = true;
  const button = h("button", { type: "button", id: "camera-record", disabled: !available,
                               "aria-describedby": "camera-hint", text: t("try.camera.go") });
  button.addEventListener("click", async () => {
    if (!ready()) return;
    const seconds = Math.min(15, Math.max(1, Number(box.querySelector("#camera-seconds").value) || 3));
    button.disabled = true;
    notify(t("try.camera.recording", { n: seconds }));
    try { await run(await record(seconds, preview)); }
    catch (error) { fail(error); }
    finally { button.disabled = false; }
  });
  const box = h("fieldset", { id: "camera" }, h("legend", { text: t("try.camera") }),
    field("camera-seconds", t("try.camera.seconds"), { type: "number", min: 1, max: 15, value: 4,
                                                       disabled: !available }),
    button,
    h("p", { class: available ? "hint" : "hint bad", id: "camera-hint",
             text: available ? t("try.camera.hint") : t("try.camera.none") }),
    preview);
  return box;
}
