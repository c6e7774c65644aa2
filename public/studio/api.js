// The studio page's HTTP client: bearer-token JSON calls, XHR uploads with progress, blobs.

export class ApiError extends Error {
  constructor(status, code, message, requestId) {
    super(message);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }
}

let token = null;
let onUnauthorized = () => {};

export const setToken = (t) => (token = t);
export const getToken = () => token;
/** Called once per 401 with its ApiError (the page goes back to the sign-in form). */
export const handleUnauthorized = (fn) => (onUnauthorized = fn);

function failure(status, body, fallback) {
  const e = body?.error;
  const err = new ApiError(status, e?.code ?? `http_${status}`, e?.message ?? fallback ?? `HTTP ${status}`, e?.request_id);
  if (status === 401) onUnauthorized(err);
  return err;
}

/** A JSON call; `body` (an object) is sent as JSON. Resolves to the parsed answer (or null). */
export async function api(path, { method = "GET", body } = {}) {
  const headers = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: the status says enough
  }
  if (!res.ok) throw failure(res.status, data);
  return data;
}

/** Uploads one file as raw bytes; `onProgress(fraction)` follows the request body. */
export function upload(file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/images?name=${encodeURIComponent(file.name.slice(0, 255) || "image")}`);
    xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => {
      let data = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch {
        // not JSON
      }
      if (xhr.status === 201) resolve(data);
      else reject(failure(xhr.status, data));
    };
    xhr.onerror = () => reject(new ApiError(0, "network", `${file.name}: the upload failed (network)`));
    xhr.send(file);
  });
}

/** Bytes as an object URL: `auth` sends the token (API routes), else the URL is a signed link. */
export async function blobUrl(url, auth = true) {
  const res = await fetch(url, { headers: auth ? { Authorization: `Bearer ${token}` } : {} });
  if (!res.ok) {
    const data = await res.json().catch(() => null);
    throw failure(res.status, data);
  }
  return URL.createObjectURL(await res.blob());
}

/** The tenant a token names (its `sub`), for display only: the server verifies it. */
export function tenantOf(t) {
  try {
    const b64 = t.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(b64)).sub ?? "";
  } catch {
    return "";
  }
}
