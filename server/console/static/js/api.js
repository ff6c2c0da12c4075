// The console's only way to the server: the public HTTP APIs, called with the tenant's
// API key as a Bearer token (RFC 6750 §2.1). Nothing here is console-only: a script with
// the same key can make every one of these calls.

const KEY = "ndtwin.key";
const TENANT = "ndtwin.tenant";

/** The signed-in session; the key lives in sessionStorage (gone when the tab closes). */
export const session = {
  key: sessionStorage.getItem(KEY),
  tenant: sessionStorage.getItem(TENANT),
};

/** An error answer of the API: HTTP status plus the parsed error body. */
export class ApiError extends Error {
  constructor(status, body) {
    const text = body?.message ?? body?.error?.message ?? `HTTP ${status}`;
    super(text);
    this.status = status;
    this.body = body;
  }
}

function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params ?? {})) {
    if (value === undefined || value === null || value === "") continue;
    for (const item of Array.isArray(value) ? value : [value]) search.append(name, item);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** One JSON request; throws ApiError on a non-2xx answer. */
export async function request(path, { method = "GET", params, body, key = session.key,
                                      signal } = {}) {
  const headers = { Accept: "application/json" };
  if (key) headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  // credentials "omit": a 401 carries WWW-Authenticate: Basic, and with credentials the
  // browser would answer it with its own login dialog (Fetch standard §4.5, step 14).
  const response = await fetch(path + query(params), {
    method, headers, signal, credentials: "omit",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = { message: text }; }
  }
  if (!response.ok) {
    if (response.status === 401 && key === session.key) window.dispatchEvent(new Event("ndtwin:unauthorized"));
    throw new ApiError(response.status, data);
  }
  return data;
}

/** Check a key with Ditto's whoami and remember it with its tenant. */
export async function signIn(key) {
  const who = await request("/api/2/whoami", { key });
  const subject = who.defaultSubject ?? "";
  const tenant = subject.slice(subject.indexOf(":") + 1);
  session.key = key;
  session.tenant = tenant;
  sessionStorage.setItem(KEY, key);
  sessionStorage.setItem(TENANT, tenant);
  return tenant;
}

export function signOut() {
  session.key = null;
  session.tenant = null;
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(TENANT);
}

/** `tenants/{t}/twins/{id}`: the /v1 resource name of a twin. */
export function twinName(thingId) {
  return `tenants/${session.tenant}/twins/${thingId}`;
}

/** The thing id at the end of a /v1 twin resource name. */
export function thingIdOf(name) {
  return name.slice(name.indexOf("/twins/") + 7);
}

const enc = encodeURIComponent;

/** A twin as Ditto JSON (GET /api/2/things/{id}). */
export function getThing(thingId, fields) {
  return request(`/api/2/things/${enc(thingId)}`, { params: { fields } });
}

/** One page of a Ditto search (GET /api/2/search/things). */
export function searchThings({ namespaces, filter, fields, size = 200, cursor, sort = "+thingId" } = {}) {
  const option = [`size(${size})`, `sort(${sort})`];
  if (cursor) option.push(`cursor(${cursor})`);
  return request("/api/2/search/things", {
    params: { namespaces, filter, fields, option: option.join(",") },
  });
}

/** Every twin of a search, page by page (stops after `limit`). */
export async function searchAll(options, limit = 5000) {
  const items = [];
  let cursor;
  do {
    const page = await searchThings({ ...options, cursor });
    items.push(...page.items);
    cursor = page.cursor;
  } while (cursor && items.length < limit);
  return items;
}

/** How many twins match (GET /api/2/search/things/count). */
export function countThings({ namespaces, filter } = {}) {
  return request("/api/2/search/things/count", { params: { namespaces, filter } });
}

/** Relationships of the tenant (/v1 ListRelationships, AIP-160 filter), every page. */
export async function listRelationships({ source, target, type } = {}, limit = 20000) {
  const terms = [];
  if (source) terms.push(`source = "${twinName(source)}"`);
  if (target) terms.push(`target = "${twinName(target)}"`);
  if (type) terms.push(`type = "${type}"`);
  const out = [];
  let token;
  do {
    const page = await request(`/v1/tenants/${session.tenant}/relationships`, {
      params: { filter: terms.join(" AND "), page_size: 1000, page_token: token },
    });
    out.push(...(page.relationships ?? []));
    token = page.nextPageToken;
  } while (token && out.length < limit);
  return out;
}

/**
 * History of one leaf (/v1 QueryHistory): points, or buckets when `bucketSeconds` is set.
 * Times are Date objects or epoch milliseconds.
 */
export function history(thingId, path, start, end, bucketSeconds) {
  return request(`/v1/${twinName(thingId).split("/").map(enc).join("/")}:history`, {
    params: {
      path,
      start_time: new Date(start).toISOString(),
      end_time: new Date(end).toISOString(),
      bucket: bucketSeconds ? `${Math.max(1, Math.round(bucketSeconds))}s` : undefined,
    },
  });
}

/** Models the tenant can use (/v1 ListModels). */
export async function listModels() {
  const page = await request("/v1/models", { params: { page_size: 1000 } });
  return page.models ?? [];
}

/** A model with one compiled view (/v1 GetModel, view = MODEL_VIEW_*). */
export function getModel(name, view) {
  return request(`/v1/${name}`, { params: { view } });
}

/** An analytics call (/v1/analytics/...). */
export function analytics(path, params, body) {
  return request(`/v1/analytics/${path}`, body === undefined
    ? { params } : { method: "POST", params, body });
}

/**
 * Follow Ditto's server-sent change stream (GET /api/2/things, text/event-stream) with the
 * key in a header, which EventSource cannot send: fetch reads the stream instead and the
 * parser follows WHATWG HTML §9.2.6. Reconnects after a drop with Last-Event-ID so no
 * change is missed. Returns a function that stops it.
 */
export function followChanges(params, onEvent, onState = () => {}) {
  const controller = new AbortController();
  let lastId = null;
  let stopped = false;

  async function run() {
    while (!stopped) {
      try {
        const headers = { Accept: "text/event-stream", Authorization: `Bearer ${session.key}` };
        if (lastId) headers["Last-Event-ID"] = lastId;
        const response = await fetch(`/api/2/things${query(params)}`, {
          headers, signal: controller.signal, credentials: "omit",
        });
        if (!response.ok) throw new ApiError(response.status, null);
        onState(true);
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, "");
            const data = [];
            for (const line of block.split(/\r?\n/)) {
              if (line.startsWith(":")) continue;
              const colon = line.indexOf(":");
              const field = colon < 0 ? line : line.slice(0, colon);
              const val = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
              if (field === "id") lastId = val;
              else if (field === "data") data.push(val);
            }
            if (data.length) {
              try { onEvent(JSON.parse(data.join("\n"))); } catch (err) { console.warn(err); }
            }
          }
        }
      } catch (err) {
        if (stopped) return;
        console.warn("change stream:", err.message);
      }
      onState(false);
      if (!stopped) await new Promise((r) => setTimeout(r, 2000));
    }
  }
  run();
  return () => { stopped = true; controller.abort(); };
}
