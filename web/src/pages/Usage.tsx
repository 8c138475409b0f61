// The usage dashboard: this period's tokens against the limit, cost by provider, audio and call
// minutes, warnings, a daily chart (with its table), the projection and closed periods. Every
// figure comes from counters and rollups (usage_summary, usage_by_provider, usage_daily,
// period_summaries), never from the event ledger. Recharts lives in this chunk only.
import { Link } from "react-router-dom";
import { useQuery } from "@tanstack/react-query";
import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
  type TooltipContentProps,
} from "recharts";
import { ChartOrTable } from "../components/ChartOrTable";
import {
  Card,
  EmptyState,
  Meter,
  Notice,
  PageHeader,
  QueryView,
  Table,
  td,
  th,
} from "../components/ui";
import { unwrap } from "../lib/api";
import { useAuth } from "../lib/auth";
import {
  daysOfPeriod,
  formatDate,
  formatMinutes,
  formatNumber,
  formatPercent,
  formatPeriod,
  formatUsd,
  parsePeriodStart,
  projectToPeriodEnd,
  resetsIn,
  warningLevel,
  type Period,
} from "../lib/format";
import { keys, useUsageSummary, type UsageSummary } from "../lib/queries";
import { supabase } from "../lib/supabase";

interface ProviderRow {
  provider: string;
  kind: string;
  events: number;
  failures: number;
  input_tokens: number;
  output_tokens: number;
  audio_seconds: number;
  characters: number;
  call_seconds: number;
  cost_usd: number;
}

interface DailyRow {
  day: string;
  events: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
}

interface Day {
  day: string;
  label: string;
  input: number;
  output: number;
  tokens: number;
  cost: number;
  events: number;
}

interface ClosedPeriod {
  period_start: string;
  events: number;
  tokens: number;
  audio_seconds: number;
  call_seconds: number;
  cost_usd: number;
  adjustments_usd: number;
}

const PROVIDER_NAMES: Record<string, string> = {
  groq: "Groq",
  deepgram: "Deepgram",
  twilio: "Twilio",
};

const KIND_NAMES: Record<string, string> = {
  llm: "Chat (LLM)",
  stt: "Transcription",
  tts: "Speech",
  call: "Phone calls",
  phone: "Phone calls",
};

function providerName(id: string) {
  return PROVIDER_NAMES[id] ?? id;
}

function kindName(id: string) {
  return KIND_NAMES[id] ?? id;
}

const DAY_LABEL = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });

function dayLabel(day: string) {
  return DAY_LABEL.format(new Date(`${day}T00:00:00Z`));
}

/** Daily rollup rows (one per provider, kind, model) summed per day, every day present. */
function dailySeries(rows: DailyRow[], period: Period, now: Date): Day[] {
  const byDay = new Map<string, Day>();
  for (const day of daysOfPeriod(period, now)) {
    byDay.set(day, { day, label: dayLabel(day), input: 0, output: 0, tokens: 0, cost: 0, events: 0 });
  }
  for (const row of rows) {
    const day = row.day.slice(0, 10);
    let entry = byDay.get(day);
    if (!entry) {
      entry = { day, label: dayLabel(day), input: 0, output: 0, tokens: 0, cost: 0, events: 0 };
      byDay.set(day, entry);
    }
    entry.input += Number(row.input_tokens);
    entry.output += Number(row.output_tokens);
    entry.tokens = entry.input + entry.output;
    entry.cost += Number(row.cost_usd);
    entry.events += Number(row.events);
  }
  return [...byDay.values()].sort((a, b) => a.day.localeCompare(b.day));
}

function useProviderBreakdown() {
  return useQuery({
    queryKey: [...keys.usageSummary, "by_provider"],
    queryFn: async () =>
      unwrap<ProviderRow[]>(
        await supabase()
          .from("usage_by_provider")
          .select(
            "provider,kind,events,failures,input_tokens,output_tokens,audio_seconds,characters,call_seconds,cost_usd",
          )
          .order("provider")
          .order("kind"),
      ),
  });
}

function useDaily(periodStart: string) {
  return useQuery({
    queryKey: [...keys.usageSummary, "daily", periodStart],
    queryFn: async () =>
      unwrap<DailyRow[]>(
        await supabase()
          .from("usage_daily")
          .select("day,events,input_tokens,output_tokens,cost_usd")
          .eq("period_start", periodStart)
          .order("day"),
      ),
  });
}

function useHistory(userId: string | undefined) {
  return useQuery({
    queryKey: ["period_summaries", userId],
    enabled: !!userId,
    queryFn: async () => {
      const rows = unwrap<
        {
          period_start: string;
          events: number;
          input_tokens: number;
          output_tokens: number;
          audio_seconds: number;
          call_seconds: number;
          cost_usd: number;
          adjustments_usd: number;
        }[]
      >(
        await supabase()
          .from("period_summaries")
          .select(
            "period_start,events,input_tokens,output_tokens,audio_seconds,call_seconds,cost_usd,adjustments_usd",
          )
          .eq("user_id", userId!)
          .order("period_start", { ascending: false })
          .limit(1000),
      );
      const periods = new Map<string, ClosedPeriod>();
      for (const r of rows) {
        const p = periods.get(r.period_start) ?? {
          period_start: r.period_start,
          events: 0,
          tokens: 0,
          audio_seconds: 0,
          call_seconds: 0,
          cost_usd: 0,
          adjustments_usd: 0,
        };
        p.events += Number(r.events);
        p.tokens += Number(r.input_tokens) + Number(r.output_tokens);
        p.audio_seconds += Number(r.audio_seconds);
        p.call_seconds += Number(r.call_seconds);
        p.cost_usd += Number(r.cost_usd);
        p.adjustments_usd += Number(r.adjustments_usd);
        periods.set(r.period_start, p);
      }
      return [...periods.values()];
    },
  });
}

function Warnings({ usage }: { usage: UsageSummary }) {
  const tokens = warningLevel(Number(usage.tokens_percent ?? 0));
  const costLimit = Number(usage.cost_limit_usd ?? 0);
  const costPercent = costLimit > 0 ? (Number(usage.cost_usd) / costLimit) * 100 : 0;
  const cost = warningLevel(costPercent);
  const used = `${formatNumber(usage.tokens_used)} of ${formatNumber(usage.token_limit)} tokens`;
  return (
    <>
      {/* At 100 % the layout's blocking banner says it, on every page. */}
      {tokens === 95 && (
        <Notice tone="error" title={`You have used ${formatPercent(usage.tokens_percent)} of this month's tokens`} live>
          {used}. When the rest is spent, chats, speech and calls are refused until the period{" "}
          {resetsIn(usage.days_until_reset)}. <Link to="/plans">Upgrade your plan</Link> to keep
          going.
        </Notice>
      )}
      {tokens === 80 && (
        <Notice tone="warning" title={`You have used ${formatPercent(usage.tokens_percent)} of this month's tokens`}>
          {used}. The period {resetsIn(usage.days_until_reset)}.{" "}
          <Link to="/plans">Compare plans</Link> if you need more.
        </Notice>
      )}
      {cost > 0 && (
        <Notice
          tone={cost >= 95 ? "error" : "warning"}
          title={`This month's cost is at ${formatPercent(costPercent)} of your plan's ceiling`}
          live={cost >= 95}
        >
          {formatUsd(usage.cost_usd)} of {formatUsd(costLimit)}.{" "}
          <Link to="/plans">Compare plans</Link>.
        </Notice>
      )}
    </>
  );
}

function Stat({ label, value, detail }: { label: string; value: string; detail?: string }) {
  return (
    <Card>
      <p className="text-sm text-slate-600 dark:text-slate-300">{label}</p>
      <p className="mt-1 text-2xl font-semibold">{value}</p>
      {detail && <p className="mt-1 text-xs text-slate-600 dark:text-slate-300">{detail}</p>}
    </Card>
  );
}

function ChartTooltip({ active, payload, label }: TooltipContentProps) {
  if (!active || !payload?.length) return null;
  return (
    <div className="rounded-md border border-slate-300 bg-white p-2 text-xs text-slate-900 shadow dark:border-slate-600 dark:bg-slate-800 dark:text-slate-100">
      <p className="font-semibold">{label}</p>
      {payload.map((item) => (
        <p key={String(item.dataKey)}>
          {item.name}: {formatNumber(Number(item.value))}
        </p>
      ))}
    </div>
  );
}

function DailyUsage({ rows, period }: { rows: DailyRow[]; period: Period }) {
  const days = dailySeries(rows, period, new Date());
  if (days.every((d) => d.events === 0))
    return (
      <EmptyState title="Nothing used this period yet">
        <Link to="/agents">Test an agent</Link> and its tokens show here day by day.
      </EmptyState>
    );
  return <DailyChart days={days} />;
}

function DailyChart({ days }: { days: Day[] }) {
  return (
    <ChartOrTable
      title="Tokens per day"
      rows={days}
      rowKey={(d) => d.day}
      columns={[
        { key: "day", label: "Day", render: (d) => formatDate(d.day) },
        { key: "tokens", label: "Tokens", render: (d) => formatNumber(d.tokens) },
        { key: "input", label: "Input tokens", render: (d) => formatNumber(d.input) },
        { key: "output", label: "Output tokens", render: (d) => formatNumber(d.output) },
        { key: "events", label: "Requests", render: (d) => formatNumber(d.events) },
        { key: "cost", label: "Cost", render: (d) => formatUsd(d.cost) },
      ]}
      chart={
        <div className="h-full w-full text-slate-700 dark:text-slate-300">
          <ResponsiveContainer width="100%" height="100%">
            <BarChart data={days} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="currentColor" strokeOpacity={0.2} />
              <XAxis dataKey="label" tick={{ fill: "currentColor", fontSize: 12 }} stroke="currentColor" />
              <YAxis
                tick={{ fill: "currentColor", fontSize: 12 }}
                stroke="currentColor"
                width={56}
                tickFormatter={(v: number) => formatNumber(v)}
              />
              <Tooltip content={ChartTooltip} cursor={{ fillOpacity: 0.1 }} />
              <Legend
                wrapperStyle={{ fontSize: 12 }}
                formatter={(value: string) => (
                  <span className="text-slate-800 dark:text-slate-100">{value}</span>
                )}
              />
              <Bar dataKey="input" name="Input tokens" stackId="t" fill="#4f46e5" isAnimationActive={false} />
              <Bar dataKey="output" name="Output tokens" stackId="t" fill="#0891b2" isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        </div>
      }
    />
  );
}

function Projection({ usage, period }: { usage: UsageSummary; period: Period }) {
  const now = new Date();
  const projected = projectToPeriodEnd(Number(usage.tokens_used), period, now);
  const limit = Number(usage.token_limit);
  const projectedCost = projectToPeriodEnd(Number(usage.cost_usd) * 1e6, period, now) / 1e6;
  const lastDay = formatDate(new Date(period.end.getTime() - 86400000).toISOString());
  const over = limit > 0 && projected > limit;
  return (
    <Card title="Projection to the end of the period">
      <p>
        At this pace you will use about <strong>{formatNumber(projected)} tokens</strong> (
        {formatUsd(projectedCost)}) by {lastDay}
        {limit > 0 && <> — {formatPercent((projected / limit) * 100)} of your limit</>}.
      </p>
      {over ? (
        <p className="mt-2 text-sm text-red-800 dark:text-red-200">
          That is more than your {formatNumber(limit)}-token limit: requests would be refused before
          the period ends. <Link to="/plans">Upgrade your plan</Link> to avoid it.
        </p>
      ) : (
        <p className="mt-2 text-sm text-slate-600 dark:text-slate-300">
          That fits within your {formatNumber(limit)}-token limit.
        </p>
      )}
    </Card>
  );
}

function ByProvider({ rows }: { rows: ProviderRow[] }) {
  if (!rows.length)
    return (
      <EmptyState title="No provider calls yet this period">
        Chat with an agent, or have it speak or transcribe, and its cost shows here.
      </EmptyState>
    );
  const total = rows.reduce((sum, r) => sum + Number(r.cost_usd), 0);
  return (
    <Table caption="Cost by provider and kind this period">
      <thead>
        <tr>
          <th scope="col" className={th}>Provider</th>
          <th scope="col" className={th}>Kind</th>
          <th scope="col" className={`${th} text-right`}>Requests</th>
          <th scope="col" className={`${th} text-right`}>Tokens</th>
          <th scope="col" className={`${th} text-right`}>Audio</th>
          <th scope="col" className={`${th} text-right`}>Cost</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={`${r.provider}-${r.kind}`}>
            <td className={td}>{providerName(r.provider)}</td>
            <td className={td}>{kindName(r.kind)}</td>
            <td className={`${td} text-right`}>
              {formatNumber(r.events)}
              {Number(r.failures) > 0 && (
                <span className="text-xs text-slate-600 dark:text-slate-300"> ({formatNumber(r.failures)} failed)</span>
              )}
            </td>
            <td className={`${td} text-right`}>
              {formatNumber(Number(r.input_tokens) + Number(r.output_tokens))}
            </td>
            <td className={`${td} text-right`}>
              {Number(r.call_seconds) > 0
                ? formatMinutes(r.call_seconds)
                : Number(r.audio_seconds) > 0
                  ? formatMinutes(r.audio_seconds)
                  : Number(r.characters) > 0
                    ? `${formatNumber(r.characters)} chars`
                    : "—"}
            </td>
            <td className={`${td} text-right`}>{formatUsd(r.cost_usd)}</td>
          </tr>
        ))}
      </tbody>
      <tfoot>
        <tr>
          <th scope="row" colSpan={5} className={`${td} font-semibold`}>Total</th>
          <td className={`${td} text-right font-semibold`}>{formatUsd(total)}</td>
        </tr>
      </tfoot>
    </Table>
  );
}

function History({ periods }: { periods: ClosedPeriod[] }) {
  if (!periods.length)
    return (
      <EmptyState title="No closed periods yet">
        Each month's totals appear here once the month has closed.
      </EmptyState>
    );
  return (
    <Table caption="Closed periods">
      <thead>
        <tr>
          <th scope="col" className={th}>Period</th>
          <th scope="col" className={`${th} text-right`}>Tokens</th>
          <th scope="col" className={`${th} text-right`}>Requests</th>
          <th scope="col" className={`${th} text-right`}>Audio</th>
          <th scope="col" className={`${th} text-right`}>Calls</th>
          <th scope="col" className={`${th} text-right`}>Cost</th>
        </tr>
      </thead>
      <tbody>
        {periods.map((p) => (
          <tr key={p.period_start}>
            <th scope="row" className={`${td} font-normal`}>
              {formatPeriod(parsePeriodStart(p.period_start))}
            </th>
            <td className={`${td} text-right`}>{formatNumber(p.tokens)}</td>
            <td className={`${td} text-right`}>{formatNumber(p.events)}</td>
            <td className={`${td} text-right`}>{formatMinutes(p.audio_seconds)}</td>
            <td className={`${td} text-right`}>{formatMinutes(p.call_seconds)}</td>
            <td className={`${td} text-right`}>
              {formatUsd(p.cost_usd + p.adjustments_usd)}
              {p.adjustments_usd !== 0 && (
                <span className="block text-xs text-slate-600 dark:text-slate-300">
                  incl. {formatUsd(p.adjustments_usd)} late adjustments
                </span>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </Table>
  );
}

export default function Usage() {
  const summary = useUsageSummary();
  const usage = summary.data ?? null;
  const period = usage ? parsePeriodStart(usage.period_start) : null;
  return (
    <>
      <PageHeader
        title="Usage"
        description={
          usage &&
          period && (
            <>
              Current period: <strong>{formatPeriod(period)}</strong>,{" "}
              {resetsIn(usage.days_until_reset)} (on {formatDate(usage.resets_on)}).{" "}
              {usage.plan_name} plan.
            </>
          )
        }
      />
      <QueryView query={summary} loading="Loading your usage…" failed="Could not load your usage">
        {() =>
          usage && period ? (
            <Dashboard usage={usage} period={period} />
          ) : (
            <EmptyState title="No usage to show">Your account has no usage record yet.</EmptyState>
          )
        }
      </QueryView>
    </>
  );
}

function Dashboard({ usage, period }: { usage: UsageSummary; period: Period }) {
  const { session } = useAuth();
  const daily = useDaily(usage.period_start);
  const byProvider = useProviderBreakdown();
  const history = useHistory(session?.user.id);
  const limit = Number(usage.token_limit);
  const used = Number(usage.tokens_used);
  const reserved = Number(usage.tokens_reserved);
  const costLimit = usage.cost_limit_usd == null ? null : Number(usage.cost_limit_usd);

  return (
    <div className="space-y-4">
      <Warnings usage={usage} />

      <Card title="Tokens this period">
        <p className="mb-2">
          <strong className="text-xl">{formatNumber(used)}</strong> of {formatNumber(limit)} tokens
          used ({formatPercent(usage.tokens_percent)})
        </p>
        <Meter label="Tokens used this period" value={used} max={limit} />
        <p className="mt-2 text-sm text-slate-600 dark:text-slate-300">
          {formatNumber(Math.max(0, limit - used))} tokens left
          {reserved > 0 && <>; {formatNumber(reserved)} held for replies in progress</>}.{" "}
          <Link to="/plans">Compare plans</Link>
        </p>
      </Card>

      <div className="grid grid-cols-2 gap-3 sm:gap-4 lg:grid-cols-4">
        <Stat
          label="Cost this period"
          value={formatUsd(usage.cost_usd)}
          detail={costLimit ? `of a ${formatUsd(costLimit)} ceiling` : undefined}
        />
        <Stat label="Audio minutes" value={formatMinutes(usage.audio_seconds)} detail="Transcribed speech" />
        <Stat label="Call minutes" value={formatMinutes(usage.call_seconds)} detail="Phone calls" />
        <Stat
          label="Requests"
          value={formatNumber(usage.events)}
          detail={`${formatNumber(usage.characters)} characters spoken`}
        />
      </div>

      <Projection usage={usage} period={period} />

      <Card title="Daily usage">
        <QueryView query={daily} loading="Loading daily usage…" failed="Could not load daily usage">
          {(rows) => <DailyUsage rows={rows} period={period} />}
        </QueryView>
      </Card>

      <Card title="Cost by provider and kind">
        <QueryView
          query={byProvider}
          loading="Loading cost by provider…"
          failed="Could not load cost by provider"
        >
          {(rows) => <ByProvider rows={rows} />}
        </QueryView>
      </Card>

      <Card title="Past periods">
        <QueryView query={history} loading="Loading past periods…" failed="Could not load past periods">
          {(periods) => <History periods={periods} />}
        </QueryView>
      </Card>
    </div>
  );
}
