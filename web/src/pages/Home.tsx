// Home: the getting-started checklist until every step is done, then this month's usage.
// Agents come from the agents list's own query; conversations and calls are counted with head
// requests (count only, no rows), never by reading events.
import { useQuery } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router-dom";
import {
  Button,
  Card,
  ErrorNotice,
  Loading,
  Meter,
  Notice,
  PageHeader,
} from "../components/ui";
import { unwrap } from "../lib/api";
import { useAuth } from "../lib/auth";
import { describe } from "../lib/errors";
import { formatNumber, formatPercent, formatUsd, resetsIn } from "../lib/format";
import { useAgents, useApiKeys, useUsageSummary } from "../lib/queries";
import { supabase } from "../lib/supabase";

function useProgress() {
  const { session } = useAuth();
  return useQuery({
    queryKey: ["onboarding", session?.user.id],
    enabled: !!session,
    queryFn: async () => {
      const db = supabase();
      const [conversations, calls] = await Promise.all([
        db
          .from("conversations")
          .select("id", { count: "exact", head: true })
          .is("call_id", null),
        db.from("calls").select("id", { count: "exact", head: true }),
      ]);
      unwrap(conversations);
      unwrap(calls);
      return { conversations: conversations.count ?? 0, calls: calls.count ?? 0 };
    },
  });
}

interface Step {
  title: string;
  done: boolean;
  detail: string;
  link: { to: string; label: string };
}

export default function Home() {
  const [params] = useSearchParams();
  const apiKeys = useApiKeys();
  const agents = useAgents();
  const progress = useProgress();
  const welcome = params.get("welcome") === "1";

  const loading = apiKeys.isPending || agents.isPending || progress.isPending;
  const failed = apiKeys.error ?? agents.error ?? progress.error;

  let content;
  if (loading) {
    content = <Loading label="Loading your progress…" />;
  } else if (failed) {
    content = (
      <div className="space-y-3">
        <ErrorNotice error={describe(failed)} title="Your progress could not be loaded" />
        <Button
          variant="secondary"
          onClick={() => {
            void apiKeys.refetch();
            void agents.refetch();
            void progress.refetch();
          }}
        >
          Try again
        </Button>
      </div>
    );
  } else {
    const rows = apiKeys.data ?? [];
    const p = progress.data!;
    const agentCount = agents.data!.length;
    // The oldest agent, as the agents list shows them first.
    const firstAgentId = agents.data![0]?.id;
    const set = rows.filter((r) => r.configured).length;
    const steps: Step[] = [
      {
        title: "Add your provider keys",
        done: rows.length > 0 && set === rows.length,
        detail: `${set} of ${rows.length || 3} providers set up (Groq, Deepgram, Twilio).`,
        link: { to: "/keys", label: "Set up your provider keys" },
      },
      {
        title: "Create an agent",
        done: agentCount > 0,
        detail:
          agentCount > 0
            ? `${agentCount} agent${agentCount === 1 ? "" : "s"} so far.`
            : "Give it a prompt and a voice.",
        link: { to: "/agents/new", label: "Create an agent" },
      },
      {
        title: "Test your agent",
        done: p.conversations > 0,
        detail:
          p.conversations > 0
            ? "You have talked to an agent in the test console."
            : "Chat with it, or talk to it with your microphone.",
        link: {
          to: firstAgentId ? `/agents/${firstAgentId}/test` : "/agents",
          label: "Open the test console",
        },
      },
      {
        title: "Place a call",
        done: p.calls > 0,
        detail:
          p.calls > 0
            ? `${p.calls} call${p.calls === 1 ? "" : "s"} so far.`
            : "Have your agent phone you through Twilio.",
        link: { to: "/calls", label: "Place a call" },
      },
    ];
    const done = steps.filter((s) => s.done).length;
    content =
      done < steps.length ? (
        <Checklist steps={steps} done={done} />
      ) : (
        <>
          <Notice tone="success">
            You are all set up. <Link to="/calls">See your calls</Link> or{" "}
            <Link to="/agents">manage your agents</Link>.
          </Notice>
          <UsageCard />
        </>
      );
  }

  return (
    <div className="space-y-4">
      <PageHeader title="Home" description="Get your first voice agent on the phone." />
      {welcome && (
        <Notice tone="success" title="Welcome to VoxFlow">
          Your email is verified and you are signed in. Follow the steps below to get your first
          agent talking.
        </Notice>
      )}
      {content}
    </div>
  );
}

function Checklist({ steps, done }: { steps: Step[]; done: number }) {
  const next = steps.findIndex((s) => !s.done);
  return (
    <Card title="Getting started">
      <p className="mb-3 text-sm text-slate-700 dark:text-slate-300">
        {done} of {steps.length} steps done.
      </p>
      <ol className="space-y-3" aria-label="Getting started steps">
        {steps.map((step, i) => (
          <li
            key={step.title}
            // On a phone the step's link goes under its text, so the text keeps its width.
            className="grid grid-cols-[auto_minmax(0,1fr)] items-start gap-x-3 gap-y-2 rounded-md border border-slate-200 p-3 sm:grid-cols-[auto_minmax(0,1fr)_auto] dark:border-slate-700"
          >
            <span
              aria-hidden="true"
              className={`flex h-7 w-7 shrink-0 items-center justify-center rounded-full text-sm font-bold ${
                step.done
                  ? "bg-emerald-700 text-white"
                  : "border-2 border-slate-500 text-slate-700 dark:border-slate-400 dark:text-slate-200"
              }`}
            >
              {step.done ? "✓" : i + 1}
            </span>
            <div>
              <p className="font-medium">
                {step.title}{" "}
                <span
                  className={`text-sm font-normal ${
                    step.done
                      ? "text-emerald-800 dark:text-emerald-300"
                      : "text-slate-600 dark:text-slate-300"
                  }`}
                >
                  — {step.done ? "Done" : "To do"}
                </span>
              </p>
              <p className="text-sm text-slate-700 dark:text-slate-300">{step.detail}</p>
            </div>
            {!step.done && (
              <Link
                to={step.link.to}
                className={`col-start-2 justify-self-start sm:col-start-3 ${
                  i === next
                    ? "rounded-md bg-indigo-700 px-3 py-2 text-sm font-medium text-white no-underline hover:bg-indigo-800"
                    : "py-2 text-sm sm:px-1"
                }`}
              >
                {step.link.label}
              </Link>
            )}
          </li>
        ))}
      </ol>
    </Card>
  );
}

function UsageCard() {
  const usage = useUsageSummary();
  if (usage.isPending) return <Loading label="Loading this month's usage…" />;
  if (usage.isError)
    return <ErrorNotice error={describe(usage.error)} title="Usage could not be loaded" />;
  const u = usage.data;
  if (!u) return null;
  return (
    <Card
      title="This month"
      actions={
        <Link to="/usage" className="text-sm">
          See all usage
        </Link>
      }
    >
      <div className="space-y-4">
        <div className="space-y-1">
          <div className="flex flex-wrap justify-between gap-2 text-sm">
            <span className="font-medium">Tokens</span>
            <span>
              {formatNumber(u.tokens_used)} of {formatNumber(u.token_limit)} (
              {formatPercent(u.tokens_percent)})
            </span>
          </div>
          <Meter label="Tokens used this month" value={Number(u.tokens_used)} max={Number(u.token_limit)} />
        </div>
        <dl className="grid grid-cols-1 gap-3 text-sm sm:grid-cols-3">
          <div>
            <dt className="text-slate-600 dark:text-slate-300">Cost so far</dt>
            <dd className="text-lg font-semibold">{formatUsd(u.cost_usd)}</dd>
          </div>
          <div>
            <dt className="text-slate-600 dark:text-slate-300">Plan</dt>
            <dd className="text-lg font-semibold">
              {u.plan_name} <Link to="/plans" className="text-sm font-normal">Compare plans</Link>
            </dd>
          </div>
          <div>
            <dt className="text-slate-600 dark:text-slate-300">Period</dt>
            <dd className="text-lg font-semibold">
              {resetsIn(Number(u.days_until_reset)).replace(/^r/, "R")}
            </dd>
          </div>
        </dl>
      </div>
    </Card>
  );
}
