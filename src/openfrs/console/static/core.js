// The session (a signed-in user's token, in sessionStorage only), calls to the public API, and
// small DOM helpers. Every call goes through `api`, with X-Auth-Token, as any client's would.
import { t } from "./i18n.js";

const SESSION_KEY = "openfrs.session";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(`${code}: ${message}`);
    this.status = status;
    this.code = code;
  }
}

export function session() {
  try { return JSON.parse(sessionStorage.getItem(SESSION_KEY)); } catch { return null; }
}

export function pid() { return session().project_id; }

export function forget() { sessionStorage.removeItem(SESSION_KEY); }

export async function signIn(project, user, password) {
  const scope = /^[0-9a-f]{32}$/.test(project) ? { id: project } : { name: project };
  const body = { auth: { identity: { methods: ["password"], password: { user: { name: user, password } } },
                         scope: { project: scope } } };
  const response = await fetch("/v3/auth/tokens", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const data = await response.json();
  if (!response.ok) throw new ApiError(response.status, data.error_code, data.error_msg);
  const token = response.headers.get("X-Subject-Token");
  sessionStorage.setItem(SESSION_KEY, JSON.stringify({
    token, user, project_id: data.token.project.id, project_name: data.token.project.name,
    expires_at: data.token.expires_at }));
}

// Called when the API says the session is over (401, or FRS.0002 for an expired token).
let onExpired = () => {};
export function whenExpired(handler) { onExpired = handler; }

export async function api(method, path, body) {
  const current = session();
  if (!current) { onExpired(); throw new ApiError(401, "APIG.0301", t("signin.expired")); }
  const headers = { "X-Auth-Token": current.token };
  let payload;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
  const response = await fetch(path, { method, headers, body: payload });
  const data = await response.json().catch(() => ({}));
  if (response.status === 401 || data.error_code === "FRS.0002") {
    forget();
    onExpired();
    throw new ApiError(response.status, data.error_code, t("signin.expired"));
  }
  if (!response.ok) throw new ApiError(response.status, data.error_code || "", data.error_msg || response.statusText);
  return data;
}

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "text") el.textContent = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) el.append(child);
  }
  return el;
}

// A labelled input: <div><label for=id>…</label><input id=id …></div>.
export function field(id, label, attrs = {}, tag = "input") {
  return h("div", { class: "field" }, h("label", { for: id, text: label }), h(tag, { id, name: id, ...attrs }));
}

export function notify(message, kind = "info") {
  const box = document.getElementById("status");
  box.className = `status ${kind}`;
  box.textContent = message;
}

export function fail(error) { notify(t("error") + (error.message || String(error)), "error"); }

// Runs a form's action with its button disabled; errors go to the status line.
export function onSubmit(form, action) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const buttons = form.querySelectorAll("button");
    buttons.forEach((b) => { b.disabled = true; });
    try { await action(new FormData(form)); } catch (error) { if (!(error instanceof ApiError && error.status === 401)) fail(error); }
    finally { buttons.forEach((b) => { b.disabled = false; }); }
  });
  return form;
}

export function table(caption, headers, rows) {
  return h("table", {},
    h("caption", { text: caption }),
    h("thead", {}, h("tr", {}, headers.map((name) => h("th", { scope: "col", text: name })))),
    h("tbody", {}, rows));
}

export function fmt(value, digits = 4) { return Number(value).toFixed(digits); }

export const SAME_PERSON = 0.93;  // docs/api.md: FRS's threshold, false accepts 1e-3
export function verdict(similarity) { return similarity >= SAME_PERSON ? t("same") : t("notsame"); }

export function today(offsetDays = 0) {
  const day = new Date(Date.now() + offsetDays * 86400000);
  return day.toISOString().slice(0, 10);
}
