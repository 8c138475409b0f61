// Every error the app shows comes through here: the server's message and what to do, never a
// raw code or a stack. The API speaks two shapes: PostgREST's {code, message, details, hint}
// (REST and /functions/v1) and GoTrue's {code, error_code, msg} (/auth/v1).

export interface UserError {
  /** HTTP status, 0 when the request never reached the server. */
  status: number;
  /** Machine-readable code from the server (e.g. agent_limit_reached), or a local one. */
  code: string;
  /** What went wrong, in the server's words. */
  message: string;
  /** What to do about it, when the server said. */
  hint?: string;
  /** The field the error concerns (the server's `details`), when it named one. */
  field?: string;
  /** Seconds to wait, from Retry-After. */
  retryAfter?: number;
  /** A page in the app that fixes it (e.g. the keys page for a missing key). */
  fixPath?: string;
  /** Any other fields of the body (quota figures, upgrade plan…). */
  extra?: Record<string, unknown>;
}

const FIX_PATHS: Record<string, string> = {
  provider_key_missing: "/keys",
  provider_key_rejected: "/keys",
  agent_limit_reached: "/plans",
  quota_exceeded: "/plans",
  too_many_active_agents: "/agents",
  agent_suspended: "/agents",
  provider_key_unreadable: "/keys",
};

// Hints the API words for programs ("Retry after the seconds in Retry-After"), said for people.
const HUMAN_HINTS: Record<string, string> = {
  rate_limited: "Wait a minute and try again; a higher plan allows more requests a minute.",
  over_request_rate_limit: "Wait a moment and try again.",
};

const FALLBACK: Record<number, string> = {
  0: "Could not reach VoxFlow. Check your connection and try again.",
  401: "Your session has ended. Sign in again.",
  403: "You do not have permission to do that.",
  404: "That was not found. It may have been deleted.",
  413: "That is too large to send.",
  429: "Too many requests. Wait a moment and try again.",
  500: "Something went wrong on our side. Try again; if it keeps happening, contact support.",
  502: "A provider did not answer properly. Try again in a moment.",
  503: "VoxFlow is briefly unavailable. Try again in a moment.",
  504: "A provider took too long to answer. Try again.",
};

function fallbackMessage(status: number): string {
  return FALLBACK[status] ?? FALLBACK[Math.floor(status / 100) * 100] ?? "The request failed.";
}

function asString(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() ? value : undefined;
}

/** Field names the server puts in `details`: only a bare identifier counts as a field. */
function asField(value: unknown): string | undefined {
  const text = asString(value);
  return text && /^[a-z_][a-z0-9_.]*$/i.test(text) ? text : undefined;
}

/** The error an API answer body stands for (either shape). */
export function fromBody(status: number, body: unknown, retryAfter?: string | null): UserError {
  const data = (body && typeof body === "object" ? body : {}) as Record<string, unknown>;
  const code =
    asString(data.error_code) ??
    (typeof data.code === "string" ? data.code : undefined) ??
    asString(data.error) ??
    `http_${status}`;
  // A raw SQLSTATE (42501, XX000) or PGRST code comes with database text, no message for a person.
  const rawCode = /^([0-9A-Z]{5}|PGRST\d+)$/.test(code);
  const message =
    asString(data.msg) ??
    asString(data.message) ??
    asString(data.error_description) ??
    fallbackMessage(status);
  const { code: _c, error_code: _e, msg: _m, message: _msg, hint, details, ...extra } = data;
  const seconds = retryAfter ? Number.parseInt(retryAfter, 10) : Number.NaN;
  const fixPath = FIX_PATHS[code];
  const humanHint = HUMAN_HINTS[code];
  // A hint written for API callers ("PUT /functions/v1/api-keys/groq", "rpc/set_active_agents")
  // is no help on a page that links to the fix instead.
  const apiHint = /\/functions\/v1|\/rest\/v1|\brpc\/|\b(PUT|POST|PATCH|DELETE) \//.test(String(hint));
  const result: UserError = {
    status,
    code: rawCode ? `http_${status}` : code,
    message: rawCode ? fallbackMessage(status) : message,
    hint: humanHint ?? (fixPath && apiHint ? undefined : asString(hint)),
    field: asField(details),
    fixPath,
    extra,
  };
  if (Number.isFinite(seconds)) result.retryAfter = seconds;
  return result;
}

/** Any thrown thing (supabase-js errors, our fetch errors, network failures) as a UserError. */
export function toUserError(err: unknown): UserError {
  if (isUserError(err)) return err;
  if (err && typeof err === "object") {
    const e = err as Record<string, unknown>;
    const status = typeof e.status === "number" ? e.status : 0;
    // supabase-js AuthApiError: {status, code, message}; PostgrestError: {code, message, details, hint}
    if ("message" in e || "code" in e) {
      if (status === 0 && e.name === "AuthRetryableFetchError") return fromBody(0, {});
      if (e.name === "TypeError" || e.message === "Failed to fetch") return fromBody(0, {});
      return fromBody(status || 400, {
        code: e.code,
        message: e.message,
        details: e.details,
        hint: e.hint,
      });
    }
  }
  return fromBody(0, {});
}

export function isUserError(value: unknown): value is UserError {
  return (
    !!value &&
    typeof value === "object" &&
    "status" in value &&
    "code" in value &&
    "message" in value &&
    "extra" in value
  );
}

/** A thrown UserError, so TanStack Query and try/catch carry it whole. */
export class ApiFailure extends Error {
  readonly error: UserError;
  constructor(error: UserError) {
    super(error.message);
    this.error = error;
  }
}

export function describe(err: unknown): UserError {
  return err instanceof ApiFailure ? err.error : toUserError(err);
}

/**
 * Which of a form's fields an error concerns: the server's `details` when it names one of them,
 * else the field its code or message is about. Unplaced errors are shown above the form.
 */
export function fieldOf<F extends string>(error: UserError, fields: readonly F[]): F | null {
  if (error.field) {
    const named = fields.find((f) => f === error.field || error.field!.endsWith(`.${f}`));
    if (named) return named;
  }
  const byCode: Record<string, string> = {
    user_already_exists: "email",
    email_exists: "email",
    email_address_invalid: "email",
    weak_password: "password",
    same_password: "password",
  };
  const coded = byCode[error.code];
  if (coded && (fields as readonly string[]).includes(coded)) return coded as F;
  if (error.code === "validation_failed" || error.code === "invalid_agent") {
    const text = error.message.toLowerCase();
    const mentioned = fields.find((f) => text.includes(f.replace(/_/g, " ").toLowerCase()));
    if (mentioned) return mentioned;
  }
  return null;
}

/** Seconds to wait before trying again: Retry-After, or the "try again in N seconds" text. */
export function retrySeconds(error: UserError): number | null {
  if (error.retryAfter !== undefined) return error.retryAfter;
  const match = /try again in (\d+) seconds?/i.exec(error.message);
  return match ? Number(match[1]) : null;
}
