// The person's agents: how many of the plan's slots are used, each agent with its state and
// links to edit and test it, delete with confirmation, and — after a downgrade paused some —
// the choice of which stay active.
import { useId, useState } from "react";
import { Link } from "react-router-dom";
import { useQueryClient } from "@tanstack/react-query";
import { supabase } from "../lib/supabase";
import { unwrap } from "../lib/api";
import { useProfile } from "../lib/auth";
import { describe, type UserError } from "../lib/errors";
import { formatRelative } from "../lib/format";
import {
  effectiveAgentLimit,
  keys,
  useAgents,
  useCurrentPlan,
  useModelLabel,
  type Agent,
} from "../lib/queries";
import { ConfirmDialog } from "../components/Dialog";
import { useToast } from "../components/Toast";
import {
  Badge,
  Button,
  ButtonLink,
  Card,
  EmptyState,
  ErrorNotice,
  Notice,
  PageHeader,
  QueryView,
} from "../components/ui";

function isPaused(agent: Agent): boolean {
  return agent.status === "suspended_over_limit";
}

function StateBadges({ agent }: { agent: Agent }) {
  return (
    <span className="flex flex-wrap gap-1">
      {isPaused(agent) ? (
        <Badge tone="warning">Paused by plan limit</Badge>
      ) : agent.is_active ? (
        <Badge tone="success">Active</Badge>
      ) : (
        <Badge tone="neutral">Switched off</Badge>
      )}
    </span>
  );
}

function AgentCard({
  agent,
  modelLabel,
  onDelete,
}: {
  agent: Agent;
  modelLabel: ReturnType<typeof useModelLabel>;
  onDelete: (agent: Agent) => void;
}) {
  const headingId = useId();
  return (
    <li>
      <article
        aria-labelledby={headingId}
        className="flex h-full flex-col gap-3 rounded-lg border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-700 dark:bg-slate-900"
      >
        <div className="flex flex-wrap items-start justify-between gap-2">
          <h2 id={headingId} className="text-base font-semibold break-words">
            {agent.name}
          </h2>
          <StateBadges agent={agent} />
        </div>
        {agent.description && (
          <p className="text-sm break-words text-slate-700 dark:text-slate-300">
            {agent.description}
          </p>
        )}
        <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-sm">
          <dt className="text-slate-600 dark:text-slate-300">Model</dt>
          <dd className="break-words">{modelLabel("llm", agent.llm_model)}</dd>
          <dt className="text-slate-600 dark:text-slate-300">Voice</dt>
          <dd className="break-words">{modelLabel("tts", agent.tts_voice)}</dd>
          <dt className="text-slate-600 dark:text-slate-300">Phone</dt>
          <dd>{agent.phone_number ?? "Your Twilio number"}</dd>
          <dt className="text-slate-600 dark:text-slate-300">Updated</dt>
          <dd>{formatRelative(agent.updated_at)}</dd>
        </dl>
        <div className="mt-auto flex flex-wrap gap-2">
          <ButtonLink
            to={`/agents/${agent.id}`}
            variant="secondary"
            aria-label={`Edit ${agent.name}`}
          >
            Edit
          </ButtonLink>
          <ButtonLink
            to={`/agents/${agent.id}/test`}
            variant="secondary"
            aria-label={`Test ${agent.name}`}
          >
            Test
          </ButtonLink>
          <Button
            variant="ghost"
            aria-label={`Delete ${agent.name}`}
            onClick={() => onDelete(agent)}
          >
            Delete
          </Button>
        </div>
      </article>
    </li>
  );
}

/** After a downgrade: pick which agents stay active (at most the plan's limit). */
function ChooseActive({ agents, limit }: { agents: Agent[]; limit: number }) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const [chosen, setChosen] = useState<Set<number>>(
    () => new Set(agents.filter((a) => !isPaused(a)).map((a) => a.id)),
  );
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UserError | null>(null);
  const countId = useId();
  const over = chosen.size > limit;
  return (
    <Card title="Choose which agents stay active">
      <form
        className="space-y-3"
        aria-label="Choose which agents stay active"
        onSubmit={async (event) => {
          event.preventDefault();
          setBusy(true);
          setError(null);
          try {
            unwrap(await supabase().rpc("set_active_agents", { agent_ids: [...chosen] }));
            await queryClient.invalidateQueries({ queryKey: keys.agents });
            toast({ title: "Active agents saved", tone: "success" });
          } catch (err) {
            setError(describe(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <p className="text-sm">
          Your plan allows {limit} active {limit === 1 ? "agent" : "agents"}. Paused agents are
          kept and can be edited, but cannot chat or take calls. Pick the ones to keep running;
          the others stay paused.
        </p>
        <fieldset className="space-y-2" aria-describedby={countId}>
          <legend className="sr-only">Agents to keep active</legend>
          {agents.map((agent) => (
            <div key={agent.id} className="flex items-center gap-2">
              <input
                id={`keep-${agent.id}`}
                type="checkbox"
                className="h-4 w-4"
                checked={chosen.has(agent.id)}
                onChange={(e) => {
                  const next = new Set(chosen);
                  if (e.target.checked) next.add(agent.id);
                  else next.delete(agent.id);
                  setChosen(next);
                }}
              />
              <label htmlFor={`keep-${agent.id}`} className="text-sm">
                Keep {agent.name} active
              </label>
            </div>
          ))}
        </fieldset>
        <p
          id={countId}
          className={`text-sm ${over ? "font-semibold text-red-700 dark:text-red-300" : "text-slate-600 dark:text-slate-300"}`}
        >
          {chosen.size} of {limit} chosen{over ? ": choose fewer, or upgrade your plan" : ""}.
        </p>
        <ErrorNotice error={error} />
        <div className="flex flex-wrap items-center gap-3">
          <Button type="submit" busy={busy} disabled={over}>
            Save active agents
          </Button>
          <Link to="/plans">Compare plans</Link>
        </div>
      </form>
    </Card>
  );
}

export default function Agents() {
  const agents = useAgents();
  const profile = useProfile();
  const plan = useCurrentPlan();
  const modelLabel = useModelLabel();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [deleting, setDeleting] = useState<Agent | null>(null);

  const limit = profile.data
    ? plan.data
      ? effectiveAgentLimit(plan.data, profile.data)
      : (profile.data.agent_limit_override ?? null)
    : null;
  const count = agents.data?.length ?? profile.data?.agent_count ?? 0;
  const planName = plan.data?.name ?? "current";
  const atLimit = limit !== null && count >= limit;
  const paused = (agents.data ?? []).filter(isPaused);

  const usage =
    limit !== null ? `${count} of ${limit} agents on the ${planName} plan` : undefined;

  const newAgent = atLimit ? (
    <Button disabled aria-describedby="agent-limit-reason">
      New agent
    </Button>
  ) : (
    <ButtonLink to="/agents/new">New agent</ButtonLink>
  );

  return (
    <div className="space-y-6">
      <PageHeader title="Agents" description={usage} actions={newAgent} />
      {atLimit && (
        <div id="agent-limit-reason">
          <Notice tone="info" title="You have reached your plan's agent limit">
            You have {count} of {limit} agents on the {planName} plan, so you cannot create
            another one. <Link to="/plans">Upgrade your plan on the Plans page</Link> for more
            agents, or delete one to make room.
          </Notice>
        </div>
      )}
      {paused.length > 0 && (
        <Notice
          tone="warning"
          title={`${paused.length} of your agents ${paused.length === 1 ? "is" : "are"} paused`}
        >
          Your plan allows fewer agents than you have, so{" "}
          {paused.map((a) => a.name).join(", ")} {paused.length === 1 ? "is" : "are"} paused:
          kept and editable, but not callable. Choose below which agents stay active, delete
          some, or <Link to="/plans">upgrade</Link>.
        </Notice>
      )}
      {(profile.isError || plan.isError) && (
        <ErrorNotice
          error={describe(profile.error ?? plan.error)}
          title="Your plan's limit could not be loaded"
        />
      )}
      <QueryView
        query={agents}
        loading="Loading your agents…"
        failed="Your agents could not be loaded"
      >
        {(list) =>
          list.length === 0 ? (
            <EmptyState title="No agents yet">
              An agent answers chats and phone calls with its own prompt, model and voice.{" "}
              {!atLimit && <Link to="/agents/new">Create your first agent</Link>}
            </EmptyState>
          ) : (
            <ul className="grid gap-4 sm:grid-cols-2 xl:grid-cols-3" aria-label="Your agents">
              {list.map((agent) => (
                <AgentCard
                  key={agent.id}
                  agent={agent}
                  modelLabel={modelLabel}
                  onDelete={setDeleting}
                />
              ))}
            </ul>
          )
        }
      </QueryView>
      {paused.length > 0 && limit !== null && agents.data && (
        <ChooseActive
          key={agents.data.map((a) => `${a.id}:${a.status}`).join(",")}
          agents={agents.data}
          limit={limit}
        />
      )}
      <ConfirmDialog
        open={deleting !== null}
        onOpenChange={(open) => !open && setDeleting(null)}
        title={deleting ? `Delete ${deleting.name}?` : "Delete agent?"}
        description="The agent, its conversations and its call log are deleted for good. Usage it already used stays on your bill."
        confirmLabel="Delete agent"
        danger
        onConfirm={async () => {
          if (!deleting) return;
          unwrap(await supabase().from("agents").delete().eq("id", deleting.id));
          await Promise.all([
            queryClient.invalidateQueries({ queryKey: keys.agents }),
            queryClient.invalidateQueries({ queryKey: ["profile"] }),
          ]);
          toast({ title: `${deleting.name} deleted`, tone: "success" });
        }}
      />
    </div>
  );
}
