// What the admin pages share: the address's parameters, PostgREST filter pairs (one list feeds
// both the table's query and its CSV export, so the export is exactly the view), freshness, the
// audit table, small widgets. Chart styling is in charts.tsx.
import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { useSearchParams } from "react-router-dom";
import { adminDb } from "../../lib/supabase";
import { usePlans } from "../../lib/queries";
import { download, unwrap } from "../../lib/api";
import { describe, type UserError } from "../../lib/errors";
import { formatUtc, formatRelative } from "../../lib/format";
import { Badge, Button, DataTable, ErrorNotice } from "../../components/ui";

/**
 * The address's search parameters, and a function that changes some of them (an empty value
 * removes one) and keeps the rest; by default the change replaces the history entry.
 */
export function useUrlParams() {
  const [params, setParams] = useSearchParams();
  const update = (changes: Record<string, string | null>, { replace = true } = {}) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    setParams(next, { replace });
  };
  return [params, update, setParams] as const;
}

/** The 1-based page the address names (?page=), 1 when it names none or nonsense. */
export function pageOf(params: URLSearchParams): number {
  return Math.max(1, Number.parseInt(params.get("page") ?? "1", 10) || 1);
}

/** A PostgREST filter as the URL carries it: [column, "op.value"] (repeats make ranges). */
export type Pair = [string, string];

interface Filterable {
  filter(column: string, operator: string, value: unknown): Filterable;
}

/** Applies PostgREST filter pairs to a supabase-js query (`.filter(col, op, value)`). */
export function applyPairs<Q>(query: Q, pairs: Pair[]): Q {
  let q = query as unknown as Filterable;
  for (const [column, raw] of pairs) {
    const dot = raw.indexOf(".");
    q = q.filter(column, raw.slice(0, dot), raw.slice(dot + 1));
  }
  return q as unknown as Q;
}

/** The same filters as a query string for /functions/v1/admin/export/… */
export function exportQuery(pairs: Pair[], extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of pairs) params.append(k, v);
  for (const [k, v] of Object.entries(extra)) if (v) params.set(k, v);
  return params.toString();
}

/** The start of a UTC day, and of the day after (for inclusive "to" dates). */
export function dayStart(day: string): string {
  return `${day}T00:00:00Z`;
}

export function dayAfter(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().replace(".000Z", "Z");
}

export function todayUtc(): string {
  return new Date().toISOString().slice(0, 10);
}

export function monthStartUtc(offset = 0): string {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1))
    .toISOString()
    .slice(0, 10);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string) => UUID.test(value.trim());

/** PostgREST's ilike pattern for a search term (its reserved characters dropped). */
export function likeTerm(term: string): string {
  return `*${term.trim().toLowerCase().replace(/[*,()"\\]/g, " ")}*`;
}

/** "as of 2 minutes ago", with the exact time on hover and for screen readers' title. */
export function Freshness({ at, label = "as of" }: { at: string | null | undefined; label?: string }) {
  return (
    <span className="text-xs text-slate-600 dark:text-slate-300" title={formatUtc(at)}>
      {label} {formatRelative(at)}
    </span>
  );
}

export function StatusBadge({ status }: { status: string }) {
  const tone =
    status === "active" || status === "resolved"
      ? "success"
      : status === "suspended" || status === "open"
        ? "error"
        : status === "acknowledged" || status === "pending_verification"
          ? "warning"
          : "neutral";
  return <Badge tone={tone}>{status.replace(/_/g, " ")}</Badge>;
}

/** A download button for an admin CSV export: disabled while it runs, errors shown beside it. */
export function ExportButton({
  kind,
  query,
  label,
  disabled = false,
}: {
  kind: "users" | "usage" | "costs" | "audit";
  query: string;
  label?: string;
  /** While the filters beside it cannot be used (they say why). */
  disabled?: boolean;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UserError | null>(null);
  const [done, setDone] = useState<string | null>(null);
  return (
    <div className="space-y-2">
      <Button
        variant="secondary"
        busy={busy}
        disabled={disabled}
        onClick={async () => {
          setBusy(true);
          setError(null);
          setDone(null);
          const filename = `voxflow-${kind}-${todayUtc()}.csv`;
          try {
            await download(`admin/export/${kind}${query ? `?${query}` : ""}`, filename);
            setDone(filename);
          } catch (err) {
            setError(describe(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        {busy ? "Exporting…" : (label ?? "Export CSV")}
      </Button>
      {done && (
        <p role="status" className="text-xs text-slate-600 dark:text-slate-300">
          Saved {done}
        </p>
      )}
      <ErrorNotice error={error} title="The export failed" />
    </div>
  );
}

export function SectionError({ error }: { error: unknown }) {
  return <ErrorNotice error={describe(error)} title="This could not be loaded" />;
}

/** An account's status as a filter (users list and users export). */
export const STATUS_OPTIONS = [
  { value: "", label: "Any status" },
  { value: "active", label: "Active" },
  { value: "suspended", label: "Suspended" },
  { value: "pending_verification", label: "Awaiting verification" },
];

/** The plans as a filter: "Any plan", then each by name. */
export function usePlanOptions() {
  const plans = usePlans();
  return [{ value: "", label: "Any plan" }, ...(plans.data ?? []).map((p) => ({ value: p.plan_id, label: p.name }))];
}

/** The open alerts' count for the navigation's badge (under ["admin", "alerts"], so every
 * alert action that invalidates the alerts refreshes it too). */
export function useOpenAlertCount() {
  return useQuery({
    queryKey: ["admin", "alerts", "open-count"],
    refetchInterval: 30000,
    queryFn: async () => {
      const result = await adminDb()
        .from("alerts")
        .select("id", { count: "exact", head: true })
        .eq("status", "open");
      unwrap(result);
      return result.count ?? 0;
    },
  });
}

export function Json({ value }: { value: unknown }) {
  if (value === null || value === undefined) return <span>—</span>;
  return (
    <code className="block max-w-xs text-xs break-all whitespace-pre-wrap">
      {JSON.stringify(value)}
    </code>
  );
}

export interface AuditRow {
  id: number;
  occurred_at: string;
  actor_id: string | null;
  actor_email: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  before: unknown;
  after: unknown;
  ip: string | null;
  redacted_at: string | null;
}

/** The columns of admin.audit_log that AuditTable shows. */
export const AUDIT_COLUMNS =
  "id,occurred_at,actor_id,actor_email,action,target_type,target_id,before,after,ip,redacted_at";

/** Audit entries, newest first as given (the audit log page and a user's page). */
export function AuditTable({ rows }: { rows: AuditRow[] }) {
  return (
    <DataTable caption="Audit entries" rows={rows} rowKey={(r) => String(r.id)} empty="No audit entries"
      columns={[
        { label: "#", render: (r) => r.id },
        { label: "When", render: (r) => formatUtc(r.occurred_at) },
        { label: "Action", render: (r) => <code className="text-xs">{r.action}</code> },
        { label: "Actor", render: (r) => r.actor_email ?? r.actor_id ?? "system" },
        { label: "Target", render: (r) => (r.target_id ? `${r.target_type ?? ""} ${r.target_id}` : "—") },
        { label: "Before", render: (r) => <Json value={r.before} /> },
        { label: "After", render: (r) => <Json value={r.after} /> },
        { label: "IP", render: (r) => (r.redacted_at ? "redacted" : (r.ip ?? "—")) },
      ]} />
  );
}
