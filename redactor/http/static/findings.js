// Findings drawn over a redacted image, and their legend: boxes and counts by kind.
// Boxes come from the job's report (kinds, boxes and frames only: never any text).

import * as fmt from "./format.js";

// The findings of the report over the image (a card's, or the large view's). The figure
// takes the output's aspect ratio, so percentage boxes line up at any size.
export function drawFindings(figure, overlay, report) {
  const { width, height } = report.output || {};
  overlay.replaceChildren();
  if (!width || !height) return;
  figure.style.setProperty("--ratio", String(width / height));
  overlay.append(...firstFrame(report).map((finding) => findingBox(finding, width, height)));
}

// An animation's first frame is what the image shows; other frames are counted only.
function firstFrame(report) {
  return report.findings.filter((finding) => !finding.frame);
}

// Boxes are in the output image's pixels; percentages scale them with the image.
function findingBox(finding, width, height) {
  const [x0, y0, x1, y1] = finding.box;
  const box = document.createElement("span");
  box.className = `box family-${fmt.kindFamily(finding.kind)} ${fmt.kindClass(finding.kind)}`;
  box.dataset.kind = finding.kind;
  box.style.left = `${(100 * x0) / width}%`;
  box.style.top = `${(100 * y0) / height}%`;
  box.style.width = `${(100 * (x1 - x0)) / width}%`;
  box.style.height = `${(100 * (y1 - y0)) / height}%`;
  const tag = document.createElement("span");
  tag.className = "box-tag";
  tag.textContent = fmt.kindLabel(finding.kind);
  box.append(tag);
  return box;
}

export function drawLegend(legend, report) {
  const counts = new Map();
  for (const finding of report.findings) {
    counts.set(finding.kind, (counts.get(finding.kind) || 0) + 1);
  }
  const onOtherFrames = report.findings.length - firstFrame(report).length;
  const entries = [...counts].sort((a, b) => b[1] - a[1]);
  legend.replaceChildren(...entries.map(([kind, count]) => legendEntry(kind, count)));
  if (!entries.length) legend.append(legendNote("Nothing found to redact; metadata removed."));
  if (onOtherFrames) legend.append(legendNote(`${onOtherFrames} on other frames`));
  legend.hidden = false;
}

function legendEntry(kind, count) {
  const entry = document.createElement("li");
  entry.className = `legend-entry family-${fmt.kindFamily(kind)} ${fmt.kindClass(kind)}`;
  entry.dataset.kind = kind;
  const swatch = document.createElement("span");
  swatch.className = "swatch";
  swatch.setAttribute("aria-hidden", "true");
  const label = document.createElement("span");
  label.textContent = `${fmt.kindLabel(kind)} `;
  const number = document.createElement("strong");
  number.className = "legend-count";
  number.textContent = String(count);
  entry.append(swatch, label, number);
  return entry;
}

function legendNote(text) {
  const note = document.createElement("li");
  note.className = "legend-note";
  note.textContent = text;
  return note;
}
