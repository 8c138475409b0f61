// One account: who they are, their plan and limits, what they used and own, what they were told,
// what happened to them; and the admin's actions, each saying what the user will be told.
import { useState, type FormEvent } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useParams } from "react-router-dom";
import { adminDb, supabase } from "../../lib/supabase";
import { unwrap } from "../../lib/api";
import { describe, type UserError } from "../../lib/errors";
import {
  formatDate,
  formatUtc,
  formatDuration,
  formatNumber,
  formatRelative,
  formatUsd,
} from "../../lib/format";
import { useProfile } from "../../lib/auth";
import { ConfirmDialog } from "../../components/Dialog";
import { useToast } from "../../components/Toast";
import {
  Badge,
  Button,
  Card,
  Checkbox,
  DataTable,
  EmptyState,
  ErrorNotice,
  Loading,
  Notice,
  PageHeader,
  QueryView,
  SelectField,
  Table,
  TextField,
  td,
  th,
} from "../../components/ui";
import { usePlans, type PlanRow } from "../../lib/queries";
import { AUDIT_COLUMNS, AuditTable, SectionError, StatusBadge, type AuditRow } from "./shared";
import type { OverviewRow } from "./Users";

interface Account {
  id: string;
  email: string;
  status: string;
  role: string;
  plan_id: string;
  agent_limit_override: number | null;
  monthly_token_limit_override: number | null;
  last_sign_in_at: string | null;
  created_at: string;
}

interface Limits<T> {
  agent_limit: T;
  monthly_token_limit: T;
}

/** admin.set_limits' answer: the limits in force, and the overrides (null: none), before and after. */
interface LimitsResult {
  changed: boolean;
  before: Limits<number>;
  after: Limits<number>;
  overrides: { before: Limits<number | null>; after: Limits<number | null> };
  suspended_agent_ids: number[];
  reactivated_agent_ids: number[];
}

interface PlanResult {
  plan_id: string;
  changed: boolean;
  suspended_agent_ids: number[] | null;
  reactivated_agent_ids: number[] | null;
}

type LimitKind = "agent" | "token";

const LIMIT = {
  agent: {
    name: "agent limit",
    title: "Agent limit",
    unit: "agents",
    column: "agent_limit",
    clear: "clear_agent_limit",
    max: 2147483647,
  },
  token: {
    name: "monthly token limit",
    title: "Monthly token limit",
    unit: "tokens a month",
    column: "monthly_token_limit",
    clear: "clear_token_limit",
    max: Number.MAX_SAFE_INTEGER,
  },
} as const;

function agentNote(result: { suspended_agent_ids: number[] | null; reactivated_agent_ids: number[] | null }) {
  const paused = result.suspended_agent_ids ?? [];
  const back = result.reactivated_agent_ids ?? [];
  const parts = [];
  if (paused.length) parts.push(`${paused.length} agent(s) paused as over the limit`);
  if (back.length) parts.push(`${back.length} agent(s) active again`);
  return parts.length ? ` ${parts.join("; ")}.` : "";
}

/** One limit's override: a new value, or back to the plan's. Only this limit is sent. */
function LimitForm({
  kind,
  account,
  plan,
  onDone,
}: {
  kind: LimitKind;
  account: Account;
  plan: PlanRow;
  onDone: () => void;
}) {
  const meta = LIMIT[kind];
  const other = LIMIT[kind === "agent" ? "token" : "agent"];
  const override = kind === "agent" ? account.agent_limit_override : account.monthly_token_limit_override;
  const planValue = kind === "agent" ? plan.agent_limit : plan.monthly_token_limit;
  const current = override ?? planValue;
  const [value, setValue] = useState(String(current));
  // When the limit in force changes (this form's save, or a plan change beside it), the field
  // starts again from it rather than offering the old number as a change.
  const [startedFrom, setStartedFrom] = useState(current);
  if (startedFrom !== current) {
    setStartedFrom(current);
    setValue(String(current));
  }
  const [usePlan, setUsePlan] = useState(false);
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UserError | null>(null);
  const [result, setResult] = useState<string | null>(null);
  // Only an override can be removed (once it is gone, the box goes with it).
  const clearing = usePlan && override !== null;
  const parsed = Number(value);
  const problem = clearing
    ? null
    : value.trim() === "" || !Number.isInteger(parsed) || parsed < 0
      ? `Enter a whole number of ${meta.unit}, 0 or more.`
      : parsed > meta.max
        ? `At most ${formatNumber(meta.max)} ${meta.unit}.`
        : null;
  const next = clearing ? planValue : parsed;
  const same = !clearing && parsed === current;
  const trimmed = reason.trim();
  // What the user's notification will say (private.admin_set_limits words it the same way).
  const told =
    `An administrator changed your limits: ${meta.unit} ${formatNumber(current)} → ${formatNumber(next)}` +
    `${clearing ? " (your plan's)" : ""}.${trimmed ? ` Reason: ${trimmed}` : ""}`;
  const fieldError = (field: string) => (error?.field === field ? error.message : undefined);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (problem || same) return;
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const answer = unwrap<LimitsResult>(
        await adminDb().rpc("set_limits", {
          user_id: account.id,
          ...(clearing ? { [meta.clear]: true } : { [meta.column]: parsed }),
          ...(trimmed ? { reason: trimmed } : {}),
        }),
      );
      const before = answer.before[meta.column];
      const after = answer.after[meta.column];
      setResult(
        answer.changed
          ? `${meta.title} changed: ${formatNumber(before)} → ${formatNumber(after)}${clearing ? " (the plan's value)" : ""}. ` +
              `${other.title} unchanged: ${formatNumber(answer.after[other.column])}.` +
              agentNote(answer)
          : `Nothing changed: the ${meta.name} is already ${formatNumber(after)}.`,
      );
      setUsePlan(false);
      setReason("");
      onDone();
    } catch (err) {
      setError(describe(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} className="space-y-3 rounded-md border border-slate-200 p-3 dark:border-slate-700" aria-label={`Change the ${meta.name}`}>
      <h3 className="font-semibold">Change the {meta.name}</h3>
      <TextField
        label={`New ${meta.name}`}
        type="number"
        min={0}
        max={meta.max}
        step={1}
        inputMode="numeric"
        value={value}
        disabled={clearing}
        error={fieldError(meta.column)}
        onChange={(e) => setValue(e.target.value)}
        hint={`Now ${formatNumber(current)} ${meta.unit}${override === null ? ", the plan's value" : ", an override"}; the ${plan.name} plan gives ${formatNumber(planValue)}.`}
      />
      {override !== null && (
        <Checkbox
          label={`Use the plan's value (${formatNumber(planValue)}) and remove the override`}
          checked={usePlan}
          onChange={(e) => setUsePlan(e.target.checked)}
        />
      )}
      <TextField
        label="Reason"
        value={reason}
        maxLength={500}
        error={fieldError("reason")}
        onChange={(e) => setReason(e.target.value)}
        hint="Optional. The user reads it in the notification and email; the audit log keeps it."
      />
      <p className="text-xs text-slate-700 dark:text-slate-300">
        {problem ??
          (same
            ? `It is ${formatNumber(current)} now: enter another number${override !== null ? " or use the plan's value" : ""} to change it.`
            : `The user gets a notification and an email: “${told}” The ${other.name} stays as it is; the change is audited with its before and after values.`)}
      </p>
      {error && error.field !== meta.column && error.field !== "reason" && (
        <ErrorNotice error={error} title={`The ${meta.name} was not changed`} />
      )}
      {result && <Notice tone="success">{result}</Notice>}
      <Button type="submit" busy={busy} disabled={same || problem !== null}>
        Save {meta.name}
      </Button>
    </form>
  );
}

function LimitsCard({ account, overview, plan, onDone }: { account: Account; overview: OverviewRow; plan: PlanRow; onDone: () => void }) {
  const rows: [string, number, number | null, number][] = [
    ["Agents", plan.agent_limit, account.agent_limit_override, overview.agent_limit],
    ["Tokens a month", plan.monthly_token_limit, account.monthly_token_limit_override, overview.token_limit],
  ];
  return (
    <Card title="Limits">
      <Table caption="Limits: the plan's value, any override, and what applies">
        <thead>
          <tr>
            <th scope="col" className={th}>Limit</th>
            <th scope="col" className={th}>{plan.name} plan</th>
            <th scope="col" className={th}>Override</th>
            <th scope="col" className={th}>In force</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([label, planValue, override, effective]) => (
            <tr key={label}>
              <th scope="row" className={td}>{label}</th>
              <td className={td}>{formatNumber(planValue)}</td>
              <td className={td}>
                {override === null ? (
                  <span className="text-slate-600 dark:text-slate-300">none (plan value)</span>
                ) : (
                  <span className="inline-flex items-center gap-2">
                    <Badge tone="warning">override</Badge> {formatNumber(override)}
                  </span>
                )}
              </td>
              <td className={td}>{formatNumber(effective)}</td>
            </tr>
          ))}
        </tbody>
      </Table>
      <div className="mt-4 grid gap-4 lg:grid-cols-2">
        <LimitForm kind="agent" account={account} plan={plan} onDone={onDone} />
        <LimitForm kind="token" account={account} plan={plan} onDone={onDone} />
      </div>
    </Card>
  );
}

function PlanCard({ account, plans, onDone }: { account: Account; plans: PlanRow[]; onDone: () => void }) {
  const [planId, setPlanId] = useState(account.plan_id);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UserError | null>(null);
  const [result, setResult] = useState<string | null>(null);
  const target = plans.find((p) => p.plan_id === planId);
  const before = plans.find((p) => p.plan_id === account.plan_id);
  return (
    <form
      className="space-y-3"
      aria-label="Change the plan"
      onSubmit={async (event) => {
        event.preventDefault();
        setBusy(true);
        setError(null);
        setResult(null);
        try {
          const answer = unwrap<PlanResult>(
            await adminDb().rpc("change_plan", { user_id: account.id, plan_id: planId }),
          );
          setResult(
            answer.changed
              ? `Plan changed: ${before?.name ?? account.plan_id} → ${target?.name ?? planId}.${agentNote(answer)}`
              : `They are already on the ${target?.name ?? planId} plan; nothing changed.`,
          );
          onDone();
        } catch (err) {
          setError(describe(err));
        } finally {
          setBusy(false);
        }
      }}
    >
      <h3 className="font-semibold">Change the plan</h3>
      <SelectField
        label="Plan"
        value={planId}
        onChange={(e) => setPlanId(e.target.value)}
        options={plans.map((p) => ({
          value: p.plan_id,
          label: `${p.name} (${formatNumber(p.agent_limit)} agents, ${formatNumber(p.monthly_token_limit)} tokens)`,
        }))}
      />
      <p className="text-xs text-slate-700 dark:text-slate-300">
        {planId === account.plan_id
          ? "Pick another plan."
          : `The user gets a notification and an email: “You are now on the ${target?.name} plan”, with their limits. Agents beyond the new agent limit are paused, newest first; overrides stay.`}
      </p>
      <ErrorNotice error={error} title="The plan was not changed" />
      {result && <Notice tone="success">{result}</Notice>}
      <Button type="submit" busy={busy} disabled={planId === account.plan_id}>
        Change plan
      </Button>
    </form>
  );
}

function StatusActions({ account, onDone }: { account: Account; onDone: () => void }) {
  const navigate = useNavigate();
  const toast = useToast();
  const me = useProfile();
  const [confirm, setConfirm] = useState<"suspend" | "reactivate" | "delete" | null>(null);
  const [result, setResult] = useState<string | null>(null);
  const self = me.data?.id === account.id;
  const setStatus = async (status: "active" | "suspended") => {
    const answer = unwrap<Account>(
      await adminDb().rpc("set_user_status", { user_id: account.id, status }),
    );
    setResult(
      answer.status === "suspended"
        ? `${account.email} is suspended: their sessions were ended and they cannot sign in.`
        : `${account.email} is active again and can sign in.`,
    );
    onDone();
  };
  return (
    <div className="space-y-3">
      <h3 className="font-semibold">Access</h3>
      {result && <Notice tone="success">{result}</Notice>}
      <div className="flex flex-wrap gap-2">
        {account.status === "suspended" ? (
          <Button variant="secondary" onClick={() => setConfirm("reactivate")}>
            Reactivate user
          </Button>
        ) : (
          <Button variant="secondary" disabled={self} onClick={() => setConfirm("suspend")}>
            Suspend user
          </Button>
        )}
        <Button variant="danger" disabled={self} onClick={() => setConfirm("delete")}>
          Delete user
        </Button>
      </div>
      {self && <p className="text-xs">You cannot suspend or delete your own account here.</p>}
      <ConfirmDialog
        open={confirm === "suspend"}
        onOpenChange={(open) => setConfirm(open ? "suspend" : null)}
        title={`Suspend ${account.email}?`}
        description="They are signed out at once and cannot sign in, use the API or take calls until reactivated. VoxFlow does not notify them; the suspension is audited."
        confirmLabel="Suspend"
        danger
        onConfirm={() => setStatus("suspended")}
      />
      <ConfirmDialog
        open={confirm === "reactivate"}
        onOpenChange={(open) => setConfirm(open ? "reactivate" : null)}
        title={`Reactivate ${account.email}?`}
        description="They can sign in again; their agents, keys and usage are as they left them. VoxFlow does not notify them; the change is audited."
        confirmLabel="Reactivate"
        onConfirm={() => setStatus("active")}
      />
      <ConfirmDialog
        open={confirm === "delete"}
        onOpenChange={(open) => setConfirm(open ? "delete" : null)}
        title={`Delete ${account.email}?`}
        description="This removes the account and everything it owns: agents, calls, conversations, provider keys and usage. Audit entries about them are redacted. It cannot be undone, and they are not told."
        confirmLabel="Delete for good"
        danger
        typeToConfirm={account.email}
        onConfirm={async () => {
          unwrap(await adminDb().rpc("delete_user", { user_id: account.id }));
          toast({ title: "User deleted", description: `${account.email} and their data are gone.`, tone: "success" });
          onDone();
          navigate("/admin/users");
        }}
      />
    </div>
  );
}

interface Sub { subscription_id: number; plan_id: string; status: string; period_start: string | null; period_end: string | null; changed_at: string; ended_at: string | null }
interface UsageRow { period_start: string; closed: boolean; provider: string; feature: string; model: string; events: number; failures: number | null; tokens: number; audio_seconds: number; call_seconds: number; cost_usd: number }
interface AgentRow { agent_id: number; name: string; status: string; is_active: boolean; llm_model: string; phone_number: string | null; created_at: string }
interface CallRow { id: number; agent_id: number; direction: string; to_number: string | null; from_number: string | null; status: string; duration_seconds: number | null; created_at: string }
interface NoteRow { notification_id: number; kind: string; title: string; body: string; created_at: string; read_at: string | null }

function useList<T>(key: string, userId: string, build: () => PromiseLike<{ data: T[] | null; error: { message: string } | null; status?: number }>) {
  return useQuery({ queryKey: ["admin", "user", userId, key], queryFn: async () => unwrap<T[]>(await build()) });
}

function Related({ userId }: { userId: string }) {
  const subs = useList<Sub>("subs", userId, () =>
    adminDb().from("user_subscriptions").select("*").eq("user_id", userId).order("changed_at", { ascending: false }),
  );
  const usage = useList<UsageRow>("usage", userId, () =>
    adminDb().from("user_usage").select("*").eq("user_id", userId).order("period_start", { ascending: false }).order("cost_usd", { ascending: false }).limit(100),
  );
  const agents = useList<AgentRow>("agents", userId, () =>
    adminDb().from("user_agents").select("*").eq("user_id", userId).order("created_at"),
  );
  const calls = useList<CallRow>("calls", userId, () =>
    supabase().from("calls").select("id,agent_id,direction,to_number,from_number,status,duration_seconds,created_at").eq("user_id", userId).order("created_at", { ascending: false }).limit(10),
  );
  const notes = useList<NoteRow>("notes", userId, () =>
    adminDb().from("user_notifications").select("notification_id,kind,title,body,created_at,read_at").eq("user_id", userId).order("created_at", { ascending: false }).limit(20),
  );
  const audit = useList<AuditRow>("audit", userId, () =>
    adminDb().from("audit_log").select(AUDIT_COLUMNS).eq("target_id", userId).order("occurred_at", { ascending: false }).limit(50),
  );
  return (
    <>
      <Card title="Plan and subscription history">
        <QueryView query={subs}>
          {(rows) => (
            <DataTable caption="Subscription history" rows={rows} rowKey={(r) => String(r.subscription_id)} empty="No subscriptions recorded"
              columns={[
                { label: "Plan", render: (r) => r.plan_id },
                { label: "Status", render: (r) => <StatusBadge status={r.status} /> },
                { label: "Since", render: (r) => formatUtc(r.changed_at) },
                { label: "Ended", render: (r) => formatUtc(r.ended_at) },
              ]} />
          )}
        </QueryView>
      </Card>
      <Card title="Usage by period, provider and feature">
        <QueryView query={usage}>
          {(rows) => (
            <DataTable caption="Usage" rows={rows} rowKey={(r) => `${r.period_start}/${r.provider}/${r.feature}/${r.model}/${r.closed}`} empty="No usage yet"
              columns={[
                { label: "Period", render: (r) => `${formatDate(r.period_start)}${r.closed ? " (closed)" : ""}` },
                { label: "Provider", render: (r) => r.provider },
                { label: "Feature", render: (r) => r.feature },
                { label: "Model", render: (r) => r.model },
                { label: "Calls", render: (r) => formatNumber(r.events) },
                { label: "Tokens", render: (r) => formatNumber(r.tokens) },
                { label: "Audio", render: (r) => formatDuration(r.audio_seconds) },
                { label: "Phone", render: (r) => formatDuration(r.call_seconds) },
                { label: "Cost", render: (r) => formatUsd(r.cost_usd) },
              ]} />
          )}
        </QueryView>
      </Card>
      <div className="grid gap-6 xl:grid-cols-2">
        <Card title="Agents">
          <QueryView query={agents}>
            {(rows) => (
              <DataTable caption="Agents" rows={rows} rowKey={(r) => String(r.agent_id)} empty="No agents"
                columns={[
                  { label: "Name", render: (r) => r.name },
                  { label: "Status", render: (r) => <StatusBadge status={r.is_active ? r.status : "switched_off"} /> },
                  { label: "Model", render: (r) => r.llm_model },
                  { label: "Phone", render: (r) => r.phone_number ?? "—" },
                  { label: "Created", render: (r) => formatDate(r.created_at) },
                ]} />
            )}
          </QueryView>
        </Card>
        <Card title="Recent calls">
          <QueryView query={calls}>
            {(rows) => (
              <DataTable caption="Recent calls" rows={rows} rowKey={(r) => String(r.id)} empty="No calls"
                columns={[
                  { label: "When", render: (r) => formatUtc(r.created_at) },
                  { label: "Direction", render: (r) => r.direction },
                  { label: "Number", render: (r) => (r.direction === "outbound" ? r.to_number : r.from_number) ?? "—" },
                  { label: "Status", render: (r) => r.status },
                  { label: "Length", render: (r) => formatDuration(r.duration_seconds) },
                ]} />
            )}
          </QueryView>
        </Card>
      </div>
      <Card title="Notifications sent">
        <QueryView query={notes}>
          {(rows) => (
            <DataTable caption="Notifications sent" rows={rows} rowKey={(r) => String(r.notification_id)} empty="Nothing sent yet"
              columns={[
                { label: "Sent", render: (r) => formatUtc(r.created_at) },
                { label: "Title", render: (r) => r.title },
                { label: "Message", render: (r) => <span className="block max-w-md whitespace-normal">{r.body}</span> },
                { label: "Read", render: (r) => (r.read_at ? formatRelative(r.read_at) : "unread") },
              ]} />
          )}
        </QueryView>
      </Card>
      <Card title="Audit entries about them" actions={<Link to={`/admin/audit?target=${userId}`}>Open in the audit log</Link>}>
        <QueryView query={audit}>
          {(rows) => <AuditTable rows={rows} />}
        </QueryView>
      </Card>
    </>
  );
}

export default function UserDetail() {
  const { userId = "" } = useParams();
  const queryClient = useQueryClient();
  const plans = usePlans();
  const overview = useQuery({
    queryKey: ["admin", "user", userId, "overview"],
    queryFn: async () =>
      unwrap<OverviewRow | null>(
        await adminDb().from("users_overview").select("*").eq("user_id", userId).maybeSingle(),
      ),
  });
  const account = useQuery({
    queryKey: ["admin", "user", userId, "account"],
    queryFn: async () =>
      unwrap<Account | null>(await adminDb().from("users").select("*").eq("id", userId).maybeSingle()),
  });
  // This user's reads, and the users list they appear in (not every admin query there is).
  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: ["admin", "user", userId] }),
      queryClient.invalidateQueries({ queryKey: ["admin", "users_overview"] }),
    ]);

  if (overview.isPending || account.isPending || plans.isPending) return <Loading label="Loading the user…" />;
  const failed = overview.error ?? account.error ?? plans.error;
  if (failed) return <SectionError error={failed} />;
  const o = overview.data;
  const a = account.data;
  if (!o || !a) {
    return (
      <div>
        <PageHeader title="User not found" />
        <EmptyState title="There is no user with this id">
          They may have been deleted. <Link to="/admin/users">Back to users</Link>
        </EmptyState>
      </div>
    );
  }
  const plan = plans.data?.find((p) => p.plan_id === a.plan_id);
  return (
    <div className="space-y-6">
      <p className="text-sm">
        <Link to="/admin/users">← All users</Link>
      </p>
      <div>
        <h1 className="text-2xl font-bold tracking-tight break-all">{o.email}</h1>
        {o.organization_name && (
          <p className="mt-1 text-sm text-slate-600 dark:text-slate-300">{o.organization_name}</p>
        )}
      </div>
      <Card title="Profile">
        <dl className="grid grid-cols-1 gap-x-6 gap-y-2 text-sm sm:grid-cols-2 lg:grid-cols-3">
          {(
            [
              ["Status", <StatusBadge key="s" status={o.status} />],
              ["Role", o.role],
              ["Plan", o.plan_name],
              ["Tokens this month", `${formatNumber(o.tokens_used)} of ${formatNumber(o.token_limit)}`],
              ["Cost this month", formatUsd(o.cost_usd)],
              ["Agents", `${o.agent_count} of ${o.agent_limit}`],
              ["Last active", formatRelative(o.last_active_at)],
              ["Last sign-in", formatUtc(a.last_sign_in_at)],
              ["Created", formatUtc(o.created_at)],
              ["User id", <code key="id" className="text-xs break-all">{o.user_id}</code>],
            ] as const
          ).map(([label, value]) => (
            <div key={label}>
              <dt className="text-slate-600 dark:text-slate-300">{label}</dt>
              <dd className="font-medium">{value}</dd>
            </div>
          ))}
        </dl>
      </Card>
      {plan ? (
        <LimitsCard account={a} overview={o} plan={plan} onDone={refresh} />
      ) : (
        <Notice tone="warning">The user's plan {a.plan_id} is not in the plan list.</Notice>
      )}
      <Card title="Plan and access">
        <div className="grid gap-6 lg:grid-cols-2">
          <PlanCard account={a} plans={plans.data ?? []} onDone={refresh} />
          <StatusActions account={a} onDone={refresh} />
        </div>
      </Card>
      <Related userId={userId} />
    </div>
  );
}
