// The shell: sign-in, navigation by #/page, language switch, sign-out.
import { ApiError, field, forget, h, notify, onSubmit, session, signIn, whenExpired } from "./core.js";
import { LANGS, currentLang, setLang, t } from "./i18n.js";

// The pages' modules load after sign-in (the sign-in page needs only this, core and i18n), so the
// first paint waits for three small scripts, not seven.
const pages = () => import("./pages.js");
const PAGES = { overview: async () => (await pages()).overviewPage, sets: async () => (await import("./sets.js")).setsPage,
                try: async () => (await pages()).tryPage, usage: async () => (await pages()).usagePage,
                access: async () => (await pages()).accessPage, audit: async () => (await pages()).auditPage };
const main = document.getElementById("main");

function header() {
  const current = session();
  const page = location.hash.replace(/^#\//, "").split("/")[0] || "overview";
  const lang = h("select", { id: "lang", onchange: (e) => { setLang(e.target.value); render(); } },
    LANGS.map(([value, name]) => h("option", { value, text: name, selected: value === currentLang() })));
  const nav = current ? h("nav", { "aria-label": t("app.title") }, h("ul", {}, Object.keys(PAGES).map((name) =>
    h("li", {}, h("a", { href: `#/${name}`, id: `nav-${name}`, "aria-current": name === page ? "page" : null,
                         text: t(`nav.${name}`) }))))) : null;
  const who = current ? h("div", { class: "who" },
    h("span", { text: t("who", { project: current.project_name, user: current.user }) }),
    h("button", { type: "button", id: "signout", text: t("signout"), onclick: () => {
      forget();
      notify(t("signin.out"));
      go("#/signin");
    } })) : null;
  document.getElementById("top").replaceChildren(
    h("a", { class: "skip", href: "#main", onclick: (e) => { e.preventDefault(); main.focus(); }, text: t("skip") }),
    h("div", { class: "brand", text: t("app.title") }), nav,
    h("div", { class: "lang" }, h("label", { for: "lang", text: t("lang") }), lang), who);
}

function signInPage() {
  const form = h("form", { id: "signin", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title", tabindex: "-1", text: t("signin.title") }),
    h("p", { class: "hint", text: t("signin.hint") }),
    field("project", t("signin.project"), { required: true, autocomplete: "organization" }),
    field("user", t("signin.user"), { required: true, autocomplete: "username" }),
    field("password", t("signin.password"), { type: "password", required: true, autocomplete: "current-password" }),
    h("button", { type: "submit", class: "primary", text: t("signin.submit") }));
  onSubmit(form, async (data) => {
    try {
      await signIn(data.get("project").trim(), data.get("user").trim(), data.get("password"));
    } catch (error) {
      notify(t("signin.failed") + (error instanceof ApiError ? error.message : String(error)), "error");
      return;
    }
    notify("");
    const wanted = sessionStorage.getItem("openfrs.wanted");
    sessionStorage.removeItem("openfrs.wanted");
    go(wanted && wanted !== "#/signin" ? wanted : "#/overview");
  });
  main.append(form);
}

function go(hash) {  // hashchange renders; the same hash again would not fire it
  if (location.hash === hash) render(); else location.hash = hash;
}

let generation = 0;
async function render() {
  const mine = ++generation;
  delete document.body.dataset.ready;  // set again once this page has rendered (tests wait on it)
  document.title = t("app.title");
  header();
  main.replaceChildren();
  if (!session()) {
    if (location.hash && location.hash !== "#/signin") sessionStorage.setItem("openfrs.wanted", location.hash);
    signInPage();
    main.querySelector("#project").focus();
    document.body.dataset.ready = "signin";
    performance.mark("openfrs-signin-ready");  // the load test reads it: first content usable
    return;
  }
  const [name, ...rest] = location.hash.replace(/^#\//, "").split("/");
  const page = PAGES[name] || PAGES.overview;
  main.setAttribute("aria-busy", "true");
  try {
    await (await page())(main, rest.map(decodeURIComponent).join("/"));
  } catch (error) {
    if (mine === generation && !(error instanceof ApiError && error.status === 401)) {
      notify(t("error") + error.message, "error");
    }
  } finally {
    main.removeAttribute("aria-busy");
  }
  if (mine !== generation) return;
  main.querySelector("h1")?.focus();
  document.body.dataset.ready = PAGES[name] ? name : "overview";
}

whenExpired(() => {
  notify(t("signin.expired"), "error");
  go("#/signin");
});
setLang(currentLang());
window.addEventListener("hashchange", render);
render();
