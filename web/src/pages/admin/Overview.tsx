// The platform at a glance: totals with their freshness, trends, features, costs, top users.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { adminDb } from "../../lib/supabase";
import { unwrap } from "../../lib/api";
import { formatDate, formatNumber, formatUsd } from "../../lib/format";
import { ChartOrTable } from "../../components/ChartOrTable";
import { Card, DataTable, EmptyState, PageHeader, QueryView, SelectField } from "../../components/ui";
import { Bars, Lines } from "./charts";
import { Freshness, monthStartUtc, useUrlParams } from "./shared";

interface Totals {
  users_total: number;
  users_active: number;
  users_suspended: number;
  users_pending_verification: number;
  admins: number;
  active_users_7d: number;
  active_users_30d: number;
  agents_active: number;
  agents_suspended: number;
  period_start: string;
  provider_calls: number;
  failed_calls: number;
  tokens: number;
  audio_minutes: number;
  characters: number;
  call_minutes: number;
  cost_usd: number;
  usage_as_of: string | null;
  counted_at: string | null;
}

interface Trend {
  day?: string;
  month?: string;
  signups: number;
  active_users: number;
  provider_calls: number;
  tokens: number;
  cost_usd: number;
  as_of: string | null;
}

interface Feature {
  feature: string;
  kind: string;
  provider_calls: number;
  failed_calls: number;
  tokens: number;
  audio_minutes: number;
  call_minutes: number;
  cost_usd: number;
  as_of: string | null;
}

interface CostRow {
  provider: string;
  kind: string;
  model: string;
  plan_id: string;
  provider_calls: number;
  cost_usd: number;
  as_of: string | null;
}

interface TopUser {
  rank: number;
  user_id: string;
  email: string;
  organization_name: string | null;
  plan_id: string;
  tokens_used: number;
  provider_calls: number;
  cost_usd: number;
  as_of: string | null;
}

const RANGES = [
  { value: "7", label: "Last 7 days" },
  { value: "30", label: "Last 30 days" },
  { value: "90", label: "Last 90 days" },
];
const MONTH_RANGES = [
  { value: "6", label: "Last 6 months" },
  { value: "12", label: "Last 12 months" },
  { value: "24", label: "Last 24 months" },
];

function daysAgo(n: number): string {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() - n + 1);
  return d.toISOString().slice(0, 10);
}

const shortDay = (v: string) =>
  new Date(`${v.slice(0, 10)}T00:00:00Z`).toLocaleDateString("en-GB", {
    day: "numeric",
    month: "short",
    timeZone: "UTC",
  });
const shortMonth = (v: string) =>
  new Date(`${v.slice(0, 10)}T00:00:00Z`).toLocaleDateString("en-GB", {
    month: "short",
    year: "numeric",
    timeZone: "UTC",
  });

function Figure({
  label,
  value,
  asOf,
}: {
  label: string;
  value: string;
  asOf: string | null | undefined;
}) {
  return (
    <div className="rounded-lg border border-slate-200 bg-white p-3 dark:border-slate-700 dark:bg-slate-900">
      <dt className="text-xs font-medium text-slate-600 dark:text-slate-300">{label}</dt>
      <dd className="mt-1 text-xl font-semibold">{value}</dd>
      <dd>
        <Freshness at={asOf} />
      </dd>
    </div>
  );
}

function TotalsGrid() {
  const totals = useQuery({
    queryKey: ["admin", "platform_totals"],
    refetchInterval: 30000,
    queryFn: async () =>
      unwrap<Totals | null>(await adminDb().from("platform_totals").select("*").maybeSingle()),
  });
  return (
    <section aria-labelledby="totals-heading" className="space-y-2">
      <h2 id="totals-heading" className="text-lg font-semibold">
        Totals
      </h2>
      <QueryView query={totals} loading="Loading the totals…">
        {(t) => (t ? <Figures t={t} /> : <EmptyState title="No totals yet">The analytics jobs have not run yet.</EmptyState>)}
      </QueryView>
    </section>
  );
}

function Figures({ t }: { t: Totals }) {
  const c = t.counted_at;
  const u = t.usage_as_of;
  const figures: [string, string, string | null][] = [
    ["Users", formatNumber(t.users_total), c],
    ["Active accounts", formatNumber(t.users_active), c],
    ["Suspended", formatNumber(t.users_suspended), c],
    ["Awaiting verification", formatNumber(t.users_pending_verification), c],
    ["Admins", formatNumber(t.admins), c],
    ["Active users, 7 days", formatNumber(t.active_users_7d), c],
    ["Active users, 30 days", formatNumber(t.active_users_30d), c],
    ["Agents active", formatNumber(t.agents_active), c],
    ["Agents paused", formatNumber(t.agents_suspended), c],
    ["Tokens this month", formatNumber(t.tokens), u],
    ["Audio minutes this month", formatNumber(t.audio_minutes), u],
    ["Phone minutes this month", formatNumber(t.call_minutes), u],
    ["Provider calls this month", formatNumber(t.provider_calls), u],
    ["Failed calls this month", formatNumber(t.failed_calls), u],
    ["Cost this month", formatUsd(t.cost_usd), u],
  ];
  return (
    <>
      <p className="text-sm text-slate-600 dark:text-slate-300">
        Accounts and agents are counted about every 15 seconds; usage is folded about once a
        minute. The period began {formatDate(t.period_start)} (UTC).
      </p>
      <dl className="grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-5">
        {figures.map(([label, value, asOf]) => (
          <Figure key={label} label={label} value={value} asOf={asOf} />
        ))}
      </dl>
    </>
  );
}

function TrendCharts({
  rows,
  x,
  format,
  scope,
}: {
  rows: Trend[];
  x: "day" | "month";
  format: (v: string) => string;
  scope: string;
}) {
  const key = (r: Trend) => String(r[x]);
  const when = { key: x, label: x === "day" ? "Day (UTC)" : "Month (UTC)", render: (r: Trend) => format(String(r[x])) };
  return (
    <div className="grid gap-6 lg:grid-cols-2">
      <ChartOrTable
        title={`${scope} sign-ups and active users`}
        rows={rows}
        rowKey={key}
        columns={[
          when,
          { key: "signups", label: "Sign-ups", render: (r) => formatNumber(r.signups) },
          { key: "active", label: "Active users", render: (r) => formatNumber(r.active_users) },
        ]}
        chart={
          <Lines
            rows={rows}
            x={x}
            formatX={format}
            series={[
              { key: "signups", label: "Sign-ups" },
              { key: "active_users", label: "Active users" },
            ]}
          />
        }
      />
      <ChartOrTable
        title={`${scope} tokens`}
        rows={rows}
        rowKey={key}
        columns={[
          when,
          { key: "tokens", label: "Tokens", render: (r) => formatNumber(r.tokens) },
          { key: "calls", label: "Provider calls", render: (r) => formatNumber(r.provider_calls) },
        ]}
        chart={
          <Lines
            rows={rows}
            x={x}
            formatX={format}
            formatY={(v) => formatNumber(v)}
            series={[{ key: "tokens", label: "Tokens" }]}
          />
        }
      />
      <ChartOrTable
        title={`${scope} cost`}
        rows={rows}
        rowKey={key}
        columns={[when, { key: "cost", label: "Cost", render: (r) => formatUsd(r.cost_usd) }]}
        chart={
          <Lines
            rows={rows}
            x={x}
            formatX={format}
            formatY={(v) => formatUsd(v)}
            series={[{ key: "cost_usd", label: "Cost (USD)" }]}
          />
        }
      />
    </div>
  );
}

/** One resolution of the trends (daily or monthly): its range picker, freshness and charts. */
function TrendBlock({
  x,
  param,
  fallback,
  ranges,
  view,
  since,
  format,
}: {
  x: "day" | "month";
  param: string;
  fallback: string;
  ranges: { value: string; label: string }[];
  view: "daily_trends" | "monthly_trends";
  since: (range: number) => string;
  format: (v: string) => string;
}) {
  const [params, update] = useUrlParams();
  const range = params.get(param) ?? fallback;
  const scope = x === "day" ? "Daily" : "Monthly";
  const trend = useQuery({
    queryKey: ["admin", view, range],
    // The charts (and a "view as table" choice) stay while another range loads.
    placeholderData: keepPreviousData,
    queryFn: async () =>
      unwrap<Trend[]>(
        await adminDb().from(view).select("*").gte(x, since(Number(range))).order(x),
      ),
  });
  return (
    <div className="space-y-3">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <h3 className="font-semibold">{scope}</h3>
        <div className="w-48">
          <SelectField
            label={`${scope} range`}
            value={range}
            options={ranges}
            onChange={(e) => update({ [param]: e.target.value })}
          />
        </div>
      </div>
      <QueryView query={trend}>
        {(rows) =>
          rows.length === 0 ? (
            <EmptyState title={`No ${x === "day" ? "days" : "months"} in this range yet`} />
          ) : (
            <>
              <Freshness at={rows[rows.length - 1]?.as_of} label="Folded" />
              <TrendCharts rows={rows} x={x} format={format} scope={scope} />
            </>
          )
        }
      </QueryView>
    </div>
  );
}

function Trends() {
  return (
    <Card
      title="Trends"
      actions={<span className="text-sm text-slate-600 dark:text-slate-300">Times in UTC</span>}
    >
      <div className="space-y-8">
        <TrendBlock x="day" param="days" fallback="30" ranges={RANGES} view="daily_trends" since={daysAgo} format={shortDay} />
        <TrendBlock
          x="month"
          param="months"
          fallback="12"
          ranges={MONTH_RANGES}
          view="monthly_trends"
          since={(months) => monthStartUtc(1 - months)}
          format={shortMonth}
        />
      </div>
    </Card>
  );
}

function sumBy(rows: CostRow[], key: "provider" | "model" | "plan_id") {
  const totals = new Map<string, { name: string; cost_usd: number; provider_calls: number }>();
  for (const r of rows) {
    const name = r[key] || "—";
    const t = totals.get(name) ?? { name, cost_usd: 0, provider_calls: 0 };
    t.cost_usd += Number(r.cost_usd);
    t.provider_calls += Number(r.provider_calls);
    totals.set(name, t);
  }
  return [...totals.values()].sort((a, b) => b.cost_usd - a.cost_usd);
}

function MonthPicker({ value, onChange }: { value: string; onChange: (v: string) => void }) {
  const options = Array.from({ length: 12 }, (_, i) => {
    const start = monthStartUtc(-i);
    return { value: start, label: shortMonth(start) };
  });
  return (
    <div className="w-48">
      <SelectField label="Month (UTC)" value={value} options={options} onChange={(e) => onChange(e.target.value)} />
    </div>
  );
}

function MonthSections() {
  const [params, update] = useUrlParams();
  const month = params.get("month") ?? monthStartUtc();
  const features = useQuery({
    queryKey: ["admin", "feature_usage", month],
    queryFn: async () =>
      unwrap<Feature[]>(
        await adminDb().from("feature_usage").select("*").eq("period_start", month).order("feature"),
      ),
  });
  const costs = useQuery({
    queryKey: ["admin", "cost_breakdown", month],
    queryFn: async () =>
      unwrap<CostRow[]>(
        await adminDb()
          .from("cost_breakdown")
          .select("provider,kind,model,plan_id,provider_calls,cost_usd,as_of")
          .eq("period_start", month),
      ),
  });
  const top = useQuery({
    queryKey: ["admin", "top_users", month],
    queryFn: async () =>
      unwrap<TopUser[]>(
        await adminDb()
          .from("top_users")
          .select("*")
          .eq("period_start", month)
          .order("rank")
          .limit(10),
      ),
  });
  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <h2 className="text-lg font-semibold">By month: {shortMonth(month)}</h2>
        <MonthPicker value={month} onChange={(v) => update({ month: v })} />
      </div>
      <Card title="Feature usage" actions={features.data?.[0] && <Freshness at={features.data[0].as_of} />}>
        <QueryView query={features}>
          {(rows) =>
            rows.length === 0 ? (
              <EmptyState title="No usage this month">
                Chat, speech, transcription and phone calls show here once used.
              </EmptyState>
            ) : (
              <ChartOrTable
                title="Calls by feature"
                rows={rows}
                rowKey={(r) => `${r.feature}/${r.kind}`}
                columns={[
                  { key: "feature", label: "Feature", render: (r) => r.feature },
                  { key: "calls", label: "Calls", render: (r) => formatNumber(r.provider_calls) },
                  { key: "failed", label: "Failed", render: (r) => formatNumber(r.failed_calls) },
                  { key: "tokens", label: "Tokens", render: (r) => formatNumber(r.tokens) },
                  { key: "audio", label: "Audio minutes", render: (r) => formatNumber(r.audio_minutes) },
                  { key: "phone", label: "Phone minutes", render: (r) => formatNumber(r.call_minutes) },
                  { key: "cost", label: "Cost", render: (r) => formatUsd(r.cost_usd) },
                ]}
                chart={
                  <Bars
                    rows={rows}
                    x="feature"
                    series={[
                      { key: "provider_calls", label: "Calls" },
                      { key: "failed_calls", label: "Failed" },
                    ]}
                  />
                }
              />
            )
          }
        </QueryView>
      </Card>
      <Card title="Cost breakdown" actions={costs.data?.[0] && <Freshness at={costs.data[0].as_of} />}>
        <QueryView query={costs}>
          {(data) =>
            data.length === 0 ? (
              <EmptyState title="No cost this month" />
            ) : (
              <div className="grid gap-6 lg:grid-cols-3">
                {(
                  [
                    ["provider", "Cost by provider", "Provider"],
                    ["model", "Cost by model", "Model"],
                    ["plan_id", "Cost by plan", "Plan"],
                  ] as const
                ).map(([key, title, label]) => {
                  const rows = sumBy(data, key);
                  return (
                    <ChartOrTable
                      key={key}
                      title={title}
                      rows={rows}
                      rowKey={(r) => r.name}
                      columns={[
                        { key: "name", label, render: (r) => r.name },
                        { key: "calls", label: "Calls", render: (r) => formatNumber(r.provider_calls) },
                        { key: "cost", label: "Cost", render: (r) => formatUsd(r.cost_usd) },
                      ]}
                      chart={<Bars rows={rows} x="name" formatY={(v) => formatUsd(v)} series={[{ key: "cost_usd", label: "Cost (USD)" }]} />}
                    />
                  );
                })}
              </div>
            )
          }
        </QueryView>
      </Card>
      <Card title="Top users by cost" actions={top.data?.[0] && <Freshness at={top.data[0].as_of} label="ranked" />}>
        <QueryView query={top}>
          {(rows) => (
            <DataTable
              caption="Top users by cost"
              rows={rows}
              rowKey={(u) => u.user_id}
              empty="Nobody has used anything this month"
              columns={[
                { label: "#", render: (u) => u.rank },
                { label: "User", render: (u) => <Link to={`/admin/users/${u.user_id}`}>{u.email}</Link> },
                { label: "Organization", render: (u) => u.organization_name ?? "—" },
                { label: "Plan", render: (u) => u.plan_id },
                { label: "Tokens", render: (u) => formatNumber(u.tokens_used) },
                { label: "Calls", render: (u) => formatNumber(u.provider_calls) },
                { label: "Cost", render: (u) => formatUsd(u.cost_usd) },
              ]}
            />
          )}
        </QueryView>
      </Card>
    </div>
  );
}

export default function Overview() {
  return (
    <div className="space-y-8">
      <PageHeader title="Overview" description="The whole platform. Times and periods are in UTC." />
      <TotalsGrid />
      <Trends />
      <MonthSections />
    </div>
  );
}
