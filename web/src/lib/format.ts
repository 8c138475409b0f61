// Numbers, money, time and billing periods as a person reads them. Plain functions, unit tested.

const whole = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

export function formatNumber(value: number | string | null | undefined): string {
  const n = Number(value ?? 0);
  return whole.format(Number.isFinite(n) ? n : 0);
}

/** Dollars with cents; sub-cent amounts keep enough digits to not read as zero. */
export function formatUsd(value: number | string | null | undefined): string {
  const n = Number(value ?? 0);
  if (!Number.isFinite(n) || n === 0) return "$0.00";
  if (Math.abs(n) < 0.0001) return n > 0 ? "< $0.0001" : "> -$0.0001";
  const digits = Math.abs(n) < 0.01 ? 4 : 2;
  return new Intl.NumberFormat("en-US", {
    style: "currency",
    currency: "USD",
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(n);
}

export function formatPercent(value: number | string | null | undefined): string {
  const n = Number(value ?? 0);
  return `${Number.isFinite(n) ? Math.round(n) : 0}%`;
}

/** Seconds as "1 min 05 s" / "42 s" / "2 h 03 min". */
export function formatDuration(seconds: number | string | null | undefined): string {
  const total = Math.max(0, Math.round(Number(seconds ?? 0)));
  if (total < 60) return `${total} s`;
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h} h ${String(m).padStart(2, "0")} min`;
  return `${m} min ${String(s).padStart(2, "0")} s`;
}

export function formatMinutes(seconds: number | string | null | undefined): string {
  const minutes = Number(seconds ?? 0) / 60;
  if (!Number.isFinite(minutes) || minutes === 0) return "0 min";
  return `${minutes < 10 ? minutes.toFixed(1) : Math.round(minutes)} min`;
}

/** A moment in the viewer's own time zone (the tenant pages), or in UTC, named as such. */
export function formatDateTime(value: string | null | undefined, zone?: "UTC"): string {
  if (!value) return "—";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return "—";
  const text = date.toLocaleString("en-GB", {
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    timeZone: zone,
  });
  return zone ? `${text} UTC` : text;
}

/** The admin console states every time in UTC. */
export function formatUtc(value: string | null | undefined): string {
  return formatDateTime(value, "UTC");
}

export function formatDate(value: string | null | undefined): string {
  if (!value) return "—";
  const date = new Date(value.length === 10 ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(date.getTime())) return "—";
  return date.toLocaleDateString("en-GB", {
    day: "numeric",
    month: "short",
    year: "numeric",
    timeZone: "UTC",
  });
}

/** "3 minutes ago", "just now", "in 2 days" — for freshness and timestamps. */
export function formatRelative(value: string | null | undefined, now: Date = new Date()): string {
  if (!value) return "never";
  const then = new Date(value).getTime();
  if (Number.isNaN(then)) return "never";
  const seconds = Math.round((then - now.getTime()) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return "just now";
  const units: [Intl.RelativeTimeFormatUnit, number][] = [
    ["minute", 60],
    ["hour", 3600],
    ["day", 86400],
    ["month", 2592000],
    ["year", 31536000],
  ];
  let unit: Intl.RelativeTimeFormatUnit = "minute";
  let size = 60;
  for (const [u, s] of units) if (abs >= s) [unit, size] = [u, s];
  return new Intl.RelativeTimeFormat("en", { numeric: "auto" }).format(
    Math.round(seconds / size),
    unit,
  );
}

// --- Billing periods: calendar months in UTC, as the database keeps them ---------------------

export interface Period {
  start: Date; // first day, 00:00 UTC
  end: Date; // first day of the next month, 00:00 UTC (exclusive)
}

export function periodOf(day: Date): Period {
  const start = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), 1));
  const end = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth() + 1, 1));
  return { start, end };
}

export function parsePeriodStart(periodStart: string): Period {
  return periodOf(new Date(`${periodStart.slice(0, 10)}T00:00:00Z`));
}

const MONTH = new Intl.DateTimeFormat("en-GB", { month: "short", timeZone: "UTC" });

/** "1–31 Dec 2026" for the period. */
export function formatPeriod(period: Period): string {
  const last = new Date(period.end.getTime() - 86400000);
  return `1–${last.getUTCDate()} ${MONTH.format(period.start)} ${period.start.getUTCFullYear()}`;
}

/** Whole days until the period resets (the next month's first day), at least 0. */
export function daysUntilReset(period: Period, now: Date): number {
  return Math.max(0, Math.ceil((period.end.getTime() - now.getTime()) / 86400000));
}

export function resetsIn(days: number): string {
  if (days <= 0) return "resets today";
  return days === 1 ? "resets tomorrow" : `resets in ${days} days`;
}

/**
 * Where the period will end at the pace so far: used / elapsed fraction of the period.
 * Before a full hour has passed there is no pace to project from, so the usage itself is shown.
 */
export function projectToPeriodEnd(used: number, period: Period, now: Date): number {
  const length = period.end.getTime() - period.start.getTime();
  const elapsed = Math.min(Math.max(now.getTime() - period.start.getTime(), 0), length);
  if (elapsed < 3600000) return used;
  return Math.round((used * length) / elapsed);
}

/** Every day of the period up to `until` (inclusive), as YYYY-MM-DD, for charts with no gaps. */
export function daysOfPeriod(period: Period, until: Date): string[] {
  const days: string[] = [];
  const last = Math.min(until.getTime(), period.end.getTime() - 1);
  for (let t = period.start.getTime(); t <= last; t += 86400000) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}

/** Which usage warning applies at this percentage: 100, 95, 80, or none. */
export function warningLevel(percent: number): 0 | 80 | 95 | 100 {
  if (percent >= 100) return 100;
  if (percent >= 95) return 95;
  if (percent >= 80) return 80;
  return 0;
}

// The server's rule (keys.E164, agents_phone_number_e164): + and 7 to 15 digits.
const E164 = /^\+[1-9]\d{6,14}$/;

/** A phone number as Twilio takes it: + and 7 to 15 digits; spaces, dashes, dots allowed. */
export function normalizeE164(input: string): string | null {
  const compact = input.replace(/[\s().-]/g, "");
  return E164.test(compact) ? compact : null;
}
