// Recharts wrappers for the admin pages (imported only by the pages that draw charts, so
// Recharts loads only there). Each is shown through ChartOrTable: a table is one click away.
import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";

/** Axis and tooltip styling that reads in both themes (text takes the page's colour). */
const axisTick = { fill: "currentColor", fontSize: 12 };
const tooltipStyle = {
  contentStyle: {
    background: "var(--tooltip-bg, #0f172a)",
    border: "none",
    borderRadius: 6,
    color: "#f8fafc",
    fontSize: 12,
  },
  itemStyle: { color: "#f8fafc" },
  labelStyle: { color: "#f8fafc" },
};
const SERIES = ["#4f46e5", "#059669", "#d97706", "#db2777", "#0891b2"];

// Legend text in the page's colours (the series colours alone fail contrast on dark).
const legendText = (value: string) => (
  <span className="text-slate-800 dark:text-slate-100">{value}</span>
);

export interface SeriesDef {
  key: string;
  label: string;
}

export interface Threshold {
  value: number;
  label: string;
}

export function Lines<Row extends object>({
  rows,
  x,
  series,
  formatX,
  formatY,
  thresholds = [],
}: {
  rows: Row[];
  x: keyof Row & string;
  series: SeriesDef[];
  formatX?: (value: string) => string;
  formatY?: (value: number) => string;
  thresholds?: Threshold[];
}) {
  return (
    <ResponsiveContainer width="100%" height="100%">
      <LineChart data={rows as unknown as Record<string, unknown>[]} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
        <CartesianGrid strokeDasharray="3 3" stroke="#94a3b8" strokeOpacity={0.4} />
        <XAxis dataKey={x as string} tick={axisTick} tickFormatter={formatX} minTickGap={24} />
        <YAxis tick={axisTick} tickFormatter={formatY} width={64} />
        <Tooltip
          {...tooltipStyle}
          labelFormatter={(label) => (formatX ? formatX(String(label)) : String(label))}
          formatter={(value) => (formatY ? formatY(Number(value)) : String(value))}
        />
        <Legend wrapperStyle={{ fontSize: 12 }} formatter={legendText} />
        {series.map((s, i) => (
          <Line
            key={s.key}
            type="monotone"
            dataKey={s.key}
            name={s.label}
            stroke={SERIES[i % SERIES.length]}
            strokeWidth={2}
            dot={rows.length < 40}
            isAnimationActive={false}
          />
        ))}
        {thresholds.map((t) => (
          <ReferenceLine
            key={t.label}
            y={t.value}
            stroke="#dc2626"
            strokeDasharray="6 4"
            ifOverflow="extendDomain"
            label={{ value: t.label, position: "insideTopRight", fill: "currentColor", fontSize: 12 }}
          />
        ))}
      </LineChart>
    </ResponsiveContainer>
  );
}

export function Bars<Row extends object>({
  rows,
  x,
  series,
  formatY,
}: {
  rows: Row[];
  x: keyof Row & string;
  series: SeriesDef[];
  formatY?: (value: number) => string;
}) {
  return (
    <ResponsiveContainer width="100%" height="100%">
      <BarChart data={rows as unknown as Record<string, unknown>[]} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
        <CartesianGrid strokeDasharray="3 3" stroke="#94a3b8" strokeOpacity={0.4} />
        <XAxis dataKey={x as string} tick={axisTick} interval={0} />
        <YAxis tick={axisTick} tickFormatter={formatY} width={64} />
        <Tooltip
          {...tooltipStyle}
          cursor={{ fillOpacity: 0.1 }}
          formatter={(value) => (formatY ? formatY(Number(value)) : String(value))}
        />
        {series.length > 1 && <Legend wrapperStyle={{ fontSize: 12 }} formatter={legendText} />}
        {series.map((s, i) => (
          <Bar
            key={s.key}
            dataKey={s.key}
            name={s.label}
            fill={SERIES[i % SERIES.length]}
            isAnimationActive={false}
          />
        ))}
      </BarChart>
    </ResponsiveContainer>
  );
}
