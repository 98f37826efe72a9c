// Face libraries: list, create (with custom fields), browse faces (paged, filtered), a group's
// persons, enrol, delete, search.
import { api, field, fmt, h, notify, onSubmit, pid, table, verdict } from "./core.js";
import { t } from "./i18n.js";

const TYPES = ["string", "integer", "long", "float", "double", "boolean"];
const PAGE = 10;

function setsPath(name = "") {
  return `/v2/${pid()}/face-sets` + (name ? `/${encodeURIComponent(name)}` : "");
}

export async function setsPage(main, name) {
  if (name) return setPage(main, name);
  const { face_sets_info: sets } = await api("GET", setsPath());
  const rows = sets.map((set) => h("tr", { "data-set": set.face_set_name },
    h("th", { scope: "row" }, h("a", { href: `#/sets/${encodeURIComponent(set.face_set_name)}`,
                                     text: set.face_set_name })),
    h("td", {}, groupBadge(set.group)),
    h("td", { text: set.face_number }), h("td", { text: set.face_set_capacity }),
    h("td", { text: Object.entries(set.external_fields).map(([k, v]) => `${k}: ${v.type}`).join(", ") || t("none") }),
    h("td", { text: set.recognition_model }), h("td", { text: set.create_date }),
    h("td", {}, h("button", { type: "button", class: "danger", text: t("delete"),
                              "aria-label": `${t("delete")} ${set.face_set_name}`,
                              onclick: () => deleteSet(set.face_set_name) }))));
  main.append(
    h("h1", { tabindex: "-1", text: t("sets.title") }),
    sets.length ? table(t("sets.list"), [t("sets.name"), t("sets.group"), t("sets.faces"), t("sets.capacity"), t("sets.fields"),
                                         t("sets.model"), t("created"), t("actions")], rows)
      : h("p", { text: t("sets.empty") }),
    createForm());
}

// A set made as a Tencent group (CreateGroup) says so, with its group id and name.
function groupBadge(group) {
  if (!group) return t("none");
  return h("span", {}, h("span", { class: "badge", text: t("sets.group.badge") }),
    ` ${group.group_id} · ${group.group_name}` + (group.tag ? ` · ${t("set.group.tag")}: ${group.tag}` : ""));
}

async function deleteSet(name) {
  if (!window.confirm(t("confirm.delete", { name }))) return;
  try { await api("DELETE", setsPath(name)); notify(t("deleted")); location.hash = "#/sets"; window.dispatchEvent(new Event("hashchange")); }
  catch (error) { notify(t("error") + error.message, "error"); }
}

function fieldRow(list) {
  const n = list.children.length + 1;
  const row = h("div", { class: "row field-row" },
    field(`field-name-${n}`, t("sets.field.name"), { pattern: "[0-9A-Za-z_\\-]{1,36}", required: true }),
    h("div", { class: "field" }, h("label", { for: `field-type-${n}`, text: t("sets.field.type") }),
      h("select", { id: `field-type-${n}` }, TYPES.map((type) => h("option", { value: type, text: type })))));
  row.append(h("button", { type: "button", text: "×", "aria-label": t("sets.field.remove", { n }),
                           onclick: () => row.remove() }));
  list.append(row);
  row.querySelector("input").focus();
}

function createForm() {
  const list = h("div", { id: "field-list" });
  const form = h("form", { id: "create-set", "aria-labelledby": "create-set-title" },
    h("h2", { id: "create-set-title", text: t("sets.create") }),
    field("set-name", t("sets.name"), { required: true, maxlength: 64 }),
    field("set-capacity", t("sets.capacity.opt"), { type: "number", min: 10000, step: 10000 }),
    list,
    h("button", { type: "button", id: "add-field", text: t("sets.field.add"), onclick: () => fieldRow(list) }),
    h("button", { type: "submit", class: "primary", text: t("sets.create") }));
  return onSubmit(form, async () => {
    const body = { face_set_name: form.querySelector("#set-name").value.trim() };
    const capacity = form.querySelector("#set-capacity").value;
    if (capacity) body.face_set_capacity = Number(capacity);
    const fields = {};
    for (const row of list.querySelectorAll(".field-row")) {
      fields[row.querySelector("input").value.trim()] = { type: row.querySelector("select").value };
    }
    if (Object.keys(fields).length) body.external_fields = fields;
    await api("POST", setsPath(), body);
    location.hash = `#/sets/${encodeURIComponent(body.face_set_name)}`;
  });
}

async function setPage(main, name) {
  const { face_set_info: info } = await api("GET", setsPath(name));
  const faces = h("section", { id: "faces", "aria-labelledby": "faces-title" });
  const group = info.group ? groupFacts(info.group) : null;
  const persons = info.group ? h("section", { id: "persons", "aria-labelledby": "persons-title" }) : null;
  main.append(
    h("p", {}, h("a", { href: "#/sets", text: t("sets.back") })),
    h("h1", { tabindex: "-1", text: t("set.title", { name }) }),
    h("p", { text: `${t("sets.faces")}: ${info.face_number} · ${t("sets.fields")}: ${
      Object.entries(info.external_fields).map(([k, v]) => `${k} (${v.type})`).join(", ") || t("none")}` }),
    ...[group, persons].filter(Boolean), faces, enrollForm(name, () => showFaces(faces, name, {}, !!info.group)),
    searchForm(name));
  await Promise.all([showFaces(faces, name, {}, !!info.group), persons && showPersons(persons, name, 0)]);
}

function groupFacts(group) {
  return h("section", { id: "group", "aria-labelledby": "group-title" },
    h("h2", { id: "group-title" }, h("span", { class: "badge", text: t("sets.group.badge") }), ` ${t("set.group")}`),
    h("dl", { class: "facts" },
      h("dt", { text: t("set.group.id") }), h("dd", { class: "mono", id: "group-id", text: group.group_id }),
      h("dt", { text: t("set.group.name") }), h("dd", { id: "group-name", text: group.group_name }),
      h("dt", { text: t("set.group.tag") }), h("dd", { id: "group-tag", text: group.tag || t("none") }),
      h("dt", { text: t("set.group.desc") }), h("dd", { text: group.descriptions.join(", ") || t("none") })));
}

// A group's persons (GET …/persons, an OpenFRS extension), PAGE at a time.
async function showPersons(section, name, offset) {
  const answer = await api("GET", `${setsPath(name)}/persons?offset=${offset}&limit=${PAGE}`);
  const rows = answer.persons.map((p) => h("tr", { class: "person-row", "data-person": p.person_id },
    h("th", { scope: "row", class: "mono", text: p.person_id }), h("td", { text: p.person_name }),
    h("td", { text: t(`gender.${p.gender}`) }), h("td", { class: "mono", text: p.face_ids.join(" ") }),
    h("td", { text: Object.entries(p.descriptions).filter(([, v]) => v).map(([k, v]) => `${k}: ${v}`).join(", ") }),
    h("td", { text: new Date(p.create_time).toISOString().slice(0, 19).replace("T", " ") })));
  section.replaceChildren(h("h2", { id: "persons-title", text: t("set.persons") }),
    rows.length ? table(t("set.persons"), [t("set.person_id"), t("set.person_name"), t("set.gender"),
                                          t("set.face_id"), t("set.person.desc"), t("created")], rows)
      : h("p", { text: t("set.nopersons") }),
    pager("persons", offset, answer.persons.length, answer.total, (next) => showPersons(section, name, next)));
}

// Prev / next buttons and "from–to of total" (total null: unknown, a filtered listing).
function pager(id, offset, shown, total, go, more = null) {
  const hasNext = total === null ? !!more : offset + PAGE < total;
  const range = total === null ? t("page.nototal", { from: shown ? offset + 1 : 0, to: offset + shown })
    : t("page", { from: total ? offset + 1 : 0, to: Math.min(total, offset + shown), total });
  return h("div", { class: "row pager", id: `${id}-pager` },
    h("button", { type: "button", text: t("prev"), disabled: offset === 0, "aria-label": `${t("prev")} (${t(`set.${id}`)})`,
                  onclick: () => go(Math.max(0, offset - PAGE)) }),
    h("span", { id: `${id}-range`, text: range }),
    h("button", { type: "button", text: t("next"), disabled: !hasNext, "aria-label": `${t("next")} (${t(`set.${id}`)})`,
                  onclick: () => go(offset + PAGE) }));
}

// The faces of a set, PAGE at a time: all of them, those a filter matches (search's filter
// language; one more is asked for to know whether there is a next page), or one by face id.
async function showFaces(section, name, { offset = 0, faceId = "", filter = "" }, isGroup) {
  const span = filter ? `offset=${offset}&limit=${PAGE + 1}&filter=${encodeURIComponent(filter)}`
    : `offset=${offset}&limit=${PAGE}`;
  const query = faceId ? `face_id=${encodeURIComponent(faceId)}` : span;
  const [{ faces: found }, { face_set_info: info }] = await Promise.all([
    api("GET", `${setsPath(name)}/faces?${query}`), api("GET", setsPath(name))]);
  const faces = found.slice(0, PAGE);
  const again = (changes) => showFaces(section, name, { offset, faceId, filter, ...changes }, isGroup);
  const rows = faces.map((face) => h("tr", { class: "face-row", "data-face": face.face_id },
    h("td", { text: face.external_image_id }), h("td", { class: "mono", text: face.face_id }),
    isGroup ? h("td", { class: "mono person-id", text: face.person_id || "" }) : null,
    h("td", { class: "mono", text: JSON.stringify(face.external_fields || {}) }),
    h("td", { class: "mono", text: boxText(face.bounding_box) }),
    h("td", {}, h("button", { type: "button", class: "danger", text: t("delete"),
                              "aria-label": `${t("delete")} ${face.face_id}`, onclick: async () => {
      if (!window.confirm(t("confirm.delete", { name: face.face_id }))) return;
      await api("DELETE", `${setsPath(name)}/faces?face_id=${encodeURIComponent(face.face_id)}`);
      notify(t("deleted"));
      await again({});
    } }))));
  const lookup = onSubmit(h("form", { class: "row", id: "lookup" },
    field("lookup-id", t("set.lookup"), { value: faceId }),
    h("button", { type: "submit", text: t("set.lookup.go") })),
  async () => again({ offset: 0, faceId: lookup.querySelector("#lookup-id").value.trim(), filter: "" }));
  const filterForm = onSubmit(h("form", { class: "row", id: "face-filter" },
    field("filter-text", t("set.filter"), { value: filter, placeholder: "dept:it && age:[20 TO 30]" }),
    h("button", { type: "submit", text: t("set.filter.go") }),
    filter || faceId ? h("button", { type: "button", id: "filter-clear", text: t("set.filter.clear"),
                                     onclick: () => again({ offset: 0, faceId: "", filter: "" }) }) : null),
  async () => again({ offset: 0, faceId: "", filter: filterForm.querySelector("#filter-text").value.trim() }));
  const paging = faceId ? h("p", { id: "faces-range", text: t("set.lookup.one", { n: faces.length }) })
    : pager("faces", offset, faces.length, filter ? null : info.face_number, (next) => again({ offset: next }),
            found.length > PAGE);
  section.replaceChildren(h("h2", { id: "faces-title", text: t("set.faces") }), lookup, filterForm,
    h("p", { id: "faces-filtered", hidden: !filter, text: t("set.filtered", { filter }) }),
    faces.length ? table(t("set.faces"), ["external_image_id", t("set.face_id"),
                                          isGroup ? t("set.person_id") : null, t("sets.fields"), t("set.bbox"),
                                          t("actions")].filter(Boolean), rows)
      : h("p", { id: "faces-none", text: filter ? t("set.nomatch") : t("set.nofaces") }),
    paging);
}

function boxText(box) {
  return box ? `${box.top_left_x},${box.top_left_y} ${box.width}×${box.height}` : "";
}

function enrollForm(name, refresh) {
  const form = h("form", { id: "enroll", "aria-labelledby": "enroll-title" },
    h("h2", { id: "enroll-title", text: t("set.enroll") }),
    field("enroll-photo", t("set.photo"), { type: "file", accept: "image/*", required: true }),
    field("enroll-external-id", t("set.external_id"), { pattern: "[A-Za-z0-9_\\-]{1,36}" }),
    field("enroll-fields", t("set.external_fields"), { rows: 2, placeholder: '{"name": "..."}' }, "textarea"),
    h("button", { type: "submit", class: "primary", text: t("set.enroll") }));
  return onSubmit(form, async () => {
    const data = new FormData();
    data.append("image_file", form.querySelector("#enroll-photo").files[0]);
    const id = form.querySelector("#enroll-external-id").value.trim();
    if (id) data.append("external_image_id", id);
    const fields = form.querySelector("#enroll-fields").value.trim();
    if (fields) data.append("external_fields", fields);
    data.append("single", "true");
    const { faces } = await api("POST", `${setsPath(name)}/faces`, data);
    notify(t("set.enrolled", { n: faces.length }));
    form.reset();
    await refresh();
  });
}

function searchForm(name) {
  const results = h("div", { id: "search-results", "aria-live": "polite" });
  const input = h("input", { id: "search-photo", name: "search-photo", type: "file", accept: "image/*" });
  const zone = h("div", { class: "field drop", id: "search-drop" },
    h("label", { for: "search-photo", text: t("set.search.photo") }), input);
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    if (event.dataTransfer.files.length) { input.files = event.dataTransfer.files; form.requestSubmit(); }
  });
  const form = h("form", { id: "search", "aria-labelledby": "search-title" },
    h("h2", { id: "search-title", text: t("set.search") }), zone,
    field("search-top", t("set.top_n"), { type: "number", min: 1, max: 1000, value: 5 }),
    h("button", { type: "submit", class: "primary", text: t("set.search.go") }),
    h("p", { class: "hint", text: t("set.verdict.hint") }), results);
  return onSubmit(form, async () => {
    if (!input.files.length) { input.focus(); return; }
    const data = new FormData();
    data.append("image_file", input.files[0]);
    data.append("top_n", form.querySelector("#search-top").value || "5");
    const { faces } = await api("POST", `${setsPath(name)}/search`, data);
    const rows = faces.map((face, i) => h("tr", { class: "result-row", "data-external-id": face.external_image_id },
      h("td", { text: i + 1 }), h("td", { text: face.external_image_id }),
      h("td", { class: "mono", text: face.face_id }), h("td", { text: fmt(face.similarity) }),
      h("td", { class: face.similarity >= 0.93 ? "ok" : "", text: verdict(face.similarity) })));
    results.replaceChildren(faces.length ? table(t("set.search"), [t("set.rank"), "external_image_id",
      t("set.face_id"), t("set.similarity"), t("set.verdict")], rows) : h("p", { text: t("set.noresult") }));
  });
}
