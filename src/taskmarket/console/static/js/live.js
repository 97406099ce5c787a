// The `events` subscription over graphql-transport-ws (the contract's protocol), with the
// signed-in key in connection_init.

import { session } from "./api.js";

const SUBSCRIPTION = `subscription($after: String) {
  events(after: $after) { id position type aggregateId occurredAt } }`;

export function subscribeToEvents(after, onEvent, onProblem) {
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
  const socket = new WebSocket(url, "graphql-transport-ws");
  let closing = false;
  const send = (message) => socket.send(JSON.stringify(message));
  socket.addEventListener("open", () =>
    send({ type: "connection_init", payload: { authorization: `Bearer ${session.key}` } }));
  socket.addEventListener("message", (message) => {
    const data = JSON.parse(message.data);
    if (data.type === "connection_ack") {
      send({ id: "events", type: "subscribe", payload: { query: SUBSCRIPTION, variables: { after } } });
    } else if (data.type === "ping") {
      send({ type: "pong" });
    } else if (data.type === "next") {
      if (data.payload.errors) onProblem(data.payload.errors.map((e) => e.message));
      else onEvent(data.payload.data.events);
    } else if (data.type === "error") {
      onProblem(data.payload.map((e) => e.message));
    }
  });
  socket.addEventListener("close", (event) => {
    if (!closing) onProblem([`The live feed closed (${event.code}${event.reason ? ` ${event.reason}` : ""}).`]);
  });
  return () => { closing = true; socket.close(1000); };
}
