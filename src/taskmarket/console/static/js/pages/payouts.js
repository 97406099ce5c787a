// Payouts: filtered by status, worker and period, paged with the API's cursors; one payout's
// history (and, where the API has it, its trace) on its own page.

import { gql, mutate } from "../api.js";
import { h, table, facts, errorBox, replace, dataLines } from "../dom.js";
import { money, time } from "../format.js";
import { payoutsBetween } from "./payouts_data.js";
import { traceSection, TRACE_FIELDS } from "./payout_trace.js";

const PAGE = 25;

function statusCell(p) {
  return h("span", { class: p.status === "FAILED" ? "error-text" : null }, p.status);
}

function list(main, { me }) {
  const filters = { status: "", workerId: "", from: "", to: "" };
  const cursors = [null];
  const results = h("div", {});
  const status = h("select", { id: "f-status", name: "status" },
    ["", "REQUESTED", "PAID", "FAILED"].map((s) => h("option", { value: s }, s || "Any")));
  const worker = h("input", { id: "f-worker", name: "worker", placeholder: "Worker ID", size: 24 });
  const from = h("input", { id: "f-from", name: "from", type: "date" });
  const to = h("input", { id: "f-to", name: "to", type: "date" });

  async function load(index) {
    replace(results, h("p", { class: "muted" }, "Loading…"));
    const day = (value, plus = 0) => {
      if (!value) return null;
      const [y, m, d] = value.split("-").map(Number);
      return new Date(y, m - 1, d + plus);
    };
    try {
      const page = await payoutsBetween({
        status: filters.status || null, workerId: filters.workerId || null,
        from: day(filters.from), to: day(filters.to, 1), after: cursors[index], limit: PAGE });
      cursors.length = index + 1;
      if (page.next) cursors.push(page.next);
      replace(results,
        table("Payouts, newest first", [
          { label: "Requested", cell: (p) => time(p.requestedAt) },
          { label: "Payout", cell: (p) => h("a", { href: `#/payouts/${encodeURIComponent(p.id)}` }, p.kind === "BONUS" ? "Bonus" : "Payout") },
          { label: "Worker", cell: (p) => p.worker.name },
          { label: "Amount", num: true, cell: (p) => money(p.amount.amount, p.amount.currency) },
          { label: "Status", cell: statusCell },
          { label: "Transfer", cell: (p) => p.stripeTransferId ? h("span", { class: "mono" }, p.stripeTransferId) : (p.failureReason || "—") },
        ], page.rows, "No payouts match."),
        h("div", { class: "pager" },
          h("button", { type: "button", class: "secondary", disabled: index === 0, onclick: () => load(index - 1) }, "Previous page"),
          h("button", { type: "button", class: "secondary", disabled: !page.next, onclick: () => load(index + 1) }, "Next page")));
    } catch (error) {
      replace(results, errorBox(error));
    }
  }

  const form = h("form", { class: "filters", onsubmit: (event) => {
    event.preventDefault();
    Object.assign(filters, { status: status.value, workerId: worker.value.trim(), from: from.value, to: to.value });
    cursors.length = 1;
    load(0);
  } },
    h("label", { for: "f-status" }, "Status", status),
    me.role === "WORKER" ? null : h("label", { for: "f-worker" }, "Worker", worker),
    h("label", { for: "f-from" }, "Requested from", from),
    h("label", { for: "f-to" }, "to (inclusive)", to),
    h("button", { type: "submit" }, "Show"));
  replace(main, h("h1", {}, "Payouts"), form, results);
  return load(0);
}

const PAYOUT = `query($id: ID!) { node(id: $id) { id ... on Payout {
  status kind reason amount { amount currency } requestedAt paidAt attempts failureReason
  stripeTransferId worker { id name } submission { id status task { id title } }
  history { position type occurredAt data } ${TRACE_FIELDS} } } }`;

const RETRY = `mutation($id: ID!) { retryPayout(input: {payoutId: $id}) {
  payout { id status } userErrors { code field message } } }`;

async function detail(main, { me, param }) {
  const node = (await gql(PAYOUT, { id: param })).node;
  if (!node) {
    replace(main, h("h1", {}, "Payout"), errorBox({ messages: ["NOT_FOUND: no payout has this ID."] }));
    return;
  }
  const notice = h("div", {});
  const retry = node.status === "FAILED" && me.role !== "WORKER"
    ? h("button", { type: "button", onclick: async () => {
      try {
        const done = await mutate(RETRY, { id: node.id }, "retryPayout");
        replace(notice, h("p", { class: "ok", role: "status" }, `Retry requested: the payout is ${done.payout.status}.`));
      } catch (error) { replace(notice, errorBox(error)); }
    } }, "Retry payout") : null;
  replace(main,
    h("p", {}, h("a", { href: "#/payouts" }, "← All payouts")),
    h("h1", {}, `${node.kind === "BONUS" ? "Bonus" : "Payout"} of ${money(node.amount.amount, node.amount.currency)} to ${node.worker.name}`),
    facts([
      ["ID", h("span", { class: "mono" }, node.id)],
      ["Status", node.status],
      ["Worker", node.worker.name],
      ["Requested", time(node.requestedAt)],
      ["Paid", time(node.paidAt)],
      ["Attempts", node.attempts],
      node.failureReason ? ["Failure", node.failureReason] : null,
      node.reason ? ["Bonus reason", node.reason] : null,
      ["Stripe transfer", node.stripeTransferId ? h("span", { class: "mono" }, node.stripeTransferId) : "—"],
      ["Submission", node.submission ? `${node.submission.status} for “${node.submission.task.title}”` : "—"],
    ]),
    retry, notice,
    traceSection(node),
    h("h2", {}, "History"),
    table("Events of this payout, oldest first", [
      { label: "Position", num: true, cell: (e) => e.position },
      { label: "Event", cell: (e) => e.type },
      { label: "When", cell: (e) => time(e.occurredAt) },
      { label: "Data", cell: (e) => dataLines(e.data) },
    ], node.history));
}

export function render(main, context) {
  return context.param ? detail(main, context) : list(main, context);
}
