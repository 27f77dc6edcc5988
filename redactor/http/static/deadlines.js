// What the retention columns of an upload say: when its original and its result are
// (or were) deleted, from the job's deadlines and deletion times.

import * as fmt from "./format.js";

function untilFinished(item) {
  return item.fields.original_retention === "0";
}

export function originalText(item, now) {
  const job = item.job;
  if (!job) return item.state === "rejected" ? "not stored" : "not stored yet";
  if (job.original_deleted_at) return "deleted";
  if (untilFinished(item) && fmt.FINISHED.has(job.state)) return "being deleted";
  return countdownText(job.original_deadline, now, "deleted in", "due for deletion");
}

export function resultText(item, now) {
  const job = item.job;
  if (!job) return "–";
  if (!fmt.FINISHED.has(job.state)) return "kept once done";
  if (job.state === "failed") return "none";
  if (job.result_deleted_at) return "deleted";
  return countdownText(job.result_deadline, now, "expires in", "expired");
}

function countdownText(deadline, now, prefix, past) {
  if (!deadline) return "–";
  const seconds = (Date.parse(deadline) - now) / 1000;
  return seconds > 0 ? `${prefix} ${fmt.duration(seconds)}` : past;
}
