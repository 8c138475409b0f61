// Anomaly alerts: open and acknowledged ones first, each with what was observed against its
// threshold. ?alert=<id> (the link in an alert's notification and mail) highlights one.
import { useEffect, useRef, useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { adminDb } from "../../lib/supabase";
import { unwrap } from "../../lib/api";
import { describe, type UserError } from "../../lib/errors";
import { formatUtc, formatNumber, formatUsd } from "../../lib/format";
import { useAuth } from "../../lib/auth";
import { ConfirmDialog } from "../../components/Dialog";
import {
  Badge,
  Button,
  Card,
  Checkbox,
  EmptyState,
  ErrorNotice,
  Loading,
  Notice,
  PageHeader,
  QueryView,
  SelectField,
  TextAreaField,
} from "../../components/ui";
import { Json, SectionError, StatusBadge, isUuid, useUrlParams } from "./shared";

interface Alert {
  id: number;
  rule: string;
  subject: string;
  window_start: string;
  severity: "warning" | "critical";
  status: "open" | "acknowledged" | "resolved";
  title: string;
  evidence: Record<string, unknown>;
  raised_at: string;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  resolved_at: string | null;
  resolved_by: string | null;
  acknowledged_note: string | null;
  /** The rule's parameters when the alert was raised (private.anomaly_rules.params). */
  thresholds: Record<string, unknown> | null;
  first_seen_at: string;
  last_seen_at: string;
}

const KINDS: Record<string, string> = {
  cost_spike: "Cost spike",
  provider_errors: "Provider failures",
  gateway_5xx: "Gateway 5xx",
  signup_burst: "Sign-up burst",
  failed_login_burst: "Failed sign-in burst",
  pricing_gap: "Pricing gap",
};

const n = (v: unknown) => Number(v ?? 0);
const rate = (v: unknown) => `${(n(v) * 100).toFixed(1)} %`;

/** What was observed, from the evidence each rule records, against the rule's thresholds. */
export function observed(a: Alert): { observed: string; threshold: string } {
  const e = a.evidence ?? {};
  const t = a.thresholds ?? {};
  switch (a.rule) {
    case "cost_spike":
      return {
        observed: `${formatUsd(n(e.cost_usd))} on ${String(e.day ?? "")}`,
        threshold:
          `${formatUsd(n(e.threshold_usd))}: the mean of ${formatUsd(n(e.baseline_mean_usd))} over ${n(e.baseline_days)} days ` +
          `plus ${n(t.sigmas)} standard deviations, and at least ${formatUsd(n(t.floor_usd))} and ${n(t.min_ratio)} × the mean`,
      };
    case "provider_errors":
    case "gateway_5xx": {
      const what = a.rule === "gateway_5xx" ? "requests" : "calls";
      return {
        observed: `${rate(e.rate)} of ${formatNumber(n(e.requests))} failed in ${n(e.window_minutes)} min`,
        threshold:
          `${rate(t.min_rate)} of at least ${formatNumber(n(t.min_calls ?? t.min_requests))} ${what}, and ` +
          `${n(t.baseline_factor)} × the 24 h baseline of ${rate(e.baseline_rate_24h)}`,
      };
    }
    case "signup_burst":
    case "failed_login_burst":
      return {
        observed: `${formatNumber(n(e.count))} from ${String(e.ip ?? a.subject)} in ${n(e.window_minutes)} min`,
        threshold: `${formatNumber(n(t.max_per_ip))} or more from one IP in ${n(t.window_minutes)} min`,
      };
    case "pricing_gap":
      return { observed: `${formatNumber(n(e.unpriced_events))} call(s) priced at $0`, threshold: "none may be unpriced" };
    default:
      return { observed: "see the evidence", threshold: "—" };
  }
}

function subjectLink(a: Alert) {
  if (a.rule === "cost_spike" && isUuid(a.subject)) return <Link to={`/admin/users/${a.subject}`}>{a.subject}</Link>;
  return <code className="text-xs break-all">{a.subject}</code>;
}

function AlertCard({ alert, highlighted }: { alert: Alert; highlighted: boolean }) {
  const queryClient = useQueryClient();
  const [confirm, setConfirm] = useState<"acknowledge" | "resolve" | null>(null);
  const [note, setNote] = useState("");
  const [done, setDone] = useState<string | null>(null);
  const ref = useRef<HTMLElement>(null);
  useEffect(() => {
    if (highlighted) ref.current?.scrollIntoView({ block: "center" });
  }, [highlighted]);
  const o = observed(alert);
  const act = async (rpc: "acknowledge_alert" | "resolve_alert") => {
    const args = rpc === "acknowledge_alert" && note.trim() ? { alert_id: alert.id, note: note.trim() } : { alert_id: alert.id };
    const after = unwrap<Alert>(await adminDb().rpc(rpc, args));
    setDone(`Alert ${after.status}.`);
    setNote("");
    // Every list of alerts, the linked one and the navigation's open count (["admin", "alerts", …]).
    await queryClient.invalidateQueries({ queryKey: ["admin", "alerts"] });
  };
  return (
    <article
      ref={ref}
      aria-labelledby={`alert-${alert.id}`}
      aria-current={highlighted ? "true" : undefined}
      className={`rounded-lg border bg-white p-4 dark:bg-slate-900 ${
        highlighted
          ? "border-indigo-600 ring-2 ring-indigo-600 dark:border-indigo-400 dark:ring-indigo-400"
          : "border-slate-200 dark:border-slate-700"
      }`}
    >
      <div className="flex flex-wrap items-start justify-between gap-2">
        <h2 id={`alert-${alert.id}`} className="font-semibold">
          {alert.title}
        </h2>
        <div className="flex gap-2">
          <Badge tone={alert.severity === "critical" ? "error" : "warning"}>{alert.severity}</Badge>
          <StatusBadge status={alert.status} />
        </div>
      </div>
      {highlighted && <p className="mt-1 text-xs font-medium">This is the alert you were sent.</p>}
      <dl className="mt-3 grid grid-cols-1 gap-x-6 gap-y-2 text-sm sm:grid-cols-2">
        <div><dt className="text-slate-600 dark:text-slate-300">Kind</dt><dd>{KINDS[alert.rule] ?? alert.rule}</dd></div>
        <div><dt className="text-slate-600 dark:text-slate-300">Subject</dt><dd>{subjectLink(alert)}</dd></div>
        <div><dt className="text-slate-600 dark:text-slate-300">Observed</dt><dd>{o.observed}</dd></div>
        <div><dt className="text-slate-600 dark:text-slate-300">Threshold</dt><dd>{o.threshold}</dd></div>
        <div><dt className="text-slate-600 dark:text-slate-300">First seen</dt><dd>{formatUtc(alert.first_seen_at)}</dd></div>
        <div><dt className="text-slate-600 dark:text-slate-300">Last seen</dt><dd>{formatUtc(alert.last_seen_at)}</dd></div>
        <div><dt className="text-slate-600 dark:text-slate-300">Raised</dt><dd>{formatUtc(alert.raised_at)}</dd></div>
        {alert.acknowledged_at && (
          <div><dt className="text-slate-600 dark:text-slate-300">Acknowledged</dt><dd>{formatUtc(alert.acknowledged_at)}</dd></div>
        )}
        {alert.acknowledged_note && (
          <div className="sm:col-span-2">
            <dt className="text-slate-600 dark:text-slate-300">Note</dt>
            <dd className="whitespace-pre-wrap">{alert.acknowledged_note}</dd>
          </div>
        )}
        {alert.resolved_at && (
          <div><dt className="text-slate-600 dark:text-slate-300">Resolved</dt><dd>{formatUtc(alert.resolved_at)}</dd></div>
        )}
      </dl>
      <details className="mt-3 text-sm">
        <summary className="cursor-pointer">Evidence</summary>
        <Json value={alert.evidence} />
      </details>
      {done && <div className="mt-3"><Notice tone="success">{done}</Notice></div>}
      {alert.status !== "resolved" && (
        <div className="mt-3 flex flex-wrap gap-2">
          {alert.status === "open" && (
            <Button onClick={() => setConfirm("acknowledge")} aria-label={`Acknowledge: ${alert.title}`}>
              Acknowledge
            </Button>
          )}
          <Button variant="secondary" onClick={() => setConfirm("resolve")} aria-label={`Resolve: ${alert.title}`}>
            Resolve
          </Button>
        </div>
      )}
      <ConfirmDialog
        open={confirm === "acknowledge"}
        onOpenChange={(open) => setConfirm(open ? "acknowledge" : null)}
        title="Acknowledge this alert?"
        description={`“${alert.title}” is marked acknowledged under your name, so the other admins see someone is on it. It stays listed until resolved. The action and the note are audited.`}
        confirmLabel="Acknowledge alert"
        onConfirm={() => act("acknowledge_alert")}
      >
        <TextAreaField
          label="Note"
          value={note}
          maxLength={1000}
          rows={3}
          hint="Optional: what you found or are doing. Shown on the alert to every admin."
          onChange={(e) => setNote(e.target.value)}
        />
      </ConfirmDialog>
      <ConfirmDialog
        open={confirm === "resolve"}
        onOpenChange={(open) => setConfirm(open ? "resolve" : null)}
        title="Resolve this alert?"
        description={`“${alert.title}” is closed. The detector raises a new alert if it happens again in a later window. The action is audited.`}
        confirmLabel="Resolve alert"
        onConfirm={() => act("resolve_alert")}
      />
    </article>
  );
}

function EmailPreference() {
  const { session } = useAuth();
  const queryClient = useQueryClient();
  const me = session?.user.id ?? "";
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UserError | null>(null);
  const pref = useQuery({
    queryKey: ["admin", "alert_preferences", me],
    enabled: !!me,
    queryFn: async () =>
      unwrap<{ email_enabled: boolean; updated_at: string | null } | null>(
        await adminDb().from("alert_preferences").select("email_enabled,updated_at").eq("user_id", me).maybeSingle(),
      ),
  });
  if (pref.isPending) return <Loading label="Loading your alert settings…" />;
  if (pref.isError) return <SectionError error={pref.error} />;
  const enabled = pref.data?.email_enabled ?? true;
  return (
    <div className="space-y-2">
      <Checkbox
        label="Email me each new alert"
        checked={enabled}
        disabled={busy}
        onChange={async (e) => {
          setBusy(true);
          setError(null);
          try {
            unwrap(await adminDb().rpc("set_alert_email", { enabled: e.target.checked }));
            await queryClient.invalidateQueries({ queryKey: ["admin", "alert_preferences", me] });
          } catch (err) {
            setError(describe(err));
          } finally {
            setBusy(false);
          }
        }}
      />
      <p className="text-xs text-slate-600 dark:text-slate-300">
        Every new alert reaches every active admin as a notification (the bell) either way; this
        decides whether you get an email too.
      </p>
      <ErrorNotice error={error} title="Your alert setting was not saved" />
    </div>
  );
}

export default function Alerts() {
  const [params, update] = useUrlParams();
  const status = params.get("status") ?? "current";
  const highlight = Number(params.get("alert") ?? "") || null;
  const list = useQuery({
    queryKey: ["admin", "alerts", status],
    refetchInterval: 30000,
    queryFn: async () => {
      let q = adminDb().from("alerts").select("*");
      if (status === "current") q = q.in("status", ["open", "acknowledged"]);
      else if (status !== "all") q = q.eq("status", status);
      return unwrap<Alert[]>(await q.order("raised_at", { ascending: false }).limit(200));
    },
  });
  const rows = list.data ?? [];
  // The linked alert is read on its own only when the list shown does not hold it.
  const inList = rows.some((a) => a.id === highlight);
  const linked = useQuery({
    queryKey: ["admin", "alerts", "one", highlight],
    enabled: !!highlight && list.isSuccess && !inList,
    queryFn: async () =>
      unwrap<Alert | null>(await adminDb().from("alerts").select("*").eq("id", highlight!).maybeSingle()),
  });
  const linkedOutside = !inList && linked.data ? linked.data : null;
  const open = rows.filter((a) => a.status === "open").length;
  return (
    <div className="space-y-6">
      <PageHeader
        title="Alerts"
        description="Anomalies the detector found: cost spikes, provider and gateway failures, bursts of sign-ups or failed sign-ins from one IP, calls priced at zero."
      />
      <div className="grid gap-4 md:grid-cols-2">
        <Card>
          <SelectField
            label="Show"
            value={status}
            onChange={(e) => update({ status: e.target.value === "current" ? null : e.target.value })}
            options={[
              { value: "current", label: "Open and acknowledged" },
              { value: "open", label: "Open" },
              { value: "acknowledged", label: "Acknowledged" },
              { value: "resolved", label: "Resolved" },
              { value: "all", label: "All" },
            ]}
          />
        </Card>
        <Card title="How alerts reach you">
          <EmailPreference />
        </Card>
      </div>
      {highlight && !inList && linked.isSuccess && !linked.data && (
        <Notice tone="warning">There is no alert #{highlight}.</Notice>
      )}
      {linkedOutside && <AlertCard alert={linkedOutside} highlighted />}
      <QueryView query={list} loading="Loading alerts…">
        {() =>
          rows.length === 0 ? (
            <EmptyState title={status === "current" ? "No open alerts" : "No alerts here"}>
              The detector runs every minute; new alerts also reach you as a notification.
            </EmptyState>
          ) : (
            <div className="space-y-3">
              <p role="status" className="text-sm">
                {rows.length} alert(s){status === "current" || status === "all" ? `, ${open} open` : ""}
              </p>
              {rows.map((a) => (
                <AlertCard key={a.id} alert={a} highlighted={a.id === highlight} />
              ))}
            </div>
          )
        }
      </QueryView>
    </div>
  );
}
