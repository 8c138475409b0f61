// One call: who, when, how long, its transcript turn by turn, and what it cost.
import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router-dom";
import {
  Badge,
  Button,
  Card,
  EmptyState,
  ErrorNotice,
  Loading,
  PageHeader,
  td,
  th,
} from "../components/ui";
import { unwrap } from "../lib/api";
import { useAuth } from "../lib/auth";
import {
  CALL_COLUMNS,
  isFinal,
  isLive,
  formatRate,
  phoneCost,
  phoneRate,
  statusLabel,
  statusTone,
  usePhonePrices,
  type CallRow,
  type TranscriptTurn,
} from "../lib/calls";
import { describe } from "../lib/errors";
import { formatDateTime, formatDuration, formatUsd } from "../lib/format";
import { supabase } from "../lib/supabase";

type CallWithTranscript = CallRow & { transcript: TranscriptTurn[] | null };

export default function CallDetail() {
  const { callId } = useParams();
  const { session } = useAuth();
  const id = Number(callId);
  const valid = Number.isInteger(id) && id > 0;
  const prices = usePhonePrices();
  const call = useQuery({
    queryKey: ["calls", "detail", id],
    enabled: !!session && valid,
    refetchInterval: (query) => (query.state.data && isLive(query.state.data) ? 4000 : false),
    queryFn: async () =>
      unwrap<CallWithTranscript | null>(
        await supabase()
          .from("calls")
          .select(`${CALL_COLUMNS}, transcript`)
          .eq("id", id)
          .maybeSingle(),
      ),
  });

  const back = (
    <Link to="/calls" className="text-sm">
      ← All calls
    </Link>
  );

  if (!valid || (call.isSuccess && !call.data)) {
    return (
      <div className="space-y-4">
        {back}
        <PageHeader title="Call not found" />
        <EmptyState title="There is no such call in your account">
          It may have been removed with its agent. <Link to="/calls">Back to your calls</Link>.
        </EmptyState>
      </div>
    );
  }
  if (call.isPending) return <Loading label="Loading the call…" />;
  if (call.isError) {
    return (
      <div className="space-y-3">
        {back}
        <ErrorNotice error={describe(call.error)} title="The call could not be loaded" />
        <Button variant="secondary" onClick={() => call.refetch()}>
          Try again
        </Button>
      </div>
    );
  }

  const c = call.data!;
  const outbound = c.direction === "outbound";
  const other = (outbound ? c.to_number : c.from_number) ?? "an unknown number";
  const agentName = c.agent?.name ?? "Agent";
  const turns = Array.isArray(c.transcript) ? c.transcript : [];

  return (
    <div className="space-y-4">
      {back}
      <PageHeader
        title={outbound ? `Call to ${other}` : `Call from ${other}`}
        description={`${formatDateTime(c.started_at ?? c.created_at)} · ${agentName}`}
        actions={<Badge tone={statusTone(c.status)}>{statusLabel(c.status)}</Badge>}
      />
      <div className="grid gap-4 lg:grid-cols-3">
        <Card title="Details" className="lg:col-span-1">
          <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-2 text-sm">
            <dt className="text-slate-600 dark:text-slate-300">Agent</dt>
            <dd>
              {c.agent ? <Link to={`/agents/${c.agent_id}`}>{c.agent.name}</Link> : "—"}
            </dd>
            <dt className="text-slate-600 dark:text-slate-300">Direction</dt>
            <dd>{outbound ? "Outbound" : "Inbound"}</dd>
            <dt className="text-slate-600 dark:text-slate-300">From</dt>
            <dd className="font-mono break-all">{c.from_number ?? "—"}</dd>
            <dt className="text-slate-600 dark:text-slate-300">To</dt>
            <dd className="font-mono break-all">{c.to_number ?? "—"}</dd>
            <dt className="text-slate-600 dark:text-slate-300">Status</dt>
            <dd>{statusLabel(c.status)}</dd>
            <dt className="text-slate-600 dark:text-slate-300">Started</dt>
            <dd>{formatDateTime(c.started_at)}</dd>
            <dt className="text-slate-600 dark:text-slate-300">Ended</dt>
            <dd>{formatDateTime(c.ended_at)}</dd>
            <dt className="text-slate-600 dark:text-slate-300">Duration</dt>
            <dd>{c.duration_seconds !== null ? formatDuration(c.duration_seconds) : "—"}</dd>
          </dl>
        </Card>
        <Card title="Transcript" className="lg:col-span-2">
          {turns.length === 0 ? (
            <EmptyState title={isFinal(c.status) ? "Nothing was said on this call" : "No words yet"}>
              {isFinal(c.status)
                ? "The call ended before the caller spoke."
                : "What the caller and the agent say appears here as the call goes on."}
            </EmptyState>
          ) : (
            <ol className="space-y-3" aria-label="Transcript, turn by turn">
              {turns.map((turn, i) => {
                const agent = turn.role === "assistant";
                return (
                  <li key={i} className={`flex ${agent ? "justify-start" : "justify-end"}`}>
                    <div
                      className={`max-w-[85%] rounded-lg px-3 py-2 text-sm ${
                        agent
                          ? "bg-indigo-50 text-slate-900 dark:bg-indigo-950 dark:text-slate-100"
                          : "bg-slate-100 text-slate-900 dark:bg-slate-800 dark:text-slate-100"
                      }`}
                    >
                      <p className="text-xs font-semibold text-slate-700 dark:text-slate-300">
                        {agent ? agentName : "Caller"}
                      </p>
                      <p className="break-words whitespace-pre-wrap">{turn.text}</p>
                    </div>
                  </li>
                );
              })}
            </ol>
          )}
        </Card>
      </div>
      <CostCard call={c} prices={prices} turns={turns.length} />
    </div>
  );
}

function CostCard({
  call,
  prices,
  turns,
}: {
  call: CallWithTranscript;
  prices: ReturnType<typeof usePhonePrices>;
  turns: number;
}) {
  const rate = phoneRate(call, prices.data);
  const cost = phoneCost(call, prices.data);
  const replies = Math.floor(turns / 2);
  return (
    <Card title="Cost">
      {prices.isError ? (
        <ErrorNotice error={describe(prices.error)} title="Prices could not be loaded" />
      ) : (
        <>
          {/* A plain table: its cells wrap on a phone instead of scrolling. */}
          <table className="w-full text-left text-sm">
            <caption className="sr-only">What this call cost, by part</caption>
            <thead>
              <tr>
                <th scope="col" className={th}>Part</th>
                <th scope="col" className={th}>Measure</th>
                <th scope="col" className={th}>Cost</th>
              </tr>
            </thead>
            <tbody>
              <tr>
                <td className={td}>Phone line (Twilio, {call.direction})</td>
                <td className={td}>
                  {call.duration_seconds ? formatDuration(call.duration_seconds) : "—"}
                  {rate !== null && ` at ${formatRate(rate)}/min`}
                </td>
                <td className={td}>
                  {cost === null ? (isFinal(call.status) ? "—" : "When the call ends") : formatUsd(cost)}
                </td>
              </tr>
              <tr>
                <td className={td}>Agent replies (Groq) and voice (Deepgram)</td>
                <td className={td}>
                  {replies} repl{replies === 1 ? "y" : "ies"}
                </td>
                <td className={td}>In your monthly usage</td>
              </tr>
            </tbody>
          </table>
          <p className="mt-2 text-xs text-slate-600 dark:text-slate-300">
            The phone line is priced at Twilio's list rate in force when the call ended. Tokens
            and speech used on the call are counted with the rest of the month's in{" "}
            <Link to="/usage">Usage</Link>; they are not broken down per call.
          </p>
        </>
      )}
    </Card>
  );
}
