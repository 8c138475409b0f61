// Traffic, errors and latency per gateway route and per provider, per minute (24 h) or per hour
// (30 days), refreshed every 30 seconds, with the thresholds drawn on the charts.
import { useQuery } from "@tanstack/react-query";
import { adminDb } from "../../lib/supabase";
import { unwrap } from "../../lib/api";
import { formatNumber, formatRelative, formatUtc } from "../../lib/format";
import { ChartOrTable, type Column } from "../../components/ChartOrTable";
import { Button, Card, DataTable, EmptyState, PageHeader, QueryView, SelectField } from "../../components/ui";
import { Lines, type SeriesDef, type Threshold } from "./charts";
import { useUrlParams } from "./shared";

interface HealthRow {
  granularity: "minute" | "hour";
  bucket_start: string;
  source: "route" | "provider";
  name: string;
  requests: number;
  client_errors: number;
  server_errors: number;
  client_error_rate: number | null;
  server_error_rate: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
}

/** Where the console draws its lines (the anomaly rules alert on their own thresholds). */
const P95_MS = 500;
const SERVER_ERROR_RATE = 0.01;

const pct = (v: number | null | undefined) => (v == null ? "—" : `${(Number(v) * 100).toFixed(2)} %`);
const ms = (v: number | null | undefined) => (v == null ? "—" : `${fmtMs(Number(v))} ms`);
const fmtMs = (v: number) => (v < 10 ? v.toFixed(1) : formatNumber(v));

interface Summary {
  name: string;
  requests: number;
  client: number;
  server: number;
  worstP95: number | null;
}

/** A bucket as charted: error rates in percent. */
interface Point extends HealthRow {
  client_pct: number | null;
  server_pct: number | null;
}

const toPoint = (r: HealthRow): Point => ({
  ...r,
  client_pct: r.client_error_rate == null ? null : Number(r.client_error_rate) * 100,
  server_pct: r.server_error_rate == null ? null : Number(r.server_error_rate) * 100,
});

const when: Column<Point> = { key: "at", label: "Time (UTC)", render: (r) => formatUtc(r.bucket_start) };

/** One of the series' charts, over time, with its table (time first) and any thresholds. */
function HealthChart({
  title,
  points,
  formatX,
  columns,
  series,
  formatY,
  thresholds,
}: {
  title: string;
  points: Point[];
  formatX: (value: string) => string;
  columns: Column<Point>[];
  series: SeriesDef[];
  formatY?: (value: number) => string;
  thresholds?: Threshold[];
}) {
  return (
    <ChartOrTable
      title={title}
      rows={points}
      rowKey={(r) => r.bucket_start}
      columns={[when, ...columns]}
      chart={<Lines rows={points} x="bucket_start" formatX={formatX} formatY={formatY} series={series} thresholds={thresholds} />}
    />
  );
}

function summarize(rows: HealthRow[]): Summary[] {
  const by = new Map<string, Summary>();
  for (const r of rows) {
    const s = by.get(r.name) ?? { name: r.name, requests: 0, client: 0, server: 0, worstP95: null };
    s.requests += Number(r.requests);
    s.client += Number(r.client_errors);
    s.server += Number(r.server_errors);
    if (r.p95_ms != null) s.worstP95 = Math.max(s.worstP95 ?? 0, Number(r.p95_ms));
    by.set(r.name, s);
  }
  return [...by.values()].sort((a, b) => b.requests - a.requests);
}

export default function Health() {
  const [params, set] = useUrlParams();
  const source = params.get("source") === "provider" ? "provider" : "route";
  const granularity = params.get("per") === "hour" ? "hour" : "minute";

  // The last 24 hours by name, from the hour rows (at most 24 per name).
  const summary = useQuery({
    queryKey: ["admin", "health", "summary", source],
    refetchInterval: 30000,
    queryFn: async () =>
      unwrap<HealthRow[]>(
        await adminDb()
          .from("system_health")
          .select("*")
          .eq("granularity", "hour")
          .eq("source", source)
          .gte("bucket_start", new Date(Date.now() - 24 * 3600 * 1000).toISOString())
          .limit(5000),
      ),
  });
  const names = summary.data ? summarize(summary.data) : [];
  // Static files are the busiest and least interesting: the first other route is shown.
  const name = params.get("name") ?? (names.find((n) => !n.name.startsWith("/:static")) ?? names[0])?.name ?? "";

  const series = useQuery({
    queryKey: ["admin", "health", "series", source, granularity, name],
    enabled: !!name,
    refetchInterval: 30000,
    queryFn: async () =>
      unwrap<HealthRow[]>(
        await adminDb()
          .from("system_health")
          .select("*")
          .eq("granularity", granularity)
          .eq("source", source)
          .eq("name", name)
          .order("bucket_start")
          .limit(2000),
      ),
  });

  const fmtX =
    granularity === "minute"
      ? (v: string) => new Date(v).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", timeZone: "UTC" })
      : (v: string) =>
          new Date(v).toLocaleString("en-GB", { day: "numeric", month: "short", hour: "2-digit", timeZone: "UTC" });
  const points = (series.data ?? []).map(toPoint);
  const latest = series.data?.[series.data.length - 1]?.bucket_start;

  return (
    <div className="space-y-6">
      <PageHeader
        title="Health"
        description="Requests, error rates and latency from the gateway's log (routes) and metered calls (providers). Times in UTC."
        actions={
          <Button variant="secondary" onClick={() => { void summary.refetch(); void series.refetch(); }}>
            Refresh now
          </Button>
        }
      />
      <p role="status" className="text-sm text-slate-700 dark:text-slate-300">
        Updated {summary.dataUpdatedAt ? formatRelative(new Date(summary.dataUpdatedAt).toISOString()) : "never"}; refreshes every 30 seconds.
        {latest && ` Latest bucket: ${formatUtc(latest)}.`}
      </p>
      <Card>
        <div className="grid grid-cols-1 gap-3 sm:grid-cols-3">
          <SelectField
            label="Source"
            value={source}
            onChange={(e) => set({ source: e.target.value === "route" ? null : e.target.value, name: null })}
            options={[
              { value: "route", label: "Gateway routes" },
              { value: "provider", label: "Providers" },
            ]}
          />
          <SelectField
            label="Resolution"
            value={granularity}
            onChange={(e) => set({ per: e.target.value === "minute" ? null : e.target.value })}
            options={[
              { value: "minute", label: "Per minute, last 24 hours" },
              { value: "hour", label: "Per hour, last 30 days" },
            ]}
          />
          <SelectField
            label={source === "route" ? "Route" : "Provider"}
            value={name}
            onChange={(e) => set({ name: e.target.value })}
            options={names.length ? names.map((n) => ({ value: n.name, label: n.name })) : [{ value: "", label: "None yet" }]}
          />
        </div>
      </Card>

      <Card title={`Last 24 hours by ${source === "route" ? "route" : "provider"}`}>
        <QueryView query={summary}>
          {() => (
            <DataTable
              caption={`Last 24 hours by ${source}`}
              rows={names}
              rowKey={(r) => r.name}
              empty="No traffic in the last 24 hours"
              columns={[
                { label: source === "route" ? "Route" : "Provider", render: (r) => <code className="text-xs">{r.name}</code> },
                { label: "Requests", render: (r) => formatNumber(r.requests) },
                { label: "4xx rate", render: (r) => pct(r.requests ? r.client / r.requests : null) },
                { label: "5xx rate", render: (r) => pct(r.requests ? r.server / r.requests : null) },
                { label: "Worst hourly p95", render: (r) => ms(r.worstP95) },
              ]}
            />
          )}
        </QueryView>
      </Card>

      {name && (
        <Card title={`${name}, ${granularity === "minute" ? "per minute" : "per hour"}`}>
          <QueryView query={series}>
            {() =>
              points.length === 0 ? (
                <EmptyState title="No requests in this window" />
              ) : (
                <div className="grid gap-6 lg:grid-cols-2">
                  <HealthChart
                    title="Requests"
                    points={points}
                    formatX={fmtX}
                    columns={[{ key: "requests", label: "Requests", render: (r) => formatNumber(r.requests) }]}
                    series={[{ key: "requests", label: "Requests" }]}
                  />
                  <HealthChart
                    title="Latency"
                    points={points}
                    formatX={fmtX}
                    columns={[
                      { key: "p50", label: "p50", render: (r) => ms(r.p50_ms) },
                      { key: "p95", label: "p95", render: (r) => ms(r.p95_ms) },
                      { key: "p99", label: "p99", render: (r) => ms(r.p99_ms) },
                    ]}
                    series={[
                      { key: "p50_ms", label: "p50" },
                      { key: "p95_ms", label: "p95" },
                      { key: "p99_ms", label: "p99" },
                    ]}
                    formatY={(v) => `${fmtMs(v)} ms`}
                    thresholds={[{ value: P95_MS, label: `p95 target ${P95_MS} ms` }]}
                  />
                  <HealthChart
                    title="Error rates"
                    points={points}
                    formatX={fmtX}
                    columns={[
                      { key: "c", label: "4xx rate", render: (r) => pct(r.client_error_rate) },
                      { key: "s", label: "5xx rate", render: (r) => pct(r.server_error_rate) },
                    ]}
                    series={[
                      { key: "client_pct", label: "4xx %" },
                      { key: "server_pct", label: source === "provider" ? "failed %" : "5xx %" },
                    ]}
                    formatY={(v) => `${v.toFixed(1)} %`}
                    thresholds={[{ value: SERVER_ERROR_RATE * 100, label: `5xx limit ${SERVER_ERROR_RATE * 100} %` }]}
                  />
                </div>
              )
            }
          </QueryView>
        </Card>
      )}
    </div>
  );
}
