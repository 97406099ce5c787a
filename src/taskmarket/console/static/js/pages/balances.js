// Ledger balances as of a chosen day (the end of that day in the browser's zone), and
// optionally compared with another day.

import { gql } from "../api.js";
import { h, table, errorBox, replace } from "../dom.js";
import { money, time, localDay } from "../format.js";

const BALANCES = `query($at: DateTime) { accountBalances(at: $at) {
  position asOf balances { account currency amount } } }`;

// The end of a local day, or now when that is earlier.
function endOf(day) {
  const [y, m, d] = day.split("-").map(Number);
  const end = new Date(new Date(y, m - 1, d + 1).getTime() - 1);
  return end > new Date() ? new Date() : end;
}

function difference(a, b) {
  try { return String(BigInt(a) - BigInt(b)); } catch { return null; }
}

export async function render(main) {
  const today = localDay(new Date());
  const yesterdayDate = new Date();
  yesterdayDate.setDate(yesterdayDate.getDate() - 1);
  const day = h("input", { id: "b-day", name: "day", type: "date", value: today, max: today, required: true });
  const compare = h("input", { id: "b-compare", name: "compare", type: "date", value: localDay(yesterdayDate), max: today });
  const results = h("div", {});

  async function load() {
    replace(results, h("p", { class: "muted" }, "Loading…"));
    try {
      const first = (await gql(BALANCES, { at: endOf(day.value).toISOString() })).accountBalances;
      const second = compare.value
        ? (await gql(BALANCES, { at: endOf(compare.value).toISOString() })).accountBalances : null;
      const keyOf = (b) => `${b.account} ${b.currency}`;
      const rows = new Map();
      for (const b of first.balances) rows.set(keyOf(b), { account: b.account, currency: b.currency, amount: b.amount, other: "0" });
      if (second) {
        for (const b of second.balances) {
          const row = rows.get(keyOf(b)) || { account: b.account, currency: b.currency, amount: "0" };
          row.other = b.amount;
          rows.set(keyOf(row), row);
        }
      }
      const columns = [
        { label: "Account", cell: (r) => h("span", { class: "mono" }, r.account) },
        { label: `As of ${day.value}`, num: true, cell: (r) => money(r.amount, r.currency) },
      ];
      if (second) {
        columns.push({ label: `As of ${compare.value}`, num: true, cell: (r) => money(r.other, r.currency) });
        columns.push({ label: "Change", num: true, cell: (r) => money(difference(r.amount, r.other) ?? "0", r.currency) });
      }
      replace(results,
        h("p", {}, `As of log position ${first.position} (${time(first.asOf)})`,
          second ? `, compared with position ${second.position} (${time(second.asOf)})` : "", "."),
        table("Ledger balances", columns, [...rows.values()].sort((a, b) => a.account.localeCompare(b.account)),
          "No ledger account had a balance then."));
    } catch (error) {
      replace(results, errorBox(error));
    }
  }

  replace(main, h("h1", {}, "Balances"),
    h("form", { class: "filters", onsubmit: (event) => { event.preventDefault(); load(); } },
      h("label", { for: "b-day" }, "As of the end of", day),
      h("label", { for: "b-compare" }, "Compare with (optional)", compare),
      h("button", { type: "submit" }, "Show")),
    results);
  await load();
}
