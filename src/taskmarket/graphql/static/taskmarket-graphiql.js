// GraphiQL with an API key: queries and mutations carry it as the Authorization header,
// subscriptions in the graphql-transport-ws connection_init payload. The key stays in
// this tab (sessionStorage), never in the URL.
(function () {
  "use strict";
  var STORE = "taskmarket-api-key";
  var form = document.getElementById("key-bar");
  var input = document.getElementById("api-key");
  var httpUrl = new URL("/graphql", window.location.href).href;
  var wsUrl = httpUrl.replace(/^http/, "ws");
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));

  input.value = window.sessionStorage.getItem(STORE) || "";

  function fetcherFor(key) {
    var authorization = key ? "Bearer " + key : null;
    return GraphiQL.createFetcher({
      url: httpUrl,
      subscriptionUrl: wsUrl,  // the bundle carries graphql-ws for this
      headers: authorization ? { Authorization: authorization } : {},
      wsConnectionParams: authorization ? { authorization: authorization } : {},
    });
  }

  function render() {
    var key = input.value.trim();
    // A new key remounts GraphiQL, so the schema is introspected again with it.
    root.render(React.createElement(GraphiQL, {
      key: key || "no key",
      fetcher: fetcherFor(key),
      defaultQuery: "# Enter your API key above, then run:\n{\n  me {\n    role\n    keyName\n  }\n}\n",
    }));
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    window.sessionStorage.setItem(STORE, input.value.trim());
    render();
  });
  render();
})();
