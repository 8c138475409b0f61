// The hash-chained audit trail, filtered by actor, action, target and time (all in the URL), with
// the chain's verification as `voxflow audit verify` reports it.
import { useState } from "react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { adminDb } from "../../lib/supabase";
import { unwrap } from "../../lib/api";
import { formatUtc, formatNumber } from "../../lib/format";
import { Button, Card, Notice, PageHeader, QueryView, TextField } from "../../components/ui";
import {
  AUDIT_COLUMNS,
  AuditTable,
  ExportButton,
  applyPairs,
  dayAfter,
  dayStart,
  exportQuery,
  isUuid,
  pageOf,
  useUrlParams,
  type AuditRow,
  type Pair,
} from "./shared";

const PAGE_SIZE = 50;

interface Verification {
  ok: boolean;
  checked: number;
  redacted: number;
  first_bad_id: number | null;
  problem: string | null;
  verified_at: string;
}

export function auditFilters(params: URLSearchParams): Pair[] {
  const pairs: Pair[] = [];
  const actor = params.get("actor")?.trim();
  if (actor) {
    if (isUuid(actor)) pairs.push(["actor_id", `eq.${actor}`]);
    else pairs.push(["actor_email", `ilike.*${actor.replace(/[*,()]/g, "")}*`]);
  }
  const action = params.get("action")?.trim();
  if (action) pairs.push(["action", action.includes("*") ? `like.${action}` : `eq.${action}`]);
  const target = params.get("target")?.trim();
  if (target) pairs.push(["target_id", `eq.${target}`]);
  const from = params.get("from");
  const to = params.get("to");
  if (from) pairs.push(["occurred_at", `gte.${dayStart(from)}`]);
  if (to) pairs.push(["occurred_at", `lt.${dayAfter(to)}`]);
  return pairs;
}

const FILTERS = ["actor", "action", "target", "from", "to"] as const;
type Draft = Record<(typeof FILTERS)[number], string>;
const EMPTY: Draft = { actor: "", action: "", target: "", from: "", to: "" };

/** The filters being typed, from the address; remounted (so refilled) when the address changes. */
function AuditFilterForm({
  params,
  onApply,
  filtered,
}: {
  params: URLSearchParams;
  onApply: (draft: Draft) => void;
  filtered: boolean;
}) {
  const [draft, setDraft] = useState<Draft>(
    () => Object.fromEntries(FILTERS.map((k) => [k, params.get(k) ?? ""])) as Draft,
  );
  return (
    <form
      className="space-y-3"
      onSubmit={(event) => {
        event.preventDefault();
        onApply(draft);
      }}
    >
      <div className="grid grid-cols-1 gap-3 sm:grid-cols-2 lg:grid-cols-3">
        <TextField label="Actor (email or id)" value={draft.actor} onChange={(e) => setDraft({ ...draft, actor: e.target.value })} />
        <TextField
          label="Action"
          value={draft.action}
          hint="Exact, e.g. admin.limits_changed, or with *: admin.*"
          onChange={(e) => setDraft({ ...draft, action: e.target.value })}
        />
        <TextField label="Target id" value={draft.target} onChange={(e) => setDraft({ ...draft, target: e.target.value })} />
        <TextField label="From (UTC day)" type="date" value={draft.from} onChange={(e) => setDraft({ ...draft, from: e.target.value })} />
        <TextField label="Until (UTC day)" type="date" value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />
      </div>
      <div className="flex flex-wrap gap-2">
        <Button type="submit">Apply filters</Button>
        {filtered && (
          <Button
            type="button"
            variant="ghost"
            onClick={() => onApply(EMPTY)}
          >
            Clear filters
          </Button>
        )}
      </div>
    </form>
  );
}

function ChainState() {
  const verify = useQuery({
    queryKey: ["admin", "audit", "verify"],
    staleTime: 300000,
    queryFn: async () =>
      unwrap<Verification>(await adminDb().rpc("verify_audit_chain", undefined, { get: true })),
  });
  return (
    <Card
      title="Chain verification"
      actions={
        <Button variant="secondary" busy={verify.isFetching} onClick={() => void verify.refetch()}>
          Verify again
        </Button>
      }
    >
      <QueryView query={verify} loading="Verifying the chain…">
        {(v) =>
          v.ok ? (
            <Notice tone="success" title="The chain verifies">
              {formatNumber(v.checked)} entries checked ({formatNumber(v.redacted)} redacted after account
              deletions) at {formatUtc(v.verified_at)}: nothing was edited, removed or reordered.
            </Notice>
          ) : (
            <Notice tone="error" title="The chain does not verify">
              First bad entry: #{v.first_bad_id ?? "?"}
              {v.problem ? ` (${v.problem})` : ""}. {formatNumber(v.checked)} entries checked at{" "}
              {formatUtc(v.verified_at)}. Entries after it cannot be trusted until this is explained.
            </Notice>
          )
        }
      </QueryView>
    </Card>
  );
}

export default function Audit() {
  const [params, update, setParams] = useUrlParams();
  const pairs = auditFilters(params);
  const page = pageOf(params);
  const list = useQuery({
    queryKey: ["admin", "audit", pairs, page],
    placeholderData: keepPreviousData,
    queryFn: async () => {
      const from = (page - 1) * PAGE_SIZE;
      // One more than a page, to know whether there is a next one without counting the log.
      const rows = unwrap<AuditRow[]>(
        await applyPairs(
          adminDb()
            .from("audit_log")
            .select(AUDIT_COLUMNS),
          pairs,
        )
          .order("id", { ascending: false })
          .range(from, from + PAGE_SIZE),
      );
      return { rows: rows.slice(0, PAGE_SIZE), more: rows.length > PAGE_SIZE };
    },
  });

  const goTo = (p: number) => update({ page: p > 1 ? String(p) : null }, { replace: false });

  return (
    <div className="space-y-6">
      <PageHeader
        title="Audit log"
        description="Every admin action and security event, hash-chained. Filters are part of the address."
        actions={<ExportButton kind="audit" query={exportQuery(pairs, { order: "id.desc" })} />}
      />
      <ChainState />
      <Card title="Filters">
        <AuditFilterForm
          key={FILTERS.map((k) => params.get(k) ?? "").join("\n")}
          params={params}
          onApply={(draft) => {
            const next = new URLSearchParams();
            for (const [k, v] of Object.entries(draft)) if (v.trim()) next.set(k, v.trim());
            setParams(next);
          }}
          filtered={pairs.length > 0}
        />
      </Card>
      <Card>
        <QueryView query={list} loading="Loading the audit log…">
          {({ rows, more }) => (
            <>
              <p role="status" className="mb-3 text-sm font-medium">
                {rows.length === 0
                  ? "No entries"
                  : `Entries ${formatNumber((page - 1) * PAGE_SIZE + 1)}–${formatNumber((page - 1) * PAGE_SIZE + rows.length)}, newest first`}
              </p>
              <AuditTable rows={rows} />
              {(page > 1 || more) && (
                <nav aria-label="Pages" className="mt-4 flex justify-between gap-2">
                  <Button variant="secondary" disabled={page <= 1} onClick={() => goTo(page - 1)}>
                    Newer entries
                  </Button>
                  <Button variant="secondary" disabled={!more} onClick={() => goTo(page + 1)}>
                    Older entries
                  </Button>
                </nav>
              )}
            </>
          )}
        </QueryView>
      </Card>
    </div>
  );
}
