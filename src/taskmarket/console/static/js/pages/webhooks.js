// Webhook endpoints and, per endpoint, its deliveries (newest first) with redelivery.

import { gql, mutate } from "../api.js";
import { h, table, facts, errorBox, replace } from "../dom.js";
import { time } from "../format.js";

const ENDPOINTS = `query($after: String) { webhookEndpoints(first: 25, after: $after) {
  edges { cursor node { id url enabled eventTypes disabledReason } } pageInfo { hasNextPage endCursor } } }`;
const ENDPOINT = `query($id: ID!) { node(id: $id) { id ... on WebhookEndpoint { url enabled eventTypes disabledReason } } }`;
const DELIVERIES = `query($id: ID!, $after: String) { webhookDeliveries(endpointId: $id, first: 25, after: $after) {
  edges { cursor node { id eventType position attempts lastStatusCode delivered latencyMs lastError
                        nextAttemptAt deliveredAt createdAt redelivery } }
  pageInfo { hasNextPage endCursor } } }`;
const REDELIVER = `mutation($id: ID!) { redeliverWebhook(input: {deliveryId: $id}) {
  endpoint { id } userErrors { code field message } } }`;

function pager(index, hasNext, load) {
  return h("div", { class: "pager" },
    h("button", { type: "button", class: "secondary", disabled: index === 0, onclick: () => load(index - 1) }, "Previous page"),
    h("button", { type: "button", class: "secondary", disabled: !hasNext, onclick: () => load(index + 1) }, "Next page"));
}

async function list(main) {
  const cursors = [null];
  const body = h("div", {});
  async function load(index) {
    try {
      const { webhookEndpoints } = await gql(ENDPOINTS, { after: cursors[index] });
      cursors.length = index + 1;
      if (webhookEndpoints.pageInfo.hasNextPage) cursors.push(webhookEndpoints.pageInfo.endCursor);
      replace(body, table("Webhook endpoints", [
        { label: "URL", cell: (e) => h("a", { href: `#/webhooks/${encodeURIComponent(e.id)}` }, e.url) },
        { label: "State", cell: (e) => (e.enabled ? "enabled" : `disabled${e.disabledReason ? `: ${e.disabledReason}` : ""}`) },
        { label: "Event types", cell: (e) => (e.eventTypes.length ? e.eventTypes.join(", ") : "all") },
      ], webhookEndpoints.edges.map((edge) => edge.node), "No webhook endpoints."),
      pager(index, webhookEndpoints.pageInfo.hasNextPage, load));
    } catch (error) { replace(body, errorBox(error)); }
  }
  replace(main, h("h1", {}, "Webhooks"), body);
  await load(0);
}

async function deliveries(main, id) {
  const endpoint = (await gql(ENDPOINT, { id })).node;
  if (!endpoint) {
    replace(main, h("h1", {}, "Webhook endpoint"), errorBox({ messages: ["NOT_FOUND: no endpoint has this ID."] }));
    return;
  }
  const notice = h("div", { "aria-live": "polite" });
  const body = h("div", {});
  const cursors = [null];
  async function redeliver(delivery) {
    try {
      await mutate(REDELIVER, { id: delivery.id }, "redeliverWebhook");
      replace(notice, h("p", { class: "ok", role: "status" }, `Redelivery of event #${delivery.position} (${delivery.eventType}) queued.`));
      await load(0);
    } catch (error) { replace(notice, errorBox(error)); }
  }
  async function load(index) {
    try {
      const { webhookDeliveries } = await gql(DELIVERIES, { id, after: cursors[index] });
      cursors.length = index + 1;
      if (webhookDeliveries.pageInfo.hasNextPage) cursors.push(webhookDeliveries.pageInfo.endCursor);
      replace(body, table("Deliveries, newest first", [
        { label: "Event", cell: (d) => [d.eventType, d.redelivery ? " (redelivery)" : ""] },
        { label: "Position", num: true, cell: (d) => d.position },
        { label: "Delivered", cell: (d) => (d.delivered ? time(d.deliveredAt) : "not yet") },
        { label: "Attempts", num: true, cell: (d) => d.attempts },
        { label: "Last status", cell: (d) => d.lastStatusCode ?? d.lastError ?? "—" },
        { label: "Latency", num: true, cell: (d) => (d.latencyMs === null ? "—" : `${d.latencyMs} ms`) },
        { label: "Next attempt", cell: (d) => time(d.nextAttemptAt) },
        { label: "", cell: (d) => h("button", { type: "button", class: "secondary", "aria-label": `Redeliver event ${d.position}`, onclick: () => redeliver(d) }, "Redeliver") },
      ], webhookDeliveries.edges.map((edge) => edge.node), "No deliveries yet."),
      pager(index, webhookDeliveries.pageInfo.hasNextPage, load));
    } catch (error) { replace(body, errorBox(error)); }
  }
  replace(main,
    h("p", {}, h("a", { href: "#/webhooks" }, "← All endpoints")),
    h("h1", {}, "Webhook endpoint"),
    facts([["URL", h("span", { class: "mono" }, endpoint.url)], ["State", endpoint.enabled ? "enabled" : "disabled"],
           ["Event types", endpoint.eventTypes.length ? endpoint.eventTypes.join(", ") : "all"]]),
    notice, h("h2", {}, "Deliveries"), body);
  await load(0);
}

export function render(main, { param }) {
  return param ? deliveries(main, param) : list(main);
}
