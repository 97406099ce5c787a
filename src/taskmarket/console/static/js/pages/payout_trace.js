// A payout's trace: why it was paid and from which money (Payout.trace).

import { h, table, facts, dataLines } from "../dom.js";
import { time } from "../format.js";

export const TRACE_FIELDS = `trace { autoApproved stripeTransferId
  submission { id status submittedAt worker { name } }
  reviewedBy { id name } reviewedAt task { id title }
  funding { position type occurredAt data } }`;

export function traceSection(node) {
  const trace = node.trace;
  if (!trace) return null;
  const submission = trace.submission;
  return h("section", { "aria-label": "Trace" },
    h("h2", {}, "Why it was paid, from which money"),
    facts([
      ["Task", trace.task ? trace.task.title : "—"],
      ["Submission", submission
        ? [h("span", { class: "mono" }, submission.id), ` · ${submission.status}, submitted ${time(submission.submittedAt)} by ${submission.worker.name}`]
        : "— (a bonus)"],
      ["Accepted", time(trace.reviewedAt)],
      ["Reviewed by", trace.autoApproved ? "auto-approved (no review in time)"
        : trace.reviewedBy ? trace.reviewedBy.name : "—"],
      ["Stripe transfer", trace.stripeTransferId ? h("span", { class: "mono" }, trace.stripeTransferId) : "none yet"],
    ]),
    table("Funding: the escrow reservation and the deposits it drew on", [
      { label: "Position", num: true, cell: (e) => e.position },
      { label: "Event", cell: (e) => e.type },
      { label: "When", cell: (e) => time(e.occurredAt) },
      { label: "Data", cell: (e) => dataLines(e.data) },
    ], trace.funding, "No funding events."));
}
