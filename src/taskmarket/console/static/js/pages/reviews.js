// The calling requester's review queue: accept, reject or ask for a revision, with feedback.

import { gql, mutate } from "../api.js";
import { h, errorBox, replace } from "../dom.js";
import { time } from "../format.js";

const QUEUE = `query($after: String) { reviewQueue(first: 10, after: $after) {
  edges { cursor node { id status flagged result submittedAt task { id title reward { amount currency } } worker { id name } } }
  pageInfo { hasNextPage endCursor } } }`;
const REVIEW = `mutation($id: ID!, $decision: ReviewDecision!, $feedback: String) {
  reviewSubmission(input: {submissionId: $id, decision: $decision, feedback: $feedback}) {
    submission { id status feedback } payout { id status } userErrors { code field message } } }`;
const DECISIONS = [["ACCEPT", "Accept"], ["REJECT", "Reject"], ["REQUEST_REVISION", "Request revision"]];

function item(submission, index) {
  const feedbackId = `feedback-${index}`;
  const feedback = h("textarea", { id: feedbackId, name: "feedback" });
  const outcome = h("div", { "aria-live": "polite" });
  const buttons = DECISIONS.map(([decision, label]) => h("button", {
    type: "button", class: decision === "ACCEPT" ? null : "secondary",
    onclick: async () => {
      buttons.forEach((b) => { b.disabled = true; });
      try {
        const done = await mutate(REVIEW, { id: submission.id, decision, feedback: feedback.value || null }, "reviewSubmission");
        replace(outcome, h("p", { class: "ok", role: "status" },
          `Submission is now ${done.submission.status}.`,
          done.payout ? ` Payout ${done.payout.status}.` : ""));
      } catch (error) {
        buttons.forEach((b) => { b.disabled = false; });
        replace(outcome, errorBox(error));
      }
    } }, label));
  return h("article", { class: "review", "aria-label": `Submission for ${submission.task.title}` },
    h("h2", {}, submission.task.title),
    h("p", { class: "muted" }, `From ${submission.worker.name}, ${time(submission.submittedAt)} · `,
      h("span", { class: "status" }, submission.status)),
    submission.flagged ? h("p", { class: "error-text" }, "Flagged: this worker was blocked from the batch for low accuracy on control items.") : null,
    h("pre", { class: "mono" }, JSON.stringify(submission.result, null, 2)),
    h("label", { for: feedbackId }, "Feedback to the worker", feedback),
    h("div", { class: "actions" }, buttons),
    outcome);
}

export async function render(main) {
  const cursors = [null];
  const body = h("div", {});
  async function load(index) {
    try {
      const { reviewQueue } = await gql(QUEUE, { after: cursors[index] });
      cursors.length = index + 1;
      if (reviewQueue.pageInfo.hasNextPage) cursors.push(reviewQueue.pageInfo.endCursor);
      replace(body,
        reviewQueue.edges.length
          ? reviewQueue.edges.map((edge, i) => item(edge.node, index * 10 + i))
          : h("p", { class: "muted" }, "Nothing waits for your review."),
        h("div", { class: "pager" },
          h("button", { type: "button", class: "secondary", disabled: index === 0, onclick: () => load(index - 1) }, "Previous page"),
          h("button", { type: "button", class: "secondary", disabled: !reviewQueue.pageInfo.hasNextPage, onclick: () => load(index + 1) }, "Next page"),
          h("button", { type: "button", class: "secondary", onclick: () => load(index) }, "Refresh")));
    } catch (error) {
      replace(body, errorBox(error));
    }
  }
  replace(main, h("h1", {}, "Review queue"), h("p", { class: "muted" }, "Oldest first."), body);
  await load(0);
}
