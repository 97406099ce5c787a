// The console's only way to the server: the public GraphQL API over HTTP, with the API key
// the user signed in with (kept in session storage, sent as a bearer token, never in a URL).

const KEY = "taskmarket.console.apiKey";

export const session = {
  get key() { return sessionStorage.getItem(KEY); },
  signIn(key) { sessionStorage.setItem(KEY, key); },
  signOut() { sessionStorage.removeItem(KEY); },
};

export class ApiError extends Error {
  constructor(messages) {
    super(messages.join("; "));
    this.messages = messages;
  }
}

function describe(error) {
  const code = error.extensions && error.extensions.code;
  return code ? `${code}: ${error.message}` : error.message;
}

// The log position of this tab's latest write: later reads pass it back so that they see
// that write (the API's read-your-writes header).
let lastWrite = null;

function rememberWrite(position) {
  if (typeof position === "string" && /^[0-9]+$/.test(position)
      && (lastWrite === null || BigInt(position) > BigInt(lastWrite))) lastWrite = position;
}

export async function gql(query, variables = {}) {
  let response;
  const headers = { "content-type": "application/json",
                    accept: "application/graphql-response+json, application/json",
                    authorization: `Bearer ${session.key}` };
  if (lastWrite !== null) headers["x-taskmarket-after-position"] = lastWrite;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers,
      body: JSON.stringify({ query, variables }),
    });
  } catch (error) {
    throw new ApiError([`The server could not be reached (${error.message}).`]);
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError([`HTTP ${response.status} ${response.statusText}`]);
  }
  rememberWrite(body.extensions && body.extensions.position);
  if (body.errors && body.errors.length) throw new ApiError(body.errors.map(describe));
  if (!response.ok) throw new ApiError([`HTTP ${response.status} ${response.statusText}`]);
  return body.data;
}

// A mutation's payload; its userErrors are thrown as the API's words.
export async function mutate(query, variables, field) {
  const payload = (await gql(query, variables))[field];
  if (payload.userErrors && payload.userErrors.length) {
    throw new ApiError(payload.userErrors.map((e) =>
      `${e.code}: ${e.message}${e.field && e.field.length ? ` (${e.field.join(".")})` : ""}`));
  }
  return payload;
}

// Every node of a connection, page by page with its cursors, until `enough(nodes)` holds,
// the list ends, or `maxPages` pages were read. `pick(data)` returns the connection.
export async function collect(query, variables, pick, { enough = () => false, maxPages = 20 } = {}) {
  const nodes = [];
  let after = null;
  for (let page = 0; page < maxPages; page += 1) {
    const connection = pick(await gql(query, { ...variables, after }));
    nodes.push(...connection.edges.map((edge) => edge.node));
    if (!connection.pageInfo.hasNextPage || enough(nodes)) return { nodes, complete: !connection.pageInfo.hasNextPage };
    after = connection.pageInfo.endCursor;
  }
  return { nodes, complete: false };
}
