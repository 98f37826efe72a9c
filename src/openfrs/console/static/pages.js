// Overview, try it, usage, credentials and users, audit log.
import { usageChart } from "./chart.js";
import { cameraControls } from "./camera.js";
import { api, fail, field, fmt, h, notify, onSubmit, pid, session, table, today, verdict } from "./core.js";
import { t } from "./i18n.js";

const SERVICES = ["detect", "compare", "search", "live_detect"];

export async function overviewPage(main) {
  const [project, health] = await Promise.all([
    api("GET", `/v1/${pid()}/project`), fetch("/health").then((r) => r.json())]);
  const services = h("fieldset", { id: "services" }, h("legend", { text: t("ov.services") }),
    h("p", { class: "hint", text: t("ov.services.hint") }),
    SERVICES.map((service) => {
      const state = project.subscription[`${service}_service`] || {};
      const box = h("input", { type: "checkbox", id: `svc-${service}`, checked: !!state.subscribe_status,
        onchange: async () => {
          try {
            await api("PUT", `/v1/${pid()}/subscribe/${service}`, { enabled: box.checked });
            notify(t("saved"));
          } catch (error) { box.checked = !box.checked; notify(t("error") + error.message, "error"); }
        } });
      return h("div", { class: "check" }, box, h("label", { for: `svc-${service}`, text: t(`svc.${service}`) }),
        state.create_time ? h("span", { class: "hint", text: ` ${t("ov.since", { time: state.create_time })}` }) : null);
    }));
  const qps = onSubmit(h("form", { id: "qps-form", class: "row", "aria-labelledby": "qps-title" },
    h("h2", { id: "qps-title", text: t("ov.qps") }),
    field("qps", t("ov.qps.label", { default: project.qps_default }),
          { type: "number", min: 0, step: "any", value: project.qps ?? 0 }),
    h("button", { type: "submit", class: "primary", text: t("save") })), async (data) => {
    await api("PUT", `/v1/${pid()}/project`, { qps: Number(data.get("qps") || 0) });
    notify(t("saved"));
  });
  const models = Object.entries(health.models || {}).map(([role, version]) =>
    h("tr", {}, h("th", { scope: "row", text: role }), h("td", { class: "mono", text: version })));
  main.append(h("h1", { tabindex: "-1", text: t("ov.title") }),
    h("dl", { class: "facts" }, h("dt", { text: t("ov.name") }), h("dd", { text: project.name }),
      h("dt", { text: t("ov.id") }), h("dd", { class: "mono", text: project.project_id })),
    services, qps,
    h("section", { id: "health", "aria-labelledby": "health-title" },
      h("h2", { id: "health-title", text: t("ov.health") }),
      h("dl", { class: "facts" }, h("dt", { text: t("status") }),
        h("dd", { class: health.status === "ok" ? "ok" : "bad", text: health.status }),
        h("dt", { text: t("ov.version") }), h("dd", { text: health.version }),
        h("dt", { text: t("ov.providers") }), h("dd", { text: (health.providers || []).join(", ") })),
      table(t("ov.models"), [t("ov.role"), t("ov.model")], models)));
}

// -- try it ---------------------------------------------------------------------------------------

function photoForm(id, title, inputs, run) {
  const out = h("div", { class: "result", id: `${id}-result`, "aria-live": "polite" });
  const form = h("form", { id, "aria-labelledby": `${id}-title` }, h("h2", { id: `${id}-title`, text: title }),
    inputs, h("button", { type: "submit", class: "primary", text: t("try.run") }), out);
  return onSubmit(form, async () => out.replaceChildren(...await run(form)));
}

function upload(form, pairs) {
  const data = new FormData();
  for (const [name, id] of pairs) data.append(name, form.querySelector(`#${id}`).files[0]);
  return data;
}

async function drawFaces(file, faces) {
  const image = await createImageBitmap(file);
  const scale = Math.min(1, 640 / image.width);
  const canvas = h("canvas", { width: Math.round(image.width * scale), height: Math.round(image.height * scale),
                               id: "detect-canvas", role: "img", "data-boxes": faces.length,
                               "aria-label": `${t("try.canvas")}: ${t("try.faces", { n: faces.length })}` });
  const g = canvas.getContext("2d");
  g.drawImage(image, 0, 0, canvas.width, canvas.height);
  g.lineWidth = 2;
  faces.forEach((face, i) => {
    const b = face.bounding_box;
    g.strokeStyle = "#22c55e";
    g.strokeRect(b.top_left_x * scale, b.top_left_y * scale, b.width * scale, b.height * scale);
    g.fillStyle = "#22c55e";
    g.font = "bold 14px sans-serif";
    g.fillText(String(i + 1), b.top_left_x * scale + 2, b.top_left_y * scale - 4);
    g.fillStyle = "#f43f5e";
    for (const p of face.key_points || []) {
      g.beginPath();
      g.arc(p.x * scale, p.y * scale, 3, 0, 2 * Math.PI);
      g.fill();
    }
  });
  return canvas;
}

export async function tryPage(main) {
  const detect = photoForm("detect", t("try.detect"),
    [field("detect-photo", t("try.photo"), { type: "file", accept: "image/*", required: true })], async (form) => {
      const file = form.querySelector("#detect-photo").files[0];
      const data = upload(form, [["image_file", "detect-photo"]]);
      data.append("attributes", "0,1,2,4");
      const { faces } = await api("POST", `/v2/${pid()}/face-detect`, data);
      const rows = faces.map((face, i) => h("tr", { class: "detect-row" }, h("td", { text: i + 1 }),
        h("td", { text: fmt(face.detection_score ?? 0, 3) }),
        h("td", { class: "mono", text: `${face.bounding_box.top_left_x},${face.bounding_box.top_left_y} ` +
                                       `${face.bounding_box.width}×${face.bounding_box.height}` }),
        h("td", { text: attributeText(face.attributes || {}) })));
      return [h("p", { id: "detect-count", text: t("try.faces", { n: faces.length }) }),
              await drawFaces(file, faces),
              table(t("try.faces", { n: faces.length }), ["#", t("try.score"), t("set.bbox"), t("try.attributes")], rows)];
    });
  const compare = photoForm("compare", t("try.compare"),
    [field("compare-1", t("try.photo1"), { type: "file", accept: "image/*", required: true }),
     field("compare-2", t("try.photo2"), { type: "file", accept: "image/*", required: true })], async (form) => {
      const data = upload(form, [["image1_file", "compare-1"], ["image2_file", "compare-2"]]);
      const { similarity } = await api("POST", `/v2/${pid()}/face-compare`, data);
      return [h("p", { id: "compare-verdict", class: similarity >= 0.93 ? "ok" : "",
                       text: `${t("try.similarity", { s: fmt(similarity) })} · ${verdict(similarity)}` }),
              h("p", { class: "hint", text: t("set.verdict.hint") })];
    });
  const live = photoForm("live", t("try.live"),
    [field("live-photo", t("try.photo"), { type: "file", accept: "image/*", required: true })], async (form) => {
      const answer = await api("POST", `/v1/${pid()}/live-detect-face`, upload(form, [["image_file", "live-photo"]]));
      return [h("p", { id: "live-verdict", class: answer.result.alive ? "ok" : "bad",
                       text: `${answer.result.alive ? t("try.alive") : t("try.notalive")} · ` +
                             t("try.confidence", { c: fmt(answer.result.confidence, 3) }) }),
              warnings(answer["warning-list"])];
    });
  const action = photoForm("action", t("try.action"),
    [field("action-video", t("try.video"), { type: "file", accept: "video/*", required: true }),
     field("action-list", t("try.actions"), { value: "1", required: true, pattern: "[1-5](,[1-5])*" })],
    async (form) => actionCheck(form, form.querySelector("#action-video").files[0]));
  // The webcam records a clip sent to the same call; its result lands in the same place.
  const actionList = action.querySelector("#action-list");
  action.insertBefore(cameraControls(() => actionList.reportValidity(), async (clip) => {
    const out = action.querySelector("#action-result");
    notify(t("try.camera.sending"));
    try {
      const shown = await actionCheck(action, clip);
      const url = URL.createObjectURL(clip);
      out.replaceChildren(...shown, h("video", { id: "camera-clip", src: url, controls: true, preload: "none",
                                                 "aria-label": t("try.camera.clip") }),
        h("p", {}, h("a", { href: url, download: `openfrs-camera.${clip.type.includes("mp4") ? "mp4" : "webm"}`,
                            text: t("try.camera.download") })));
      notify(t("try.camera.done"));
    } catch (error) { fail(error); }
  }), action.querySelector("#action-result"));
  main.append(h("h1", { tabindex: "-1", text: t("try.title") }), detect, compare, live, action);
}

async function actionCheck(form, clip) {
  const data = new FormData();
  data.append("video_file", clip, clip.name || `camera.${clip.type.includes("mp4") ? "mp4" : "webm"}`);
  data.append("actions", form.querySelector("#action-list").value);
  const answer = await api("POST", `/v1/${pid()}/live-detect`, data);
  const result = answer["video-result"];
  return [h("p", { id: "action-verdict", class: result.alive ? "ok" : "bad",
                   text: result.alive ? t("try.alive") : t("try.notalive") }),
          h("p", { id: "action-actions", class: "mono", text: JSON.stringify(result.actions) }),
          warnings(answer["warning-list"])];
}

function attributeText(a) {
  const pose = a.headpose ? ` · yaw ${a.headpose.yaw_angle} pitch ${a.headpose.pitch_angle} roll ${a.headpose.roll_angle}` : "";
  return [a.gender, a.age].filter((v) => v !== undefined && v !== "unknown").join(", ") + pose;
}

function warnings(list) {
  if (!list || !list.length) return h("span");
  return h("ul", { "aria-label": t("try.warnings") },
    list.map((w) => h("li", { text: `${w.warningCode}: ${w.warningMsg}` })));
}

// -- usage ----------------------------------------------------------------------------------------

function csv(rows) {
  const lines = ["date,api,calls,throttled,errors",
                 ...rows.map((r) => `${r.date},${r.api},${r.calls},${r.throttled},${r.errors}`)];
  return new Blob([lines.join("\n") + "\n"], { type: "text/csv" });
}

export async function usagePage(main) {
  const out = h("section", { id: "usage-out", "aria-live": "polite" });
  const form = h("form", { id: "usage-form", class: "row" },
    field("usage-from", t("usage.from"), { type: "date", value: today(-6), required: true }),
    field("usage-to", t("usage.to"), { type: "date", value: today(), required: true }),
    h("button", { type: "submit", class: "primary", text: t("usage.load") }));
  const load = async () => {
    const start = form.querySelector("#usage-from").value, end = form.querySelector("#usage-to").value;
    const data = await api("GET", `/v1/${pid()}/usage?start_date=${start}&end_date=${end}`);
    const totals = {};
    for (const r of data.usage) {
      totals[r.api] = totals[r.api] || { calls: 0, throttled: 0, errors: 0 };
      totals[r.api].calls += r.calls;
      totals[r.api].throttled += r.throttled;
      totals[r.api].errors += r.errors;
    }
    const rows = Object.entries(totals).sort().map(([name, v]) => h("tr", { "data-api": name },
      h("th", { scope: "row", text: name }), h("td", { text: v.calls }), h("td", { text: v.throttled }),
      h("td", { class: "errors", text: v.errors })));
    const exportButton = h("button", { type: "button", id: "usage-csv", text: t("usage.csv"), onclick: () => {
      const link = h("a", { href: URL.createObjectURL(csv(data.usage)), download: `openfrs-usage-${start}-${end}.csv` });
      document.body.append(link);
      link.click();
      link.remove();
    } });
    out.replaceChildren(
      h("h2", { text: t("usage.chart") }),
      usageChart(data.usage, start, end, t("usage.chart")),
      h("p", { id: "usage-total", text: t("usage.total", { calls: data.total, throttled: data.throttled,
                                                            errors: data.errors }) }),
      data.usage.length ? table(t("usage.chart"), [t("usage.api"), t("usage.calls"), t("usage.throttled"),
                                                   t("usage.errors")], rows)
        : h("p", { text: t("usage.empty") }),
      exportButton);
  };
  onSubmit(form, load);
  main.append(h("h1", { tabindex: "-1", text: t("usage.title") }), form, out);
  await load();
}

// -- credentials and users ------------------------------------------------------------------------

function act(label, name, handler, cls = "") {
  return h("button", { type: "button", class: cls, text: label, "aria-label": `${label} ${name}`, onclick: async () => {
    try { await handler(); } catch (error) { notify(t("error") + error.message, "error"); }
  } });
}

export async function accessPage(main) {
  const [{ credentials }, { users }] = await Promise.all([
    api("GET", `/v1/${pid()}/credentials`), api("GET", `/v1/${pid()}/users`)]);
  const me = session().user;
  const reload = async () => { main.replaceChildren(); await accessPage(main); };
  const secret = h("div", { id: "new-key", "aria-live": "assertive" });
  const showKey = (credential) => {
    secret.replaceChildren(h("div", { class: "secret", role: "alert" },
      h("h3", { text: t("access.newkey") }), h("p", { text: t("access.newkey.hint") }),
      h("dl", { class: "facts" }, h("dt", { text: "AK" }), h("dd", { class: "mono", id: "new-ak", text: credential.ak }),
        h("dt", { text: "SK" }), h("dd", { class: "mono", id: "new-sk", text: credential.sk })),
      h("button", { type: "button", id: "new-key-done", text: t("access.newkey.done"),
                    onclick: () => secret.replaceChildren() })));
    secret.querySelector("button").focus();
  };
  const base = `/v1/${pid()}/credentials`;
  const credRows = credentials.map((c) => h("tr", { "data-ak": c.ak },
    h("th", { scope: "row", class: "mono", text: c.ak }), h("td", { text: c.created_at }),
    h("td", { text: c.disabled ? t("disabled") : t("enabled") }), h("td", { text: c.expires_at || "" }),
    h("td", {},
      act(c.disabled ? t("enable") : t("disable"), c.ak, async () => {
        await api("PUT", `${base}/${c.ak}`, { disabled: !c.disabled }); await reload(); }),
      c.disabled ? null : act(t("access.rotate"), c.ak, async () => {
        const answer = await api("POST", `${base}/${c.ak}/rotate`, {});
        await reload();
        main.querySelector("#new-key").replaceWith(secret);
        showKey(answer.credential);
      }),
      act(t("delete"), c.ak, async () => {
        if (!window.confirm(t("confirm.delete", { name: c.ak }))) return;
        await api("DELETE", `${base}/${c.ak}`); await reload(); }, "danger"))));
  const create = h("button", { type: "button", id: "create-key", class: "primary", text: t("access.create"),
    onclick: async () => {
      try {
        const answer = await api("POST", base);
        await reload();
        main.querySelector("#new-key").replaceWith(secret);
        showKey(answer.credential);
      } catch (error) { notify(t("error") + error.message, "error"); }
    } });
  const ubase = `/v1/${pid()}/users`;
  const userRows = users.map((u) => h("tr", { "data-user": u.name },
    h("th", { scope: "row", text: u.name + (u.name === me ? t("access.you") : "") }), h("td", { text: u.created_at }),
    h("td", { text: u.disabled ? t("disabled") : t("enabled") }),
    h("td", {}, u.name === me ? null : [
      act(u.disabled ? t("enable") : t("disable"), u.name, async () => {
        await api("PUT", `${ubase}/${encodeURIComponent(u.name)}`, { disabled: !u.disabled }); await reload(); }),
      act(t("delete"), u.name, async () => {
        if (!window.confirm(t("confirm.delete", { name: u.name }))) return;
        await api("DELETE", `${ubase}/${encodeURIComponent(u.name)}`); await reload(); }, "danger")])));
  const newUser = onSubmit(h("form", { id: "create-user", class: "row", "aria-labelledby": "create-user-title" },
    h("h3", { id: "create-user-title", text: t("access.user.create") }),
    field("user-name", t("access.user.name"), { required: true, autocomplete: "off" }),
    field("user-password", t("access.user.password"), { type: "password", minlength: 8, required: true,
                                                         autocomplete: "new-password" }),
    h("button", { type: "submit", class: "primary", text: t("access.user.create") })), async (data) => {
    await api("POST", ubase, { name: data.get("user-name"), password: data.get("user-password") });
    notify(t("saved"));
    await reload();
  });
  const reset = onSubmit(h("form", { id: "reset-password", class: "row", "aria-labelledby": "reset-title" },
    h("h3", { id: "reset-title", text: t("access.reset") }),
    h("div", { class: "field" }, h("label", { for: "reset-user", text: t("access.reset.user") }),
      h("select", { id: "reset-user", name: "reset-user" }, users.map((u) => h("option", { value: u.name, text: u.name })))),
    field("reset-pass", t("access.reset.password"), { type: "password", minlength: 8, required: true,
                                                      autocomplete: "new-password" }),
    h("button", { type: "submit", text: t("access.reset") })), async (data) => {
    await api("PUT", `${ubase}/${encodeURIComponent(data.get("reset-user"))}`, { password: data.get("reset-pass") });
    notify(t("saved"));
    await reload();
  });
  main.append(h("h1", { tabindex: "-1", text: t("access.title") }),
    h("section", { "aria-labelledby": "creds-title" }, h("h2", { id: "creds-title", text: t("access.creds") }),
      create, secret,
      table(t("access.creds"), ["AK", t("created"), t("status"), t("access.expires"), t("actions")], credRows)),
    h("section", { "aria-labelledby": "users-title" }, h("h2", { id: "users-title", text: t("access.users") }),
      table(t("access.users"), [t("access.user.name"), t("created"), t("status"), t("actions")], userRows),
      newUser, reset));
}

// -- audit ----------------------------------------------------------------------------------------

async function auditEvents(action) {
  const events = [];
  let marker = 0;
  for (let page = 0; page < 10 && marker !== null; page++) {
    const query = `limit=1000&marker=${marker}` + (action ? `&action=${encodeURIComponent(action)}` : "");
    const answer = await api("GET", `/v1/${pid()}/audit?${query}`);
    events.push(...answer.events);
    marker = answer.next_marker;
  }
  return events;
}

export async function auditPage(main) {
  const out = h("section", { id: "audit-out", "aria-live": "polite" });
  const form = h("form", { id: "audit-form", class: "row" },
    field("audit-action", t("audit.action"), { placeholder: "createFaceSet" }),
    field("audit-actor", t("audit.actor"), { placeholder: "user:alice" }),
    field("audit-from", t("audit.from"), { type: "date" }), field("audit-to", t("audit.to"), { type: "date" }),
    h("button", { type: "submit", class: "primary", text: t("apply") }));
  const load = async () => {
    const value = (id) => form.querySelector(id).value.trim();
    const actor = value("#audit-actor"), from = value("#audit-from"), to = value("#audit-to");
    const events = (await auditEvents(value("#audit-action"))).filter((e) =>
      (!actor || e.actor.includes(actor)) && (!from || e.time.slice(0, 10) >= from) && (!to || e.time.slice(0, 10) <= to))
      .reverse().slice(0, 500);
    const rows = events.map((e) => h("tr", { class: "audit-row" }, h("td", { class: "mono", text: e.time }),
      h("td", { text: e.actor }), h("td", { text: e.action }), h("td", { text: e.resource }),
      h("td", { class: "mono", text: JSON.stringify(e.detail) }), h("td", { class: "mono", text: e.request_id })));
    out.replaceChildren(h("p", { text: t("audit.shown", { n: events.length }) }),
      events.length ? table(t("audit.title"), [t("audit.time"), t("audit.actor"), t("audit.action"),
                                              t("audit.resource"), t("audit.detail"), t("audit.request")], rows)
        : h("p", { text: t("audit.empty") }));
  };
  onSubmit(form, load);
  main.append(h("h1", { tabindex: "-1", text: t("audit.title") }), form, out);
  await load();
}
