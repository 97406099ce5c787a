// Every page, the roles it is shown to (the API still decides what each key may read).

import * as balances from "./balances.js";
import * as batches from "./batches.js";
import * as overview from "./overview.js";
import * as payouts from "./payouts.js";
import * as reconciliation from "./reconciliation.js";
import * as reviews from "./reviews.js";
import * as webhooks from "./webhooks.js";

export const PAGES = [
  { name: "overview", title: "Overview", roles: ["ADMIN", "FINANCE", "REQUESTER", "WORKER", "PARTNER"], render: overview.render },
  { name: "payouts", title: "Payouts", roles: ["ADMIN", "FINANCE", "WORKER"], render: payouts.render },
  { name: "balances", title: "Balances", roles: ["ADMIN", "FINANCE"], render: balances.render },
  { name: "reconciliation", title: "Reconciliation", roles: ["ADMIN", "FINANCE"], render: reconciliation.render },
  { name: "batches", title: "Batches", roles: ["ADMIN", "FINANCE", "REQUESTER"], render: batches.render },
  { name: "reviews", title: "Review queue", roles: ["REQUESTER"], render: reviews.render },
  { name: "webhooks", title: "Webhooks", roles: ["ADMIN", "REQUESTER", "PARTNER"], render: webhooks.render },
];
