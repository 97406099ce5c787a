// Reconciliation runs (newest first) with their discrepancies, and a button to run one.

import { gql, mutate } from "../api.js";
import { h, table, errorBox, replace } from "../dom.js";
import { time, localDay } from "../format.js";

const RUN_FIELDS = `id startedAt finishedAt from to payoutsCompared transfersCompared
  discrepancies { kind stripeTransferId detail payout { id status amount { amount currency } worker { name } } }`;
const RUNS = `query($after: String) { reconciliationRuns(first: 10, after: $after) {
  edges { cursor node { ${RUN_FIELDS} } } pageInfo { hasNextPage endCursor } } }`;
const RECONCILE = `mutation($from: DateTime!, $to: DateTime!) { reconcile(input: {from: $from, to: $to}) {
  run { ${RUN_FIELDS} } userErrors { code field message } } }`;

export const OPEN_DISCREPANCIES = `query { reconciliationRuns(first: 1) { edges { node {
  id finishedAt discrepancies { kind } } } } }`;

function runView(run, index) {
  return h("section", { class: "card", "aria-label": `Run of ${time(run.startedAt)}` },
    h("h2", {}, `Run of ${time(run.startedAt)}`),
    h("p", {}, `Period ${time(run.from)} to ${time(run.to)}: ${run.payoutsCompared} payouts and ${run.transfersCompared} transfers compared; `,
      h("strong", { class: run.discrepancies.length ? "error-text" : "ok" },
        run.discrepancies.length ? `${run.discrepancies.length} discrepancies` : "no discrepancies"), "."),
    run.discrepancies.length ? table(`Discrepancies of run ${index + 1}`, [
      { label: "Kind", cell: (d) => d.kind },
      { label: "Our payout", cell: (d) => d.payout
        ? h("a", { href: `#/payouts/${encodeURIComponent(d.payout.id)}` }, `${d.payout.status} to ${d.payout.worker.name}`) : "—" },
      { label: "Stripe transfer", cell: (d) => d.stripeTransferId ? h("span", { class: "mono" }, d.stripeTransferId) : "—" },
      { label: "Detail", cell: (d) => d.detail },
    ], run.discrepancies) : null);
}

export async function render(main) {
  const now = new Date();
  const weekAgo = new Date(now);
  weekAgo.setDate(weekAgo.getDate() - 7);
  const from = h("input", { id: "r-from", name: "from", type: "date", value: localDay(weekAgo), required: true });
  const to = h("input", { id: "r-to", name: "to", type: "date", value: localDay(now), required: true });
  const notice = h("div", { "aria-live": "polite" });
  const runs = h("div", {});
  const cursors = [null];

  async function load(index) {
    try {
      const { reconciliationRuns } = await gql(RUNS, { after: cursors[index] });
      cursors.length = index + 1;
      if (reconciliationRuns.pageInfo.hasNextPage) cursors.push(reconciliationRuns.pageInfo.endCursor);
      const nodes = reconciliationRuns.edges.map((edge) => edge.node);
      replace(runs, nodes.length ? nodes.map(runView) : h("p", { class: "muted" }, "No reconciliation has run yet."),
        h("div", { class: "pager" },
          h("button", { type: "button", class: "secondary", disabled: index === 0, onclick: () => load(index - 1) }, "Newer runs"),
          h("button", { type: "button", class: "secondary", disabled: !reconciliationRuns.pageInfo.hasNextPage, onclick: () => load(index + 1) }, "Older runs")));
    } catch (error) { replace(runs, errorBox(error)); }
  }

  const button = h("button", { type: "submit" }, "Run reconciliation");
  const form = h("form", { class: "filters", onsubmit: async (event) => {
    event.preventDefault();
    button.disabled = true;
    replace(notice, h("p", { class: "muted" }, "Comparing with Stripe…"));
    const [fy, fm, fd] = from.value.split("-").map(Number);
    const [ty, tm, td] = to.value.split("-").map(Number);
    const end = new Date(ty, tm - 1, td + 1);
    try {
      const { run } = await mutate(RECONCILE, { from: new Date(fy, fm - 1, fd).toISOString(),
        to: (end > new Date() ? new Date() : end).toISOString() }, "reconcile");
      replace(notice, h("p", { class: "ok", role: "status" },
        `Reconciliation finished: ${run.discrepancies.length} discrepancies.`));
      await load(0);
    } catch (error) {
      replace(notice, errorBox(error));
    } finally {
      button.disabled = false;
    }
  } },
    h("label", { for: "r-from" }, "Transfers from", from),
    h("label", { for: "r-to" }, "to (inclusive)", to),
    button);
  replace(main, h("h1", {}, "Reconciliation"), form, notice, h("h2", {}, "Runs, newest first"), runs);
  await load(0);
}
