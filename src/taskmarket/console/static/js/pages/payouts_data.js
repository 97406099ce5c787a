// Payouts read page by page (newest first) back to a point in time.

import { gql } from "../api.js";

export const PAYOUT_FIELDS = `id status kind amount { amount currency } requestedAt paidAt
  stripeTransferId failureReason worker { id name }`;

const PAYOUTS = `query($first: Int, $after: String, $status: PayoutStatus, $workerId: ID) {
  payouts(first: $first, after: $after, status: $status, workerId: $workerId) {
    edges { cursor node { ${PAYOUT_FIELDS} } } pageInfo { hasNextPage endCursor } } }`;

// Up to `limit` payouts requested in [from, to), starting after `after`. Returns the rows,
// and the cursor to go on from (null at the end of the list or of the period).
export async function payoutsBetween({ from = null, to = null, status = null, workerId = null,
                                       after = null, limit = 25, maxPages = 40 }) {
  const rows = [];
  let cursor = after;
  for (let page = 0; page < maxPages; page += 1) {
    const { payouts } = await gql(PAYOUTS, { first: 100, after: cursor, status, workerId });
    for (const edge of payouts.edges) {
      const at = new Date(edge.node.requestedAt);
      if (from && at < from) return { rows, next: null };
      cursor = edge.cursor;
      if (to && at >= to) continue;
      rows.push(edge.node);
      if (rows.length >= limit) {
        const more = edge !== payouts.edges[payouts.edges.length - 1] || payouts.pageInfo.hasNextPage;
        return { rows, next: more ? cursor : null };
      }
    }
    if (!payouts.pageInfo.hasNextPage) return { rows, next: null };
    cursor = payouts.pageInfo.endCursor;
  }
  return { rows, next: cursor, truncated: true };
}
