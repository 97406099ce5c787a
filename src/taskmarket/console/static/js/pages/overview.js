// Overview: readiness and projection lag, tasks by status, payouts by status today and per
// day, and the live event feed (the events subscription).

import { collect, gql } from "../api.js";
import { h, table, errorBox, replace } from "../dom.js";
import { money, major, time, localDay, dayLabel, startOfLocalDay } from "../format.js";
import { subscribeToEvents } from "../live.js";
import { chart, color } from "../charts.js";
import { payoutsBetween } from "./payouts_data.js";
import { OPEN_DISCREPANCIES } from "./reconciliation.js";

const TASK_STATUSES = ["OPEN", "FILLED", "COMPLETED", "CANCELLED"];
const PAYOUT_STATUSES = ["REQUESTED", "PAID", "FAILED"];
const TASKS = `query($status: TaskStatus, $after: String) {
  tasks(first: 100, after: $after, status: $status) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`;
const CHART_DAYS = 14;

function section(title, body) {
  return h("section", { class: "card", "aria-label": title }, h("h2", {}, title), body);
}

// A part of the page that loads on its own and shows its own error.
function part(title, load) {
  const box = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  load().then((content) => replace(box, content), (error) => replace(box, errorBox(error)));
  return section(title, box);
}

async function readiness() {
  // The server's public readiness endpoint (the same one a load balancer asks).
  const response = await fetch("/readyz");
  const body = await response.json();
  const rows = Object.entries(body.projections || {}).map(([name, p]) => ({ name, ...p }));
  return h("div", {},
    h("p", {}, "Status: ", h("strong", { class: body.status === "ok" ? "ok" : "error" }, body.status),
      body.head !== undefined ? ` · log head at position ${body.head}` : ""),
    table("Projection lag", [
      { label: "Projection", cell: (r) => r.name },
      { label: "Position", num: true, cell: (r) => r.position },
      { label: "Lag (events)", num: true, cell: (r) => r.lag },
    ], rows));
}

async function tasksByStatus() {
  const counts = await Promise.all(TASK_STATUSES.map(async (status) => {
    const { nodes, complete } = await collect(TASKS, { status }, (d) => d.tasks, { maxPages: 10 });
    return { status, count: `${nodes.length}${complete ? "" : "+"}` };
  }));
  return table("Tasks by status", [
    { label: "Status", cell: (r) => r.status },
    { label: "Tasks", num: true, cell: (r) => r.count },
  ], counts);
}

function totals(rows) {
  const by = {};
  for (const status of PAYOUT_STATUSES) by[status] = { status, count: 0, amounts: {} };
  for (const p of rows) {
    const entry = by[p.status];
    entry.count += 1;
    entry.amounts[p.amount.currency] = (entry.amounts[p.amount.currency] || 0) + p.amount.amount;
  }
  return Object.values(by);
}

function amountsText(amounts) {
  const parts = Object.entries(amounts).map(([currency, amount]) => money(amount, currency));
  return parts.length ? parts.join(" + ") : "—";
}

async function payoutsSection(cleanup) {
  const today = startOfLocalDay();
  const since = new Date(today);
  since.setDate(since.getDate() - (CHART_DAYS - 1));
  const { rows, next, truncated } = await payoutsBetween({ from: since, limit: 5000, maxPages: 50 });
  const todays = rows.filter((p) => new Date(p.requestedAt) >= today);
  const days = [];
  for (let i = 0; i < CHART_DAYS; i += 1) {
    const d = new Date(since);
    d.setDate(d.getDate() + i);
    days.push(localDay(d));
  }
  const currency = rows.length ? rows[0].amount.currency : "USD";
  const perDay = (status, value) => days.map((day) => rows
    .filter((p) => p.status === status && localDay(p.requestedAt) === day && p.amount.currency === currency)
    .reduce((sum, p) => sum + value(p), 0));
  const labels = days.map(dayLabel);
  return h("div", {},
    table("Payouts requested today, by status", [
      { label: "Status", cell: (r) => r.status },
      { label: "Payouts", num: true, cell: (r) => r.count },
      { label: "Amount", num: true, cell: (r) => amountsText(r.amounts) },
    ], totals(todays)),
    truncated || next ? h("p", { class: "muted" }, "More payouts than the page limit: the figures below are partial.") : null,
    h("div", { class: "cards" },
      chart({ title: `Payouts per day (${currency})`, axisLabel: "Day", labels, stacked: true, yTitle: currency,
              datasets: PAYOUT_STATUSES.map((status) => {
                const minor = perDay(status, (p) => p.amount.amount);
                return { label: status, color: color(status), raw: minor,
                         data: minor.map((amount) => major(amount, currency)),
                         format: (amount) => money(amount, currency) };
              }) }, cleanup),
      chart({ title: "Payouts per day (count)", axisLabel: "Day", labels, stacked: true, yTitle: "payouts", counts: true,
              datasets: PAYOUT_STATUSES.map((status) => ({ label: status, color: color(status),
                data: perDay(status, () => 1) })) }, cleanup)));
}

async function discrepancies() {
  const [latest] = (await gql(OPEN_DISCREPANCIES)).reconciliationRuns.edges;
  if (!latest) return h("p", {}, "No reconciliation has run yet. ", h("a", { href: "#/reconciliation" }, "Run one"));
  const found = latest.node.discrepancies;
  const kinds = {};
  for (const d of found) kinds[d.kind] = (kinds[d.kind] || 0) + 1;
  return h("div", {},
    h("p", {}, h("strong", { class: found.length ? "error-text" : "ok" }, `${found.length} open`),
      ` in the latest run (${time(latest.node.finishedAt)}). `, h("a", { href: "#/reconciliation" }, "See the runs")),
    found.length ? table("Open discrepancies by kind", [
      { label: "Kind", cell: (r) => r.kind }, { label: "Discrepancies", num: true, cell: (r) => r.count }],
    Object.entries(kinds).map(([kind, count]) => ({ kind, count }))) : null);
}

const FUNDS = `query { me { requester { name balance { amount currency } escrow { amount currency } } } }`;

async function funds() {
  const { requester } = (await gql(FUNDS)).me;
  return table(`Funds of ${requester.name}`, [
    { label: "Account", cell: (r) => r.name },
    { label: "Amount", num: true, cell: (r) => money(r.money.amount, r.money.currency) },
  ], [{ name: "Available", money: requester.balance }, { name: "In escrow", money: requester.escrow }]);
}

function liveFeed(cleanup) {
  const list = h("ol", { class: "feed", "aria-live": "polite", "aria-label": "Latest events", tabindex: 0 });
  const status = h("p", { class: "muted" }, "Connecting…");
  fetch("/readyz").then((r) => r.json()).catch(() => ({})).then((ready) => {
    const after = ready.head ? String(Math.max(ready.head - 20, 0)) : null;
    const stop = subscribeToEvents(after, (event) => {
      replace(status, "Live: new events appear at the top.");
      list.prepend(h("li", {}, h("span", { class: "mono" }, `#${event.position}`), " ",
        h("strong", {}, event.type), " ", h("span", { class: "muted" }, time(event.occurredAt))));
      while (list.children.length > 50) list.lastChild.remove();
    }, (problems) => replace(status, errorBox({ messages: problems })));
    cleanup.push(stop);
    replace(status, "Live: new events appear at the top.");
  });
  return section("Live events", h("div", {}, status, list));
}

export async function render(main, { me, cleanup }) {
  const seesAll = me.role === "ADMIN" || me.role === "FINANCE";
  replace(main,
    h("h1", {}, "Overview"),
    h("div", { class: "cards" },
      part("Server", readiness),
      me.role !== "PARTNER" && me.role !== "WORKER" ? part(seesAll ? "Tasks" : "Your tasks", tasksByStatus) : null,
      seesAll ? part("Reconciliation", discrepancies) : null,
      me.requester ? part("Funds", funds) : null),
    seesAll ? part("Payouts", () => payoutsSection(cleanup)) : null,
    liveFeed(cleanup));
}
