// The redactor page: sign in, upload, watch jobs, review findings, download, erase.
// Plain ES modules, no build step. The key lives in sessionStorage (this tab) only.

import { Api, ApiError, NetworkError } from "./api.js";
import * as fmt from "./format.js";
import { zipArchive } from "./zip.js";
import { originalText, resultText } from "./deadlines.js";
import { drawFindings, drawLegend } from "./findings.js";

const KEY_STORAGE = "redactor.apiKey";
const OPTIONS_STORAGE = "redactor.options";
const MAX_UPLOADS = 2; // uploads at once: the browser keeps six connections per server
const MAX_POLLS = 3; // long polls at once
const LONG_WAIT = 20; // seconds a poll may be held while few jobs are pending
const SHORT_WAIT = 2; // ...and while many are, so every job gets its turn
const NETWORK_RETRY_MS = 3000;

const $ = (selector, root = document) => root.querySelector(selector);

const page = {
  api: null,
  items: new Map(), // local id -> item
  nextLocalId: 1,
  uploadQueue: [],
  activeUploads: 0,
  pollQueue: [],
  activePolls: 0,
  earlierCursor: undefined,
  pendingDelete: null,
};

// ---- sign in and out -------------------------------------------------------------

function signInMessage(error) {
  if (error instanceof NetworkError) {
    return "The server could not be reached. Check your connection and try again.";
  }
  if (error.status === 401) {
    return "That API key was not accepted. Check that you pasted all of it (it starts with rdk_), or ask for a new one.";
  }
  if (error.status === 429) {
    return `Too many requests with this key. Try again in ${error.retryAfter || 60} seconds.`;
  }
  return `Signing in failed: ${error.message}`;
}

async function signIn(key, { restoring = false } = {}) {
  const api = new Api(key);
  setBusy($("#sign-in-button"), true);
  try {
    await api.check();
  } catch (error) {
    if (restoring && error.status === 401) sessionStorage.removeItem(KEY_STORAGE);
    showSignIn(signInMessage(error));
    return;
  } finally {
    setBusy($("#sign-in-button"), false);
  }
  page.api = api;
  sessionStorage.setItem(KEY_STORAGE, key);
  showWorkspace();
}

function showSignIn(message = "") {
  $("#workspace").hidden = true;
  $("#sign-out").hidden = true;
  $("#sign-in").hidden = false;
  const error = $("#sign-in-error");
  error.textContent = message;
  error.hidden = !message;
  $("#api-key").setAttribute("aria-invalid", message ? "true" : "false");
  $("#api-key").focus();
}

function showWorkspace() {
  $("#api-key").value = "";
  $("#sign-in").hidden = true;
  $("#workspace").hidden = false;
  $("#sign-out").hidden = false;
  $("#sign-in-error").hidden = true;
  announce("Signed in. Choose or drop images to redact them.");
  $("#file-input").focus();
}

function signOut(message = "") {
  sessionStorage.removeItem(KEY_STORAGE);
  page.api = null;
  for (const item of [...page.items.values()]) discard(item);
  page.uploadQueue = [];
  page.pollQueue = [];
  page.earlierCursor = undefined;
  $("#load-earlier").hidden = false;
  $("#load-earlier").textContent = "Show earlier uploads";
  updateToolbar();
  showSignIn(message);
}

function keyRejected() {
  signOut("Your API key is no longer accepted (revoked or changed). Sign in again.");
}

// ---- items ---------------------------------------------------------------------

function createItem({ name, file = null, fields = {}, job = null }) {
  const item = {
    localId: page.nextLocalId++,
    name,
    file,
    fields,
    job,
    jobId: job ? job.id : null,
    state: job ? job.state : "waiting",
    progress: 0,
    message: "",
    retriable: false,
    blob: null,
    blobUrl: null,
    report: null,
    selected: false,
    upload: null,
    element: renderItem(),
  };
  page.items.set(item.localId, item);
  wireItem(item);
  refresh(item);
  return item;
}

function renderItem() {
  return $("#item-template").content.firstElementChild.cloneNode(true);
}

function wireItem(item) {
  const element = item.element;
  $(".item-name", element).textContent = item.name;
  $(".item-name", element).title = item.name;
  $(".select-label", element).textContent = `Select ${item.name}`;
  $(".retry", element).setAttribute("aria-label", `Retry uploading ${item.name}`);
  $(".select-box", element).addEventListener("change", (event) => {
    item.selected = event.target.checked;
    updateToolbar();
  });
  $(".show-findings", element).addEventListener("change", (event) => {
    element.classList.toggle("findings-hidden", !event.target.checked);
  });
  $(".retry", element).addEventListener("click", () => retryUpload(item));
  $(".enlarge", element).addEventListener("click", () => openViewer(item));
  $(".delete", element).addEventListener("click", () => askDelete(item));
}

function setState(item, state, message = "") {
  item.state = state;
  item.message = message;
  refresh(item);
}

// Brings the item's element in line with its state.
function refresh(item) {
  const element = item.element;
  const done = item.state === "done";
  element.dataset.state = item.state;
  if (item.jobId) element.dataset.jobId = item.jobId;
  $(".badge", element).textContent = fmt.STATE_LABELS[item.state] || item.state;
  $(".message", element).textContent = item.message;
  $(".message", element).hidden = !item.message;
  $(".placeholder-text", element).textContent = placeholderText(item);
  const progress = $(".progress", element);
  progress.hidden = item.state !== "uploading";
  progress.value = Math.round(item.progress * 100);
  progress.setAttribute("aria-label", `Upload of ${item.name}`);
  $(".retry", element).hidden = !item.retriable;
  const remove = item.jobId ? "Delete" : "Remove"; // nothing stored yet: nothing to erase
  $(".delete", element).textContent = remove;
  $(".delete", element).setAttribute("aria-label", `${remove} ${item.name}`);
  $(".select", element).hidden = !(done && item.blob);
  $(".toggle", element).hidden = !(done && item.report);
  $(".download", element).hidden = !(done && item.blobUrl);
  refreshDeadlines(item, Date.now());
}

function placeholderText(item) {
  switch (item.state) {
    case "waiting":
      return "Waiting to upload…";
    case "uploading":
      return `Uploading ${Math.round(item.progress * 100)} %`;
    case "received":
    case "queued":
      return "Waiting for a worker…";
    case "processing":
      return "Finding faces and personal text…";
    case "done":
      return item.blobUrl ? "" : "Fetching the redacted image…";
    default:
      return "No redacted image";
  }
}

function discard(item) {
  if (item.upload) item.upload.abort();
  if (item.blobUrl) URL.revokeObjectURL(item.blobUrl);
  item.blobUrl = null;
  item.element.remove();
  page.items.delete(item.localId);
  page.uploadQueue = page.uploadQueue.filter((queued) => queued !== item);
  page.pollQueue = page.pollQueue.filter((queued) => queued !== item);
}

// ---- uploading ------------------------------------------------------------------

function addFiles(files) {
  const images = [...files].filter((file) => file.size > 0 || file.type);
  if (!images.length) return;
  const fields = uploadFields();
  const batch = images.map((file) => createItem({ name: file.name || "image", file, fields }));
  $("#items").prepend(...batch.map((item) => item.element));
  page.uploadQueue.push(...batch);
  updateToolbar();
  announce(`${images.length} ${images.length === 1 ? "image" : "images"} added.`);
  pumpUploads();
}

function pumpUploads() {
  while (page.api && page.activeUploads < MAX_UPLOADS && page.uploadQueue.length) {
    startUpload(page.uploadQueue.shift());
  }
}

function startUpload(item) {
  page.activeUploads += 1;
  item.retriable = false;
  item.progress = 0;
  setState(item, "uploading");
  item.upload = page.api.upload(item.file, item.fields, (fraction) => {
    item.progress = fraction;
    refresh(item);
  });
  item.upload.done
    .then((job) => uploaded(item, job))
    .catch((error) => uploadFailed(item, error))
    .finally(() => {
      item.upload = null;
      page.activeUploads -= 1;
      pumpUploads();
    });
}

function uploaded(item, job) {
  item.job = job;
  item.jobId = job.id;
  item.file = null; // the browser may let go of the original now
  setState(item, job.state);
  announce(`${item.name} uploaded; waiting for redaction.`);
  enqueuePoll(item);
}

function uploadFailed(item, error) {
  if (!page.items.has(item.localId)) return; // removed meanwhile
  if (error instanceof ApiError && error.status === 401) {
    keyRejected();
    return;
  }
  const transient = error instanceof NetworkError || [429, 503].includes(error.status);
  item.retriable = transient;
  const wait = error.retryAfter ? ` Retry in ${error.retryAfter} s or later.` : "";
  const message = transient
    ? `Upload failed: ${error.message}${wait}`
    : `Refused by the server: ${error.message}`;
  setState(item, transient ? "upload-error" : "rejected", message);
  announce(`${item.name}: ${message}`);
}

function retryUpload(item) {
  if (!item.file || item.state !== "upload-error") return;
  item.retriable = false;
  setState(item, "waiting");
  page.uploadQueue.push(item);
  pumpUploads();
  $(".delete", item.element).focus();
}

// Only the options the user set are sent: the rest are the server's defaults.
function uploadFields() {
  const form = $("#options");
  const fields = {};
  for (const name of ["text", "codes", "icc", "original_retention", "result_retention"]) {
    if (form.elements[name].value) fields[name] = form.elements[name].value;
  }
  const styles = [...form.querySelectorAll("[data-style-kind]")]
    .filter((select) => select.value)
    .map((select) => `${select.dataset.styleKind}=${select.value}`);
  if (styles.length) fields.styles = styles.join(",");
  return fields;
}

// ---- following jobs --------------------------------------------------------------

function enqueuePoll(item) {
  if (!page.pollQueue.includes(item)) page.pollQueue.push(item);
  pumpPolls();
}

function pumpPolls() {
  while (page.api && page.activePolls < MAX_POLLS && page.pollQueue.length) {
    poll(page.pollQueue.shift());
  }
}

async function poll(item) {
  page.activePolls += 1;
  const crowded = page.pollQueue.length + page.activePolls > MAX_POLLS;
  const api = page.api;
  try {
    const job = await api.job(item.jobId, crowded ? SHORT_WAIT : LONG_WAIT);
    if (page.items.has(item.localId)) jobUpdated(item, job);
  } catch (error) {
    if (page.api === api) pollFailed(item, error);
  } finally {
    page.activePolls -= 1;
    pumpPolls();
  }
}

function jobUpdated(item, job) {
  item.job = job;
  if (!fmt.FINISHED.has(job.state)) {
    setState(item, job.state);
    enqueuePoll(item);
  } else if (job.state === "done") {
    setState(item, "done");
    loadResult(item);
  } else {
    showFailure(item, job);
  }
}

function showFailure(item, job) {
  const failure = job.failure || { code: "failed", message: "no reason given" };
  setState(item, "failed", `Not redacted: ${failure.message} (${failure.code})`);
  announce(`${item.name} failed: ${failure.message}`);
}

function pollFailed(item, error) {
  if (!page.items.has(item.localId)) return;
  if (error instanceof ApiError && error.status === 401) return keyRejected();
  if (error instanceof ApiError && error.status === 404) return vanished(item);
  const delay = error.retryAfter ? error.retryAfter * 1000 : NETWORK_RETRY_MS;
  item.message = "Lost contact with the server; trying again…";
  refresh(item);
  setTimeout(() => {
    if (!page.items.has(item.localId)) return;
    item.message = "";
    enqueuePoll(item);
  }, delay);
}

function vanished(item) {
  announce(`${item.name} no longer exists on the server (deleted elsewhere).`);
  discard(item);
  updateToolbar();
}

// ---- results and findings ---------------------------------------------------------

async function loadResult(item) {
  try {
    const [blob, report] = await Promise.all([
      page.api.result(item.jobId),
      page.api.report(item.jobId),
    ]);
    if (!page.items.has(item.localId)) return;
    showResult(item, blob, report);
  } catch (error) {
    resultFailed(item, error);
  }
}

function showResult(item, blob, report) {
  item.blob = blob;
  item.blobUrl = URL.createObjectURL(blob);
  item.report = report;
  const element = item.element;
  const figure = $(".figure", element);
  showFigure(item, figure, $(".result-image", element), $(".overlay", element));
  figure.setAttribute("aria-label", `Enlarge ${item.name}`);
  figure.hidden = false;
  $(".placeholder", element).hidden = true;
  const download = $(".download", element);
  download.href = item.blobUrl;
  download.download = fmt.resultName(item.name, item.job.output_format);
  download.setAttribute("aria-label", `Download ${item.name}, redacted`);
  drawLegend($(".legend", element), report);
  refresh(item);
  updateToolbar();
  const count = report.findings.length;
  announce(`${item.name} is done: ${count} ${count === 1 ? "finding" : "findings"} redacted.`);
}

function resultFailed(item, error) {
  if (!page.items.has(item.localId)) return;
  if (error instanceof ApiError && error.status === 401) return keyRejected();
  if (error instanceof ApiError && error.status === 404) return vanished(item);
  const message =
    error instanceof ApiError && error.status === 410
      ? "The redacted image was deleted when its retention ended."
      : `The redacted image could not be fetched: ${error.message}`;
  setState(item, "done", message);
}

// The redacted image with its findings drawn over it (a card's, or the large view's).
function showFigure(item, figure, image, overlay) {
  image.src = item.blobUrl;
  image.alt = `${item.name}, redacted`;
  drawFindings(figure, overlay, item.report);
}

function openViewer(item) {
  if (!item.report) return;
  $("#viewer-title").textContent = item.name;
  const body = $("#viewer-body");
  showFigure(item, $(".figure", body), $("#viewer-image"), $("#viewer-overlay"));
  drawLegend($("#viewer-legend"), item.report);
  $("#viewer").showModal();
}

// ---- retention countdowns ---------------------------------------------------------

function refreshDeadlines(item, now) {
  $(".original-deadline", item.element).textContent = originalText(item, now);
  $(".result-deadline", item.element).textContent = resultText(item, now);
}

function tick() {
  const now = Date.now();
  for (const item of page.items.values()) refreshDeadlines(item, now);
}

// ---- selection, downloads and deletion ----------------------------------------------

function doneItems() {
  return [...page.items.values()].filter((item) => item.state === "done" && item.blob);
}

function selectedItems() {
  return doneItems().filter((item) => item.selected);
}

function updateToolbar() {
  const count = page.items.size;
  $("#item-count").textContent = count ? `(${count})` : "";
  $("#empty").hidden = count > 0;
  const selected = selectedItems().length;
  const download = $("#download-selected");
  download.disabled = selected === 0;
  download.textContent = selected ? `Download selected (${selected})` : "Download selected";
  $("#select-all").disabled = doneItems().length === 0;
}

function selectAllDone() {
  const items = doneItems();
  const select = !items.every((item) => item.selected);
  for (const item of items) {
    item.selected = select;
    $(".select-box", item.element).checked = select;
  }
  updateToolbar();
}

async function downloadSelected() {
  const items = selectedItems();
  if (!items.length) return;
  const names = fmt.uniqueNames(items.map((item) => fmt.resultName(item.name, item.job.output_format)));
  const archive = await zipArchive(items.map((item, index) => ({ name: names[index], blob: item.blob })));
  saveBlob(archive, "redacted-images.zip");
  announce(`Downloading ${items.length} redacted ${items.length === 1 ? "image" : "images"} as one archive.`);
}

function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function askDelete(item) {
  if (!item.jobId) {
    discard(item);
    updateToolbar();
    announce(`${item.name} removed.`);
    $("#file-input").focus();
    return;
  }
  page.pendingDelete = item;
  $("#confirm-text").textContent =
    `“${item.name}”: its original, redacted image and report are erased from the server ` +
    "now. This cannot be undone.";
  const dialog = $("#confirm-delete");
  dialog.returnValue = ""; // Escape keeps the last value: never let it mean "delete"
  dialog.showModal();
}

async function confirmDelete() {
  const item = page.pendingDelete;
  page.pendingDelete = null;
  if (!item || !page.items.has(item.localId)) return;
  const focusNext = neighbourFocus(item);
  try {
    await page.api.erase(item.jobId);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return keyRejected();
    if (!(error instanceof ApiError && error.status === 404)) {
      setState(item, item.state, `Not deleted: ${error.message}`);
      return;
    }
  }
  discard(item);
  updateToolbar();
  announce(`${item.name} deleted: original, result and report erased.`);
  focusNext.focus();
}

// Where focus goes when an item disappears: the next item's delete button, or the picker.
function neighbourFocus(item) {
  const next = item.element.nextElementSibling || item.element.previousElementSibling;
  return next ? $(".delete", next) : $("#file-input");
}

// ---- earlier uploads -------------------------------------------------------------

async function loadEarlier() {
  const button = $("#load-earlier");
  setBusy(button, true);
  try {
    const listing = await page.api.list(page.earlierCursor);
    addEarlier(listing.items);
    page.earlierCursor = listing.next_cursor;
    button.hidden = !listing.next_cursor;
    button.textContent = "Show more earlier uploads";
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return keyRejected();
    announce(`Earlier uploads could not be listed: ${error.message}`);
  } finally {
    setBusy(button, false);
  }
}

function addEarlier(jobs) {
  const known = new Set([...page.items.values()].map((item) => item.jobId));
  const fresh = jobs.filter((job) => !known.has(job.id));
  for (const job of fresh) {
    const item = createItem({ name: `Uploaded ${fmt.shortTime(job.created_at)}`, job });
    $("#items").append(item.element);
    jobUpdated(item, job);
  }
  updateToolbar();
  announce(fresh.length ? `${fresh.length} earlier uploads shown.` : "No other earlier uploads.");
}

// ---- small helpers and wiring ------------------------------------------------------

function announce(text) {
  const status = $("#status");
  status.textContent = "";
  // A fresh text node after a tick, so screen readers announce repeats too.
  setTimeout(() => {
    status.textContent = text;
  }, 50);
}

function setBusy(button, busy) {
  button.disabled = busy;
  button.setAttribute("aria-busy", String(busy));
}

function saveOptions() {
  const values = Object.fromEntries(new FormData($("#options")));
  sessionStorage.setItem(OPTIONS_STORAGE, JSON.stringify(values));
}

function restoreOptions() {
  const form = $("#options");
  let saved = {};
  try {
    saved = JSON.parse(sessionStorage.getItem(OPTIONS_STORAGE) || "{}");
  } catch {
    sessionStorage.removeItem(OPTIONS_STORAGE);
  }
  for (const [name, value] of Object.entries(saved)) {
    if (form.elements[name]) form.elements[name].value = value;
  }
}

function wireDropZone() {
  const zone = $("#drop-zone");
  const hovering = (on) => zone.classList.toggle("dragging", on);
  zone.addEventListener("dragenter", (event) => {
    event.preventDefault();
    hovering(true);
  });
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });
  zone.addEventListener("dragleave", (event) => {
    if (!zone.contains(event.relatedTarget)) hovering(false);
  });
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    hovering(false);
    addFiles(event.dataTransfer.files);
  });
  // A file dropped beside the zone must not make the browser open (and show) the original.
  for (const type of ["dragover", "drop"]) {
    window.addEventListener(type, (event) => event.preventDefault());
  }
}

function wire() {
  $("#sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = $("#api-key").value.trim();
    if (!key) return showSignIn("Enter your API key first.");
    signIn(key);
  });
  $("#sign-out").addEventListener("click", () => signOut());
  $("#file-input").addEventListener("change", (event) => {
    addFiles(event.target.files);
    event.target.value = "";
  });
  $("#options").addEventListener("change", saveOptions);
  $("#viewer").addEventListener("close", () => $("#viewer-image").removeAttribute("src"));
  $("#viewer-findings").addEventListener("change", (event) => {
    $("#viewer-body").classList.toggle("findings-hidden", !event.target.checked);
  });
  $("#select-all").addEventListener("click", selectAllDone);
  $("#download-selected").addEventListener("click", downloadSelected);
  $("#load-earlier").addEventListener("click", loadEarlier);
  $("#confirm-delete").addEventListener("close", () => {
    if ($("#confirm-delete").returnValue === "delete") confirmDelete();
    else page.pendingDelete = null;
  });
  wireDropZone();
  setInterval(tick, 1000);
}

function start() {
  wire();
  restoreOptions();
  updateToolbar();
  const key = sessionStorage.getItem(KEY_STORAGE);
  if (key) signIn(key, { restoring: true });
  else showSignIn();
}

start();
