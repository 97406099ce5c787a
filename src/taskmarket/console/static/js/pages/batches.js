// Batches: progress of each, and per batch its consensus results, worker quality (with the
// accuracy distribution) and blocked workers.

import { gql } from "../api.js";
import { h, table, facts, errorBox, replace } from "../dom.js";
import { money, time, percent } from "../format.js";
import { chart, color } from "../charts.js";

const BATCHES = `query($after: String) { batches(first: 20, after: $after) {
  edges { cursor node { id title status itemCount completedCount overlap aggregation createdAt
                        reward { amount currency } } }
  pageInfo { hasNextPage endCursor } } }`;
const BATCH = `query($id: ID!) { node(id: $id) { id ... on Batch { title instructions status
  itemCount completedCount overlap aggregation createdAt reward { amount currency }
  requester { name } } } }`;
const RESULTS = `query($id: ID!, $after: String) { node(id: $id) { ... on Batch {
  results(first: 25, after: $after) { edges { cursor node {
    task { id title payload status } consensus { answer confidence method answers } } }
    pageInfo { hasNextPage endCursor } } } } }`;
const QUALITY = `query($id: ID!, $after: String) { node(id: $id) { ... on Batch {
  workerQuality(first: 100, after: $after) { edges { cursor node {
    worker { id name } goldAnswered goldCorrect accuracy blocked } }
    pageInfo { hasNextPage endCursor } } } } }`;
const BUCKETS = 10;

function progress(batch) {
  return h("span", {}, h("progress", { max: batch.itemCount || 1, value: batch.completedCount,
    "aria-label": `${batch.title}: ${batch.completedCount} of ${batch.itemCount} items have a consensus` }),
  ` ${batch.completedCount} / ${batch.itemCount}`);
}

function pager(index, hasNext, load, what) {
  return h("div", { class: "pager" },
    h("button", { type: "button", class: "secondary", disabled: index === 0, onclick: () => load(index - 1) }, `Previous ${what}`),
    h("button", { type: "button", class: "secondary", disabled: !hasNext, onclick: () => load(index + 1) }, `Next ${what}`));
}

async function list(main, { cleanup }) {
  const cursors = [null];
  const body = h("div", {});
  async function load(index) {
    try {
      const { batches } = await gql(BATCHES, { after: cursors[index] });
      cursors.length = index + 1;
      if (batches.pageInfo.hasNextPage) cursors.push(batches.pageInfo.endCursor);
      const nodes = batches.edges.map((edge) => edge.node);
      replace(body,
        table("Batches, newest first", [
          { label: "Batch", cell: (b) => h("a", { href: `#/batches/${encodeURIComponent(b.id)}` }, b.title) },
          { label: "Status", cell: (b) => b.status },
          { label: "Progress", cell: progress },
          { label: "Reward per answer", num: true, cell: (b) => money(b.reward.amount, b.reward.currency) },
          { label: "Created", cell: (b) => time(b.createdAt) },
        ], nodes, "No batches."),
        nodes.length ? chart({ title: "Batch progress (items)", axisLabel: "Batch", horizontal: true, stacked: true, counts: true,
          labels: nodes.map((b) => b.title),
          datasets: [
            { label: "With consensus", color: color("done"), data: nodes.map((b) => b.completedCount) },
            { label: "Waiting", color: color("left"), data: nodes.map((b) => b.itemCount - b.completedCount) },
          ] }, cleanup) : null,
        pager(index, batches.pageInfo.hasNextPage, load, "batches"));
    } catch (error) { replace(body, errorBox(error)); }
  }
  replace(main, h("h1", {}, "Batches"), body);
  await load(0);
}

function answerText(answer) {
  return answer === null || answer === undefined ? "—" : typeof answer === "string" ? answer : JSON.stringify(answer);
}

async function detail(main, { param, cleanup }) {
  const batch = (await gql(BATCH, { id: param })).node;
  if (!batch) {
    replace(main, h("h1", {}, "Batch"), errorBox({ messages: ["NOT_FOUND: no batch has this ID."] }));
    return;
  }
  const results = h("div", {});
  const quality = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  const cursors = [null];
  async function loadResults(index) {
    try {
      const page = (await gql(RESULTS, { id: param, after: cursors[index] })).node.results;
      cursors.length = index + 1;
      if (page.pageInfo.hasNextPage) cursors.push(page.pageInfo.endCursor);
      replace(results, table("Consensus results", [
        { label: "Item", cell: (r) => h("span", { class: "mono" }, JSON.stringify(r.node.task.payload)) },
        { label: "Answer", cell: (r) => (r.node.consensus ? answerText(r.node.consensus.answer) : "waiting") },
        { label: "Confidence", num: true, cell: (r) => (r.node.consensus ? percent(r.node.consensus.confidence) : "—") },
        { label: "Answers", num: true, cell: (r) => (r.node.consensus ? r.node.consensus.answers : "—") },
      ], page.edges, "No results yet."), pager(index, page.pageInfo.hasNextPage, loadResults, "results"));
    } catch (error) { replace(results, errorBox(error)); }
  }
  async function loadQuality() {
    try {
      const rows = [];
      let after = null;
      for (let i = 0; i < 20; i += 1) {
        const page = (await gql(QUALITY, { id: param, after })).node.workerQuality;
        rows.push(...page.edges.map((edge) => edge.node));
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      const counts = new Array(BUCKETS).fill(0);
      for (const row of rows) {
        if (row.accuracy !== null) counts[Math.min(BUCKETS - 1, Math.floor(row.accuracy * BUCKETS))] += 1;
      }
      const blocked = rows.filter((row) => row.blocked);
      replace(quality,
        chart({ title: "Worker accuracy on gold items", axisLabel: "Accuracy", yTitle: "workers", counts: true,
          labels: counts.map((_, i) => `${i * 10}–${i * 10 + 10} %`),
          datasets: [{ label: "Workers", color: color("bars"), data: counts }] }, cleanup),
        table("Worker quality", [
          { label: "Worker", cell: (q) => q.worker.name },
          { label: "Gold answered", num: true, cell: (q) => q.goldAnswered },
          { label: "Correct", num: true, cell: (q) => q.goldCorrect },
          { label: "Accuracy", num: true, cell: (q) => percent(q.accuracy) },
          { label: "Blocked", cell: (q) => (q.blocked ? "blocked" : "—") },
        ], rows, "No worker has answered yet."),
        h("h3", {}, "Blocked workers"),
        blocked.length ? h("ul", {}, blocked.map((q) => h("li", {}, `${q.worker.name} (${percent(q.accuracy)} on ${q.goldAnswered} gold items)`)))
          : h("p", { class: "muted" }, "No worker is blocked."));
    } catch (error) { replace(quality, errorBox(error)); }
  }
  replace(main,
    h("p", {}, h("a", { href: "#/batches" }, "← All batches")),
    h("h1", {}, batch.title),
    facts([["Status", batch.status], ["Progress", progress(batch)], ["Overlap", batch.overlap],
           ["Aggregation", batch.aggregation], ["Reward per answer", money(batch.reward.amount, batch.reward.currency)],
           ["Requester", batch.requester.name], ["Created", time(batch.createdAt)], ["Instructions", batch.instructions]]),
    h("h2", {}, "Results"), results,
    h("h2", {}, "Worker quality"), quality);
  await Promise.all([loadResults(0), loadQuality()]);
}

export function render(main, context) {
  return context.param ? detail(main, context) : list(main, context);
}
