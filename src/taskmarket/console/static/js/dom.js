// Small DOM builders. Text always goes in as text nodes: API data is never parsed as HTML.

export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "class") element.className = value;
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

// A table in a keyboard-scrollable region (narrow screens scroll it sideways).
// columns: [{label, cell(row) -> node|text, num?}]
export function table(caption, columns, rows, empty = "Nothing to show.") {
  if (!rows.length) return h("p", { class: "muted" }, empty);
  return h("div", { class: "scroll", role: "region", "aria-label": caption, tabindex: 0 },
    h("table", {},
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, columns.map((c) =>
        h("th", { scope: "col", class: c.num ? "num" : null }, c.label)))),
      h("tbody", {}, rows.map((row) => h("tr", {}, columns.map((c) =>
        h("td", { class: c.num ? "num" : null }, c.cell(row))))))));
}

export function facts(pairs) {
  return h("dl", { class: "facts" },
    pairs.filter(Boolean).map(([term, value]) => [h("dt", {}, term), h("dd", {}, value ?? "—")]));
}

export function errorBox(error) {
  const messages = error && error.messages ? error.messages : [String(error && error.message || error)];
  return h("div", { class: "error", role: "alert" },
    h("strong", {}, "The API answered with an error:"),
    h("ul", {}, messages.map((m) => h("li", {}, m))));
}

export function replace(target, ...children) {
  target.replaceChildren();
  append(target, children);
}

// An event's data as "key: value" lines (nested values as JSON).
export function dataLines(data) {
  if (data === null || typeof data !== "object") return h("span", { class: "mono" }, JSON.stringify(data));
  return h("div", { class: "kv" }, Object.entries(data).map(([key, value]) => h("div", {},
    h("span", { class: "muted" }, `${key}: `),
    h("span", { class: "mono" }, value !== null && typeof value === "object" ? JSON.stringify(value) : String(value)))));
}
