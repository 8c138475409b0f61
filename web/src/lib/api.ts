// Calls to the sidecar (/functions/v1) with the signed-in person's token. Plain fetch rather
// than functions.invoke: audio and file downloads need the raw response.
import { ApiFailure, fromBody } from "./errors";
import { config, supabase } from "./supabase";

export interface CallOptions {
  method?: string;
  json?: unknown;
  body?: BodyInit;
  headers?: Record<string, string>;
  query?: Record<string, string | number | boolean | undefined>;
  signal?: AbortSignal;
}

async function accessToken(): Promise<string | null> {
  const { data } = await supabase().auth.getSession();
  return data.session?.access_token ?? null;
}

export function functionsUrl(path: string, query?: CallOptions["query"]): string {
  const url = new URL(`${config().apiUrl}/functions/v1/${path.replace(/^\//, "")}`);
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined) url.searchParams.set(key, String(value));
  }
  return url.toString();
}

/** The raw response of a sidecar route; a non-2xx answer is thrown as an ApiFailure. */
export async function callRaw(path: string, options: CallOptions = {}): Promise<Response> {
  const token = await accessToken();
  const headers: Record<string, string> = { apikey: config().anonKey, ...options.headers };
  if (token) headers.Authorization = `Bearer ${token}`;
  let body = options.body;
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.json);
  }
  let response: Response;
  try {
    response = await fetch(functionsUrl(path, options.query), {
      method: options.method ?? (body ? "POST" : "GET"),
      headers,
      body,
      signal: options.signal,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") throw err;
    throw new ApiFailure(fromBody(0, {}));
  }
  if (!response.ok) {
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = {};
    }
    throw new ApiFailure(fromBody(response.status, parsed, response.headers.get("Retry-After")));
  }
  return response;
}

export async function callJson<T>(path: string, options: CallOptions = {}): Promise<T> {
  const response = await callRaw(path, options);
  const text = await response.text();
  return (text ? JSON.parse(text) : {}) as T;
}

/** Throws the PostgREST error of a supabase-js answer as an ApiFailure, else returns its data. */
export function unwrap<T>(result: {
  data: T | null;
  error: { code?: string; message: string; details?: string | null; hint?: string | null } | null;
  status?: number;
}): T {
  if (result.error) {
    throw new ApiFailure(
      fromBody(result.status ?? 400, {
        code: result.error.code,
        message: result.error.message,
        details: result.error.details,
        hint: result.error.hint,
      }),
    );
  }
  return result.data as T;
}

/** Save a streamed download (CSV exports) under `filename`. */
export async function download(path: string, filename: string, query?: CallOptions["query"]) {
  const response = await callRaw(path, { query });
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
