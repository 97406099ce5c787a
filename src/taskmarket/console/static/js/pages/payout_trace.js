// A payout's trace (why it was paid, from which money): shown once the API has
// Payout.trace (the finance section of the contract).

export const TRACE_FIELDS = "";

export function traceSection() {
  return null;
}
