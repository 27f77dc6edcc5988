// Words, numbers and names shown on the page: pure functions, no DOM.

const KIND_LABELS = {
  face: "Face",
  text: "Text",
  "code.qr": "QR code",
  "code.barcode": "Barcode",
  "pii.name": "Name",
  "pii.address": "Address",
  "pii.phone": "Phone",
  "pii.email": "Email",
  "pii.iban": "IBAN",
  "pii.card": "Card number",
  "pii.tracking": "Tracking number",
  "pii.plate": "Licence plate",
  "pii.dob": "Date of birth",
  "pii.national_id": "National ID",
  "pii.denied": "Listed term",
};

export function kindLabel(kind) {
  if (KIND_LABELS[kind]) return KIND_LABELS[kind];
  const [, rest] = kind.split(".", 2);
  const words = (rest || kind).replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

// face, text (personal text and text) or code: the box's line style.
export function kindFamily(kind) {
  if (kind === "face") return "face";
  if (kind.startsWith("code")) return "code";
  return "text";
}

// A CSS class per kind (its colour); unknown kinds fall back to their family's colour.
export function kindClass(kind) {
  return `kind-${kind.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}`;
}

export function duration(totalSeconds) {
  const seconds = Math.max(0, Math.round(totalSeconds));
  const days = Math.floor(seconds / 86400);
  const hours = Math.floor((seconds % 86400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  if (days) return `${days}d ${hours}h`;
  if (hours) return `${hours}h ${minutes}m`;
  if (minutes) return `${minutes}m ${seconds % 60}s`;
  return `${seconds}s`;
}

// "14:05" today, "3 Mar 14:05" on another day.
export function shortTime(iso, now = new Date()) {
  const date = new Date(iso);
  const time = date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  if (date.toDateString() === now.toDateString()) return time;
  return `${date.toLocaleDateString(undefined, { day: "numeric", month: "short" })} ${time}`;
}

const EXTENSIONS = { jpeg: "jpg", tiff: "tif" };

// "holiday.heic" redacted to JPEG -> "holiday-redacted.jpg".
export function resultName(name, outputFormat) {
  const extension = EXTENSIONS[outputFormat] || outputFormat || "bin";
  const stem = name.replace(/\.[^.]*$/, "") || "image";
  return `${stem}-redacted.${extension}`;
}

// Names made unique for an archive: "a.jpg", "a (2).jpg".
export function uniqueNames(names) {
  const seen = new Map();
  return names.map((name) => {
    const count = (seen.get(name) || 0) + 1;
    seen.set(name, count);
    return count === 1 ? name : name.replace(/(\.[^.]*)?$/, ` (${count})$1`);
  });
}

// A job in one of these states changes no more.
export const FINISHED = new Set(["done", "failed"]);

export const STATE_LABELS = {
  waiting: "Waiting",
  uploading: "Uploading",
  "upload-error": "Not sent",
  rejected: "Refused",
  received: "Received",
  queued: "Queued",
  processing: "Processing",
  done: "Done",
  failed: "Failed",
};
