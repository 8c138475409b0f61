// Every account, paged on the server. All filters, the search, the order and the page live in
// the URL, so a view can be shared and reloaded; "Export CSV" downloads exactly this view.
import { useState, type ChangeEvent, type FormEvent } from "react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { adminDb } from "../../lib/supabase";
import { unwrap } from "../../lib/api";
import { formatDate, formatNumber, formatRelative, formatUsd } from "../../lib/format";
import {
  Badge,
  Button,
  Card,
  Checkbox,
  EmptyState,
  QueryView,
  PageHeader,
  DataTable,
  SelectField,
  TextField,
  type Column,
} from "../../components/ui";
import {
  ExportButton,
  StatusBadge,
  applyPairs,
  dayAfter,
  dayStart,
  exportQuery,
  likeTerm,
  pageOf,
  STATUS_OPTIONS,
  usePlanOptions,
  useUrlParams,
  type Pair,
} from "./shared";

export interface OverviewRow {
  user_id: string;
  email: string;
  organization_name: string | null;
  role: string;
  status: string;
  plan_id: string;
  plan_name: string;
  agent_count: number;
  agent_limit: number;
  tokens_used: number;
  token_limit: number;
  cost_usd: number;
  last_sign_in_at: string | null;
  last_active_at: string | null;
  created_at: string;
  near_quota: boolean;
  over_quota: boolean;
}

const PAGE_SIZE = 25;

const SORTS = [
  { value: "created_at.desc", label: "Newest first" },
  { value: "created_at.asc", label: "Oldest first" },
  { value: "last_active_at.desc", label: "Recently active" },
  { value: "email.asc", label: "Email A–Z" },
  { value: "cost_usd.desc", label: "Cost, highest first" },
  { value: "tokens_used.desc", label: "Tokens, most first" },
];

const COLUMNS: Column<OverviewRow>[] = [
  { label: "Email", render: (u) => <Link to={`/admin/users/${u.user_id}`}>{u.email}</Link> },
  { label: "Organization", render: (u) => u.organization_name ?? "—" },
  { label: "Plan", render: (u) => u.plan_name },
  { label: "Role", render: (u) => (u.role === "admin" ? <Badge tone="info">admin</Badge> : "user") },
  { label: "Status", render: (u) => <StatusBadge status={u.status} /> },
  {
    label: "Tokens this month",
    render: (u) => (
      <>
        {formatNumber(u.tokens_used)} / {formatNumber(u.token_limit)}{" "}
        {u.over_quota ? (
          <Badge tone="error">over quota</Badge>
        ) : u.near_quota ? (
          <Badge tone="warning">near quota</Badge>
        ) : null}
      </>
    ),
  },
  { label: "Cost", render: (u) => formatUsd(u.cost_usd) },
  { label: "Agents", render: (u) => `${u.agent_count} / ${u.agent_limit}` },
  { label: "Last active", render: (u) => formatRelative(u.last_active_at) },
  { label: "Created", render: (u) => formatDate(u.created_at) },
];

const DATE_FILTERS = [
  ["created_from", "Created from"],
  ["created_to", "Created until"],
  ["active_from", "Last active from"],
  ["active_to", "Last active until"],
] as const;

/** The URL's filters as PostgREST pairs on admin.users_overview. */
export function userFilters(params: URLSearchParams): Pair[] {
  const pairs: Pair[] = [];
  const q = params.get("q")?.trim();
  if (q) pairs.push(["search", `ilike.${likeTerm(q)}`]);
  for (const [param, column] of [
    ["status", "status"],
    ["plan", "plan_id"],
    ["role", "role"],
  ] as const) {
    const value = params.get(param);
    if (value) pairs.push([column, `eq.${value}`]);
  }
  const range = (from: string, to: string, column: string) => {
    const a = params.get(from);
    const b = params.get(to);
    if (a) pairs.push([column, `gte.${dayStart(a)}`]);
    if (b) pairs.push([column, `lt.${dayAfter(b)}`]);
  };
  range("created_from", "created_to", "created_at");
  range("active_from", "active_to", "last_active_at");
  if (params.get("near_quota") === "1") pairs.push(["near_quota", "is.true"]);
  if (params.get("over_quota") === "1") pairs.push(["over_quota", "is.true"]);
  return pairs;
}

function sortOf(params: URLSearchParams): { column: string; ascending: boolean; raw: string } {
  const raw = SORTS.some((s) => s.value === params.get("sort"))
    ? params.get("sort")!
    : "created_at.desc";
  const [column, direction] = raw.split(".") as [string, string];
  return { column, ascending: direction === "asc", raw };
}

/** The search being typed, from the address; remounted (so refilled) when the address changes. */
function SearchForm({ initial, onSearch }: { initial: string; onSearch: (term: string) => void }) {
  const [term, setTerm] = useState(initial);
  return (
    <form
      onSubmit={(event: FormEvent) => {
        event.preventDefault();
        onSearch(term.trim());
      }}
      className="flex flex-wrap items-end gap-2"
      role="search"
    >
      <div className="min-w-0 flex-1">
        <TextField label="Search email or organization" type="search" value={term} onChange={(e) => setTerm(e.target.value)} />
      </div>
      <Button type="submit">Search</Button>
    </form>
  );
}

export default function Users() {
  const [params, set, setParams] = useUrlParams();
  const planOptions = usePlanOptions();
  const pairs = userFilters(params);
  const sort = sortOf(params);
  const page = pageOf(params);

  const list = useQuery({
    queryKey: ["admin", "users_overview", pairs, sort.raw, page],
    placeholderData: keepPreviousData,
    queryFn: async () => {
      const from = (page - 1) * PAGE_SIZE;
      const query = applyPairs(
        adminDb()
          .from("users_overview")
          .select(
            "user_id,email,organization_name,role,status,plan_id,plan_name,agent_count,agent_limit,tokens_used,token_limit,cost_usd,last_sign_in_at,last_active_at,created_at,near_quota,over_quota",
            { count: "exact" },
          ),
        pairs,
      )
        .order(sort.column, { ascending: sort.ascending })
        .order("user_id")
        .range(from, from + PAGE_SIZE - 1);
      const result = await query;
      return { rows: unwrap<OverviewRow[]>(result), total: result.count ?? 0 };
    },
  });

  // A new filter starts again at page 1 (and replaces the entry); paging adds to the history.
  const update = (changes: Record<string, string | null>) =>
    set({ page: null, ...changes }, { replace: !("page" in changes) });

  // A filter control bound to its parameter in the address.
  const bound = (param: string) => ({
    value: params.get(param) ?? "",
    onChange: (e: ChangeEvent<HTMLInputElement | HTMLSelectElement>) => update({ [param]: e.target.value }),
  });

  const total = list.data?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const filtered = pairs.length > 0;

  return (
    <div className="space-y-6">
      <PageHeader
        title="Users"
        description="Every account with its plan, limits and this month's usage. The filters are part of the address, so you can share or bookmark a view."
        actions={
          <ExportButton
            kind="users"
            query={exportQuery(pairs, { order: `${sort.raw},user_id` })}
          />
        }
      />
      <Card title="Search and filters">
        <SearchForm key={params.get("q") ?? ""} initial={params.get("q") ?? ""} onSearch={(q) => update({ q: q || null })} />
        <div className="mt-4 grid grid-cols-1 gap-3 sm:grid-cols-2 lg:grid-cols-4">
          <SelectField label="Status" {...bound("status")} options={STATUS_OPTIONS} />
          <SelectField label="Plan" {...bound("plan")} options={planOptions} />
          <SelectField
            label="Role"
            {...bound("role")}
            options={[
              { value: "", label: "Any role" },
              { value: "user", label: "User" },
              { value: "admin", label: "Admin" },
            ]}
          />
          <SelectField
            label="Sort by"
            value={sort.raw}
            onChange={(e) => update({ sort: e.target.value === "created_at.desc" ? null : e.target.value })}
            options={SORTS}
          />
          {DATE_FILTERS.map(([param, label]) => (
            <TextField key={param} label={label} type="date" {...bound(param)} />
          ))}
        </div>
        <div className="mt-3 flex flex-wrap items-center gap-4">
          <Checkbox
            label="Near quota (80 % or more)"
            checked={params.get("near_quota") === "1"}
            onChange={(e) => update({ near_quota: e.target.checked ? "1" : null })}
          />
          <Checkbox
            label="Over quota"
            checked={params.get("over_quota") === "1"}
            onChange={(e) => update({ over_quota: e.target.checked ? "1" : null })}
          />
          {filtered && (
            <Button
              variant="ghost"
              onClick={() => {
                setParams(sort.raw === "created_at.desc" ? {} : { sort: sort.raw });
              }}
            >
              Clear filters
            </Button>
          )}
        </div>
        <p className="mt-2 text-xs text-slate-600 dark:text-slate-300">Dates are UTC days.</p>
      </Card>

      <QueryView query={list} loading="Loading users…">
        {({ rows }) => (
          <Card>
            <p role="status" className="mb-3 text-sm font-medium">
              {formatNumber(total)} {total === 1 ? "user" : "users"}
              {filtered ? " match" : ""}
              {total > 0 && ` · page ${page} of ${pages}`}
            </p>
            {rows.length === 0 ? (
              <EmptyState title={filtered ? "No user matches these filters" : "No users yet"}>
                {filtered && "Change the search or clear the filters."}
              </EmptyState>
            ) : (
              <DataTable caption="Users" rows={rows} rowKey={(u) => u.user_id} columns={COLUMNS} />
            )}
            {pages > 1 && (
              <nav aria-label="Pages" className="mt-4 flex items-center justify-between gap-2">
                <Button
                  variant="secondary"
                  disabled={page <= 1}
                  onClick={() => update({ page: page - 1 > 1 ? String(page - 1) : null })}
                >
                  Previous page
                </Button>
                <span className="text-sm">
                  Page {page} of {pages}
                </span>
                <Button
                  variant="secondary"
                  disabled={page >= pages}
                  onClick={() => update({ page: String(page + 1) })}
                >
                  Next page
                </Button>
              </nav>
            )}
          </Card>
        )}
      </QueryView>
    </div>
  );
}
