// Calls: place an outbound call (checked number, confirmed before dialing) and the call log,
// filtered and searched on the server (the filters live in the URL, so Back keeps them).
import { useEffect, useState, type FormEvent } from "react";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router-dom";
import { ConfirmDialog } from "../components/Dialog";
import { useToast } from "../components/Toast";
import {
  Badge,
  Button,
  Card,
  EmptyState,
  ErrorNotice,
  Loading,
  Notice,
  PageHeader,
  SelectField,
  Table,
  TextField,
  td,
  th,
} from "../components/ui";
import { callJson, unwrap } from "../lib/api";
import { useAuth } from "../lib/auth";
import {
  CALL_COLUMNS,
  CALL_STATUSES,
  isLive,
  phoneCost,
  statusLabel,
  statusTone,
  usePhonePrices,
  type CallRow,
} from "../lib/calls";
import { describe } from "../lib/errors";
import { formatDateTime, formatDuration, formatUsd, normalizeE164 } from "../lib/format";
import { useAgentOptions, type AgentOption } from "../lib/queries";
import { supabase } from "../lib/supabase";

const PAGE_SIZE = 25;

export default function Calls() {
  const agents = useAgentOptions();
  return (
    <div className="space-y-6">
      <PageHeader
        title="Calls"
        description="Have an agent phone someone, and see every call your agents made or took."
      />
      <PlaceCall agents={agents.data} loading={agents.isPending} error={agents.error} />
      <CallLog agents={agents.data ?? []} />
    </div>
  );
}

function PlaceCall({
  agents,
  loading,
  error,
}: {
  agents: AgentOption[] | undefined;
  loading: boolean;
  error: unknown;
}) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const [agentId, setAgentId] = useState("");
  const [to, setTo] = useState("");
  const [toError, setToError] = useState<string | null>(null);
  const [agentError, setAgentError] = useState<string | null>(null);
  const [pending, setPending] = useState<{ agent: AgentOption; number: string } | null>(null);
  const [placed, setPlaced] = useState<{ id: number; number: string } | null>(null);

  if (loading) return <Loading label="Loading your agents…" />;
  if (error) return <ErrorNotice error={describe(error)} title="Your agents could not be loaded" />;
  if (!agents?.length) {
    return (
      <Card title="Place a call">
        <EmptyState title="You have no agents yet">
          <Link to="/agents/new">Create an agent</Link> first; it does the talking on the call.
        </EmptyState>
      </Card>
    );
  }
  const callable = agents.filter((a) => a.is_active && a.status === "active");
  const chosen = agentId || String(callable[0]?.id ?? "");

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setPlaced(null);
    const agent = agents.find((a) => String(a.id) === chosen);
    const number = normalizeE164(to);
    setAgentError(agent ? null : "Choose the agent that talks on the call.");
    setToError(
      number
        ? null
        : "Enter the number in international (E.164) form: + and the country code, like +14155550123.",
    );
    if (agent && number) setPending({ agent, number });
  };

  return (
    <Card title="Place a call">
      <form className="space-y-3" onSubmit={submit} noValidate aria-label="Place a call">
        <div className="grid gap-3 sm:grid-cols-2">
          <SelectField
            label="Agent"
            value={chosen}
            error={agentError}
            onChange={(e) => setAgentId(e.target.value)}
            options={[
              ...(callable.length ? [] : [{ value: "", label: "No agent can take calls" }]),
              ...callable.map((a) => ({ value: String(a.id), label: a.name })),
            ]}
          />
          <TextField
            label="To"
            type="tel"
            autoComplete="tel"
            inputMode="tel"
            placeholder="+14155550123"
            hint="The number to call, with + and the country code."
            value={to}
            error={toError}
            onChange={(e) => setTo(e.target.value)}
          />
        </div>
        {callable.length < agents.length && (
          <p className="text-sm text-slate-600 dark:text-slate-300">
            Paused or switched-off agents cannot take calls.{" "}
            <Link to="/agents">Manage your agents</Link>.
          </p>
        )}
        {placed && (
          <Notice tone="success">
            Calling {placed.number}. <Link to={`/calls/${placed.id}`}>Follow the call</Link>
          </Notice>
        )}
        <Button type="submit" disabled={!callable.length}>
          Call
        </Button>
      </form>
      <ConfirmDialog
        open={!!pending}
        onOpenChange={(open) => {
          if (!open) setPending(null);
        }}
        title={pending ? `Call ${pending.number} with ${pending.agent.name}?` : "Place the call?"}
        description="Twilio dials the number from your Twilio phone number and the agent talks when someone answers. The call is billed to your Twilio account and its tokens count in your usage."
        confirmLabel="Place call"
        onConfirm={async () => {
          if (!pending) return;
          const result = await callJson<{ call_id: number; call_sid: string; status: string }>(
            "calls",
            { method: "POST", json: { agent_id: pending.agent.id, to: pending.number } },
          );
          setPlaced({ id: result.call_id, number: pending.number });
          setTo("");
          toast({ tone: "success", title: `Calling ${pending.number}` });
          await queryClient.invalidateQueries({ queryKey: ["calls"] });
          await queryClient.invalidateQueries({ queryKey: ["onboarding"] });
        }}
      />
    </Card>
  );
}

function callLabel(call: CallRow): string {
  const outbound = call.direction === "outbound";
  const number = (outbound ? call.to_number : call.from_number) ?? "an unknown number";
  return `Call ${outbound ? "to" : "from"} ${number} at ${formatDateTime(call.started_at ?? call.created_at)}`;
}

/** Only digits and +: what a phone number search can match, safe inside a PostgREST filter. */
function searchTerm(text: string): string {
  return text.replace(/[^0-9+]/g, "");
}

function CallLog({ agents }: { agents: AgentOption[] }) {
  const { session } = useAuth();
  const [params, setParams] = useSearchParams();
  const status = params.get("status") ?? "";
  const direction = params.get("direction") ?? "";
  const agent = params.get("agent") ?? "";
  const q = params.get("q") ?? "";
  const page = Math.max(0, Number(params.get("page") ?? 0) || 0);
  const [search, setSearch] = useState(q);
  const prices = usePhonePrices();

  const update = (name: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    if (name !== "page") next.delete("page");
    setParams(next, { replace: true });
  };

  // Search as the person types, a moment after they stop.
  useEffect(() => {
    const timer = setTimeout(() => {
      const term = searchTerm(search);
      if (term !== q) {
        const next = new URLSearchParams(params);
        if (term) next.set("q", term);
        else next.delete("q");
        next.delete("page");
        setParams(next, { replace: true });
      }
    }, 300);
    return () => clearTimeout(timer);
  }, [search, q, params, setParams]);

  const calls = useQuery({
    queryKey: ["calls", { status, direction, agent, q, page }],
    enabled: !!session,
    placeholderData: keepPreviousData,
    refetchInterval: (query) => (query.state.data?.rows.some((c) => isLive(c)) ? 4000 : false),
    queryFn: async () => {
      let request = supabase()
        .from("calls")
        .select(CALL_COLUMNS, { count: "exact" })
        .order("created_at", { ascending: false })
        .order("id", { ascending: false })
        .range(page * PAGE_SIZE, page * PAGE_SIZE + PAGE_SIZE - 1);
      if (status) request = request.eq("status", status);
      if (direction) request = request.eq("direction", direction);
      if (agent) request = request.eq("agent_id", Number(agent));
      if (q) request = request.or(`from_number.ilike.*${q}*,to_number.ilike.*${q}*`);
      const result = await request;
      const rows = unwrap<CallRow[]>(result as never);
      return { rows, total: result.count ?? rows.length };
    },
  });

  const filtered = !!(status || direction || agent || q);
  const total = calls.data?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));

  return (
    <Card title="Call log">
      <form
        role="search"
        aria-label="Filter calls"
        className="mb-4 grid gap-3 sm:grid-cols-2 lg:grid-cols-4"
        onSubmit={(e) => e.preventDefault()}
      >
        <TextField
          label="Search by number"
          type="search"
          inputMode="tel"
          placeholder="+1415…"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
        <SelectField
          label="Status"
          value={status}
          onChange={(e) => update("status", e.target.value)}
          options={[
            { value: "", label: "Any status" },
            ...CALL_STATUSES.map((s) => ({ value: s, label: statusLabel(s) })),
          ]}
        />
        <SelectField
          label="Direction"
          value={direction}
          onChange={(e) => update("direction", e.target.value)}
          options={[
            { value: "", label: "Both directions" },
            { value: "outbound", label: "Outbound" },
            { value: "inbound", label: "Inbound" },
          ]}
        />
        <SelectField
          label="Calls of agent"
          value={agent}
          onChange={(e) => update("agent", e.target.value)}
          options={[
            { value: "", label: "All agents" },
            ...agents.map((a) => ({ value: String(a.id), label: a.name })),
          ]}
        />
      </form>
      {calls.isPending ? (
        <Loading label="Loading calls…" />
      ) : calls.isError ? (
        <div className="space-y-3">
          <ErrorNotice error={describe(calls.error)} title="Calls could not be loaded" />
          <Button variant="secondary" onClick={() => calls.refetch()}>
            Try again
          </Button>
        </div>
      ) : calls.data.rows.length === 0 ? (
        filtered ? (
          <EmptyState title="No calls match these filters">
            <Button
              variant="secondary"
              onClick={() => {
                setSearch("");
                setParams(new URLSearchParams(), { replace: true });
              }}
            >
              Clear the filters
            </Button>
          </EmptyState>
        ) : (
          <EmptyState title="No calls yet">
            Place a call above, or point your Twilio number's voice URL at your agent to take
            calls.
          </EmptyState>
        )
      ) : (
        <>
          <p className="mb-2 text-sm text-slate-600 dark:text-slate-300" aria-live="polite">
            {total} call{total === 1 ? "" : "s"}
            {filtered ? " match" : ""}
            {pages > 1 ? `, page ${page + 1} of ${pages}` : ""}.
          </p>
          {/* On a phone each call is a card; from sm up, a table. */}
          <ul className="space-y-2 sm:hidden" aria-label="Calls, newest first">
            {calls.data.rows.map((call) => {
              const cost = phoneCost(call, prices.data);
              return (
                <li
                  key={call.id}
                  className="rounded-md border border-slate-200 p-3 text-sm dark:border-slate-700"
                >
                  <div className="flex items-start justify-between gap-2">
                    <Link to={`/calls/${call.id}`} aria-label={callLabel(call)} className="font-medium">
                      {formatDateTime(call.started_at ?? call.created_at)}
                    </Link>
                    <Badge tone={statusTone(call.status)}>{statusLabel(call.status)}</Badge>
                  </div>
                  <p className="mt-1">
                    {call.agent?.name ?? "—"} ·{" "}
                    {call.direction === "outbound" ? "Outbound" : "Inbound"}
                  </p>
                  <p className="font-mono break-all text-slate-700 dark:text-slate-300">
                    {call.from_number ?? "—"} → {call.to_number ?? "—"}
                  </p>
                  <p className="text-slate-700 dark:text-slate-300">
                    {call.duration_seconds !== null ? formatDuration(call.duration_seconds) : "No duration yet"}
                    {cost !== null && ` · ${formatUsd(cost)}`}
                  </p>
                </li>
              );
            })}
          </ul>
          <div className="hidden sm:block">
          <Table caption="Calls, newest first">
            <thead>
              <tr>
                <th scope="col" className={th}>Time</th>
                <th scope="col" className={th}>Agent</th>
                <th scope="col" className={th}>Direction</th>
                <th scope="col" className={th}>From</th>
                <th scope="col" className={th}>To</th>
                <th scope="col" className={th}>Duration</th>
                <th scope="col" className={th}>Status</th>
                <th scope="col" className={th}>Phone cost</th>
              </tr>
            </thead>
            <tbody>
              {calls.data.rows.map((call) => {
                const cost = phoneCost(call, prices.data);
                return (
                  <tr key={call.id}>
                    <td className={td}>
                      <Link
                        to={`/calls/${call.id}`}
                        aria-label={callLabel(call)}
                      >
                        {formatDateTime(call.started_at ?? call.created_at)}
                      </Link>
                    </td>
                    <td className={td}>{call.agent?.name ?? "—"}</td>
                    <td className={td}>{call.direction === "outbound" ? "Outbound" : "Inbound"}</td>
                    <td className={`${td} font-mono`}>{call.from_number ?? "—"}</td>
                    <td className={`${td} font-mono`}>{call.to_number ?? "—"}</td>
                    <td className={td}>
                      {call.duration_seconds !== null ? formatDuration(call.duration_seconds) : "—"}
                    </td>
                    <td className={td}>
                      <Badge tone={statusTone(call.status)}>{statusLabel(call.status)}</Badge>
                    </td>
                    <td className={td}>{cost === null ? "—" : formatUsd(cost)}</td>
                  </tr>
                );
              })}
            </tbody>
          </Table>
          </div>
          <p className="mt-2 text-xs text-slate-600 dark:text-slate-300">
            Phone cost is the line's minutes at Twilio's list price; the agent's replies and
            speech count in <Link to="/usage">your usage</Link>.
          </p>
          {pages > 1 && (
            <div className="mt-3 flex gap-2">
              <Button
                variant="secondary"
                disabled={page === 0}
                onClick={() => update("page", page > 1 ? String(page - 1) : "")}
              >
                Newer calls
              </Button>
              <Button
                variant="secondary"
                disabled={page + 1 >= pages}
                onClick={() => update("page", String(page + 1))}
              >
                Older calls
              </Button>
            </div>
          )}
        </>
      )}
    </Card>
  );
}
