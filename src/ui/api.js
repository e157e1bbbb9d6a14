// The admin API as the console calls it. The master key lives in sessionStorage only: it is
// gone when the tab closes, and never reaches localStorage, cookies or the URL.

const STORAGE_KEY = 'konnect.masterKey';

export const session = {
  get key() {
    return sessionStorage.getItem(STORAGE_KEY);
  },
  signIn(key) {
    sessionStorage.setItem(STORAGE_KEY, key);
  },
  signOut() {
    sessionStorage.removeItem(STORAGE_KEY);
  },
};

/** An error answer of the gateway: OpenAI-shaped `{ error: { message, code } }`. */
export class ApiError extends Error {
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let onUnauthorized = () => undefined;

/** Called when the admin API refuses the stored key (it changed, or was never right). */
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

async function request(path, { method = 'GET', body, key = session.key, headers = {} } = {}) {
  const res = await fetch(path, {
    method,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) {
    const answer = await res.json().catch(() => ({}));
    const error = new ApiError(res.status, answer?.error?.message ?? `${res.status} ${res.statusText}`, answer?.error?.code);
    if (res.status === 401 && path.startsWith('/admin/') && key === session.key) onUnauthorized(error);
    throw error;
  }
  return res;
}

/** Calls the gateway and answers the parsed JSON; throws ApiError on a non-2xx answer. */
export async function api(path, options) {
  return (await request(path, options)).json();
}

/** Like `api`, but answers the raw response (status, headers and body) even for errors. */
export async function call(path, options = {}) {
  try {
    return await request(path, options);
  } catch (err) {
    if (err instanceof ApiError) return { ok: false, status: err.status, error: err };
    throw err;
  }
}

/** Downloads a file the admin API answers (CSV reports) as `name`, or under the name it suggests. */
export async function download(path, name) {
  const res = await request(path);
  const disposition = res.headers.get('content-disposition') ?? '';
  name ??= /filename="([^"]+)"/.exec(disposition)?.[1] ?? 'download';
  const url = URL.createObjectURL(await res.blob());
  const link = Object.assign(document.createElement('a'), { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return name;
}

/** A query string from the defined, non-empty values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}
