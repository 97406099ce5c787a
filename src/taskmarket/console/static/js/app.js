// The console's shell: sign-in with an API key, the pages the key's role may use, and a
// hash router (#/payouts/<id>) so the browser's back button and links work.

import { gql, session, ApiError } from "./api.js";
import { h, errorBox, replace } from "./dom.js";
import { PAGES } from "./pages/index.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const who = document.getElementById("who");
let me = null;
let cleanup = [];

const ME = `query { me { role keyName requester { id name } worker { id name } } }`;

function stopPage() {
  for (const stop of cleanup.splice(0)) {
    try { stop(); } catch { /* a page's leftovers must not stop the next page */ }
  }
}

function route() {
  const [name = "", ...rest] = location.hash.replace(/^#\/?/, "").split("/");
  return { name: name || "overview", param: rest.length ? decodeURIComponent(rest.join("/")) : null };
}

function allowed(page) {
  return me && page.roles.includes(me.role);
}

function renderNav(current) {
  replace(nav, h("ul", {}, PAGES.filter(allowed).map((page) =>
    h("li", {}, h("a", { href: `#/${page.name}`, "aria-current": page.name === current ? "page" : null }, page.title)))));
  const acting = me.requester ? ` for ${me.requester.name}` : me.worker ? ` for ${me.worker.name}` : "";
  replace(who, h("span", {}, `${me.role}${acting} · key “${me.keyName}”`),
    h("button", { class: "secondary", type: "button", onclick: signOut }, "Sign out"));
}

function signOut() {
  session.signOut();
  me = null;
  stopPage();
  location.hash = "";
  showSignIn();
}

function showSignIn(problem) {
  document.title = "Sign in · taskmarket console";
  replace(nav);
  replace(who);
  const input = h("input", { id: "api-key", name: "api-key", type: "password", autocomplete: "off", required: true });
  const form = h("form", { class: "signin", onsubmit: async (event) => {
    event.preventDefault();
    session.signIn(input.value.trim());
    await start();
  } },
    h("label", { for: "api-key" }, "API key", input),
    h("p", { class: "muted" }, "The key stays in this tab's session storage and goes to the API only. What you see follows its role."),
    h("button", { type: "submit" }, "Sign in"));
  replace(main, h("h1", {}, "Sign in"), problem ? errorBox(problem) : null, form);
  input.focus();
}

async function show() {
  stopPage();
  const { name, param } = route();
  const page = PAGES.find((p) => p.name === name);
  if (!page || !allowed(page)) {
    renderNav(null);
    replace(main, h("h1", {}, "Not here"), h("p", {}, `There is no page "${name}" for a ${me.role} key.`));
    return;
  }
  renderNav(page.name);
  document.title = `${page.title} · taskmarket console`;
  const pageCleanup = [];
  cleanup = pageCleanup;
  replace(main, h("p", { class: "muted" }, "Loading…"));
  try {
    await page.render(main, { me, param, cleanup: pageCleanup });
  } catch (error) {
    if (cleanup !== pageCleanup) return; // the user moved on
    replace(main, h("h1", {}, page.title), errorBox(error));
  }
}

async function start() {
  if (!session.key) { showSignIn(); return; }
  try {
    me = (await gql(ME)).me;
  } catch (error) {
    session.signOut();
    showSignIn(error instanceof ApiError ? error : new ApiError([String(error)]));
    return;
  }
  await show();
}

window.addEventListener("hashchange", () => { if (me) show(); });
start();
