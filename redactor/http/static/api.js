// The HTTP API as the page uses it. Every call sends the key as a Bearer header; the key
// never goes into a URL or a cookie.

export class ApiError extends Error {
  constructor(status, message, retryAfter) {
    super(message);
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

export class NetworkError extends Error {}

// FastAPI's `detail` is a sentence, or a list of {loc, msg} for invalid fields.
function detailText(body, status) {
  const detail = body && body.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail.map((item) => `${fieldName(item.loc)}${item.msg}`).join("; ");
  }
  return `the server answered ${status}`;
}

function fieldName(loc) {
  const name = Array.isArray(loc) ? loc.filter((part) => part !== "body").join(".") : "";
  return name ? `${name}: ` : "";
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function retryAfterSeconds(value) {
  const seconds = Number.parseInt(value || "", 10);
  return Number.isFinite(seconds) && seconds > 0 ? seconds : null;
}

async function errorOf(response) {
  const body = parseJson(await response.text());
  const retryAfter = retryAfterSeconds(response.headers.get("Retry-After"));
  return new ApiError(response.status, detailText(body, response.status), retryAfter);
}

export class Api {
  constructor(key) {
    this.key = key;
  }

  headers() {
    return { Authorization: `Bearer ${this.key}` };
  }

  async request(path, { method = "GET", body, headers = {}, as = "json" } = {}) {
    let response;
    try {
      response = await fetch(path, {
        method,
        body,
        headers: { ...this.headers(), ...headers },
        cache: "no-store",
        credentials: "omit",
        referrerPolicy: "no-referrer",
      });
    } catch {
      throw new NetworkError("The server could not be reached.");
    }
    if (!response.ok) throw await errorOf(response);
    if (as === "blob") return response.blob();
    if (as === "none") return null;
    return response.json();
  }

  check() {
    return this.request("/v1/uploads?limit=1");
  }

  list(cursor) {
    const query = new URLSearchParams({ limit: "20" });
    if (cursor) query.set("cursor", cursor);
    return this.request(`/v1/uploads?${query}`);
  }

  job(id, wait) {
    return this.request(`/v1/jobs/${encodeURIComponent(id)}?wait=${wait}`);
  }

  result(id) {
    return this.request(`/v1/jobs/${encodeURIComponent(id)}/result`, { as: "blob" });
  }

  report(id) {
    return this.request(`/v1/jobs/${encodeURIComponent(id)}/report`);
  }

  erase(id) {
    return this.request(`/v1/uploads/${encodeURIComponent(id)}`, { method: "DELETE", as: "none" });
  }

  // One file per request, so each has its own progress, outcome and retry. The file is
  // sent under a neutral name: its real name never leaves the browser.
  upload(file, fields, onProgress) {
    const xhr = new XMLHttpRequest();
    const done = new Promise((resolve, reject) => {
      xhr.open("POST", "/v1/uploads");
      xhr.setRequestHeader("Authorization", `Bearer ${this.key}`);
      xhr.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) onProgress(event.loaded / event.total);
      });
      xhr.addEventListener("load", () => settleUpload(xhr, resolve, reject));
      xhr.addEventListener("error", () => reject(new NetworkError("The network failed during the upload.")));
      xhr.addEventListener("abort", () => reject(new NetworkError("The upload was stopped.")));
      xhr.send(uploadForm(file, fields));
    });
    return { done, abort: () => xhr.abort() };
  }
}

function uploadForm(file, fields) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append("files", file, "image");
  return form;
}

function settleUpload(xhr, resolve, reject) {
  const body = parseJson(xhr.responseText);
  if (xhr.status === 202 && body && Array.isArray(body.jobs) && body.jobs.length === 1) {
    resolve(body.jobs[0]);
    return;
  }
  const retryAfter = retryAfterSeconds(xhr.getResponseHeader("Retry-After"));
  reject(new ApiError(xhr.status, detailText(body, xhr.status), retryAfter));
}
