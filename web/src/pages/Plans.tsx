// Plans side by side (plan_comparison), the current one marked; upgrade and downgrade through
// rpc change_plan. A downgrade names what it costs before it is confirmed: the agents that will
// pause (change_plan keeps the oldest active agents within the new limit and pauses the newest)
// and whether this month's tokens already exceed the new limit.
import { useState } from "react";
import { Link } from "react-router-dom";
import { useQueryClient } from "@tanstack/react-query";
import { ConfirmDialog } from "../components/Dialog";
import { useToast } from "../components/Toast";
import {
  Badge,
  Button,
  Card,
  EmptyState,
  ErrorNotice,
  Meter,
  Notice,
  PageHeader,
  QueryView,
  Table,
  td,
  th,
} from "../components/ui";
import { unwrap } from "../lib/api";
import { useProfile, type Profile } from "../lib/auth";
import { describe } from "../lib/errors";
import { formatNumber, formatPercent, formatUsd } from "../lib/format";
import {
  effectiveAgentLimit,
  effectiveTokenLimit,
  keys,
  useAgents,
  usePlans,
  useUsageSummary,
  type Agent,
  type PlanRow,
} from "../lib/queries";
import { supabase } from "../lib/supabase";

type AgentRow = Pick<Agent, "id" | "name" | "status" | "created_at">;

interface ChangeResult {
  plan_id: string;
  changed: boolean;
  suspended_agent_ids: number[];
  reactivated_agent_ids: number[];
}

const FEATURE_LABELS: Record<string, string> = {
  phone_numbers: "Phone numbers",
  support: "Support",
  analytics_days: "Usage history",
};

function featureLabel(key: string) {
  return FEATURE_LABELS[key] ?? key.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

function featureValue(key: string, value: unknown) {
  if (value === undefined || value === null) return "—";
  if (typeof value === "boolean") return value ? "Included" : "—";
  if (key === "analytics_days" && typeof value === "number") return `${value} days`;
  if (typeof value === "number") return formatNumber(value);
  const text = String(value);
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * What apply_agent_limit will do under `limit`: agents ranked active first, then oldest first;
 * the first `limit` are active, the rest paused.
 */
function agentsAfter(agents: AgentRow[], limit: number) {
  const ranked = [...agents].sort(
    (a, b) =>
      Number(b.status === "active") - Number(a.status === "active") ||
      a.created_at.localeCompare(b.created_at) ||
      a.id - b.id,
  );
  const pause = ranked.slice(limit).filter((a) => a.status === "active");
  const resume = ranked.slice(0, limit).filter((a) => a.status !== "active");
  return { pause, resume };
}

function AgentList({ agents }: { agents: AgentRow[] }) {
  return (
    <ul className="mt-1 list-disc space-y-0.5 pl-5">
      {agents.map((a) => (
        <li key={a.id}>{a.name}</li>
      ))}
    </ul>
  );
}

function Consequences({
  target,
  current,
  agents,
  profile,
}: {
  target: PlanRow;
  current: PlanRow | undefined;
  /** undefined when the agents could not be read: the dialog then says only what it knows. */
  agents: AgentRow[] | undefined;
  profile: Profile | undefined;
}) {
  const agentLimit = effectiveAgentLimit(target, profile);
  const tokenLimit = effectiveTokenLimit(target, profile);
  const { pause, resume } = agentsAfter(agents ?? [], agentLimit);
  const downgrade = current ? target.sort_order < current.sort_order : false;
  const tokensUsed = Number(target.tokens_used_this_month);
  const agentCount = Number(target.agents_used);
  return (
    <div className="space-y-3">
      <p>
        The {target.name} plan gives you {formatNumber(agentLimit)} agents,{" "}
        {formatNumber(tokenLimit)} tokens a month and {formatNumber(target.requests_per_minute)}{" "}
        requests a minute
        {Number(target.monthly_price_usd) === 0
          ? " at no charge"
          : ` for ${formatUsd(target.monthly_price_usd)} a month`}
        . The change takes effect at once.
      </p>
      {pause.length > 0 ? (
        <Notice tone="warning" title={`${pause.length} of your agents will pause`}>
          <p>
            The {target.name} plan allows {formatNumber(agentLimit)} active agents; you have{" "}
            {formatNumber(agentCount)}. Your newest agents will be paused: they are kept and
            editable, but cannot chat or take calls until you upgrade again or choose which
            agents stay active.
          </p>
          <AgentList agents={pause} />
        </Notice>
      ) : !agents ? (
        agentCount > agentLimit && (
          <Notice tone="warning" title="Some of your agents may pause">
            The {target.name} plan allows {formatNumber(agentLimit)} active agents; you have{" "}
            {formatNumber(agentCount)}. The newest active ones will be paused. Your agents could
            not be loaded, so they cannot be named here.
          </Notice>
        )
      ) : (
        downgrade && <p>All your agents stay active.</p>
      )}
      {resume.length > 0 && (
        <Notice tone="success" title={`${resume.length} paused agents will be active again`}>
          <AgentList agents={resume} />
        </Notice>
      )}
      {downgrade && tokensUsed > tokenLimit && (
        <Notice tone="warning" title="You have already used more tokens than this plan allows">
          You used {formatNumber(tokensUsed)} tokens this month; the {target.name} plan allows{" "}
          {formatNumber(tokenLimit)}. Chats, speech and calls will be refused until the period
          resets.
        </Notice>
      )}
    </div>
  );
}

function CurrentLimits({ current, profile }: { current: PlanRow; profile: Profile | undefined }) {
  const usage = useUsageSummary();
  const agentLimit = effectiveAgentLimit(current, profile);
  const tokenLimit = usage.data ? Number(usage.data.token_limit) : effectiveTokenLimit(current, profile);
  const tokensUsed = usage.data ? Number(usage.data.tokens_used) : Number(current.tokens_used_this_month);
  return (
    <Card title={`Your plan: ${current.name}`}>
      <dl className="grid gap-4 sm:grid-cols-3">
        <div>
          <dt className="text-sm text-slate-600 dark:text-slate-300">Agents</dt>
          <dd className="mt-1 font-semibold">
            {formatNumber(current.agents_used)} of {formatNumber(agentLimit)} agents
            <span className="mt-1 block">
              <Meter label="Agents used" value={Number(current.agents_used)} max={agentLimit} />
            </span>
          </dd>
        </div>
        <div>
          <dt className="text-sm text-slate-600 dark:text-slate-300">Tokens this month</dt>
          <dd className="mt-1 font-semibold">
            {formatNumber(tokensUsed)} of {formatNumber(tokenLimit)} tokens
            <span className="mt-1 block">
              <Meter label="Tokens used this month" value={tokensUsed} max={tokenLimit} />
            </span>
          </dd>
        </div>
        <div>
          <dt className="text-sm text-slate-600 dark:text-slate-300">Request rate</dt>
          <dd className="mt-1 font-semibold">
            {formatNumber(current.requests_per_minute)} requests a minute
          </dd>
        </div>
      </dl>
    </Card>
  );
}

function Suggestion({
  plans,
  current,
  profile,
  onChoose,
}: {
  plans: PlanRow[];
  current: PlanRow;
  profile: Profile | undefined;
  onChoose: (plan: PlanRow) => void;
}) {
  const usage = useUsageSummary();
  const tokenPercent = Number(usage.data?.tokens_percent ?? 0);
  const agentLimit = effectiveAgentLimit(current, profile);
  const agentPercent = agentLimit > 0 ? (Number(current.agents_used) / agentLimit) * 100 : 0;
  if (tokenPercent < 80 && agentPercent < 80) return null;
  const next = plans.find((p) => p.sort_order > current.sort_order);
  const reasons: string[] = [];
  if (tokenPercent >= 80) reasons.push(`${formatPercent(tokenPercent)} of this month's tokens`);
  if (agentPercent >= 80)
    reasons.push(`${formatNumber(current.agents_used)} of your ${formatNumber(agentLimit)} agents`);
  return (
    <Notice tone="warning" title="You are close to your plan's limits">
      <p>You have used {reasons.join(" and ")}.</p>
      {next ? (
        <div className="mt-2 flex flex-wrap items-center gap-2">
          <span>
            The {next.name} plan ({formatUsd(next.monthly_price_usd)} a month) gives you{" "}
            {formatNumber(next.agent_limit)} agents and {formatNumber(next.monthly_token_limit)}{" "}
            tokens a month.
          </span>
          <Button onClick={() => onChoose(next)}>Upgrade to {next.name}</Button>
        </div>
      ) : (
        <p className="mt-1">You are on the largest plan; contact support for higher limits.</p>
      )}
    </Notice>
  );
}

export default function Plans() {
  const plans = usePlans();
  return (
    <>
      <PageHeader
        title="Plans"
        description="Compare plans and change yours at any time; new limits apply at once."
      />
      <QueryView query={plans} loading="Loading plans…" failed="Could not load the plans">
        {(rows) =>
          rows.length ? (
            <PlanChooser rows={rows} />
          ) : (
            <EmptyState title="No plans are available">Contact support to choose a plan.</EmptyState>
          )
        }
      </QueryView>
    </>
  );
}

function PlanChooser({ rows }: { rows: PlanRow[] }) {
  const agents = useAgents();
  const profile = useProfile();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [target, setTarget] = useState<PlanRow | null>(null);
  const current = rows.find((p) => p.is_current);
  const featureKeys = [...new Set(rows.flatMap((p) => Object.keys(p.features ?? {})))];

  const change = async (plan: PlanRow) => {
    const result = unwrap<ChangeResult>(
      await supabase().rpc("change_plan", { plan_id: plan.plan_id }),
    );
    await Promise.all([
      queryClient.invalidateQueries({ queryKey: keys.plans }),
      queryClient.invalidateQueries({ queryKey: keys.usageSummary }),
      queryClient.invalidateQueries({ queryKey: keys.agents }),
      queryClient.invalidateQueries({ queryKey: ["profile"] }),
      queryClient.invalidateQueries({ queryKey: keys.notifications }),
    ]);
    const paused = result.suspended_agent_ids?.length ?? 0;
    const resumed = result.reactivated_agent_ids?.length ?? 0;
    const parts = [];
    if (paused) parts.push(`${paused} agent${paused === 1 ? " was" : "s were"} paused.`);
    if (resumed) parts.push(`${resumed} agent${resumed === 1 ? " is" : "s are"} active again.`);
    toast({
      tone: "success",
      title: `You are now on the ${plan.name} plan`,
      description: parts.join(" ") || undefined,
    });
  };

  const isDowngrade = (plan: PlanRow) => !!current && plan.sort_order < current.sort_order;
  const pausesAgents = (plan: PlanRow) => {
    const limit = effectiveAgentLimit(plan, profile.data);
    return agents.data
      ? agentsAfter(agents.data, limit).pause.length > 0
      : Number(plan.agents_used) > limit;
  };
  const label = (plan: PlanRow) =>
    `${isDowngrade(plan) ? "Downgrade" : "Upgrade"} to ${plan.name}`;

  return (
    <>
      <div className="space-y-4">
        {current && <CurrentLimits current={current} profile={profile.data} />}
        {current && (
          <Suggestion plans={rows} current={current} profile={profile.data} onChoose={setTarget} />
        )}
        {agents.isError && (
          <ErrorNotice
            error={describe(agents.error)}
            title="Could not load your agents, so a downgrade cannot say which would pause"
          />
        )}
        <Card title="Compare plans">
          <Table caption="Plans compared">
            <thead>
              <tr>
                <td className={th}>
                  <span className="sr-only">Feature</span>
                </td>
                {rows.map((p) => (
                  <th key={p.plan_id} scope="col" className={`${th} align-bottom`}>
                    <span className="block">{p.name}</span>
                    {p.is_current && <Badge tone="success">Current plan</Badge>}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              <tr>
                <th scope="row" className={`${td} font-medium`}>Price</th>
                {rows.map((p) => (
                  <td key={p.plan_id} className={td}>
                    {Number(p.monthly_price_usd) === 0 ? "Free" : `${formatUsd(p.monthly_price_usd)} / month`}
                  </td>
                ))}
              </tr>
              <tr>
                <th scope="row" className={`${td} font-medium`}>Agents</th>
                {rows.map((p) => (
                  <td key={p.plan_id} className={td}>
                    {formatNumber(p.agent_limit)}
                    {!p.fits_current_agents && (
                      <span className="block text-xs text-amber-800 dark:text-amber-200">
                        You have {formatNumber(p.agents_used)}
                      </span>
                    )}
                  </td>
                ))}
              </tr>
              <tr>
                <th scope="row" className={`${td} font-medium`}>Monthly tokens</th>
                {rows.map((p) => (
                  <td key={p.plan_id} className={td}>
                    {formatNumber(p.monthly_token_limit)}
                    {!p.fits_current_tokens && (
                      <span className="block text-xs text-amber-800 dark:text-amber-200">
                        You used {formatNumber(p.tokens_used_this_month)}
                      </span>
                    )}
                  </td>
                ))}
              </tr>
              <tr>
                <th scope="row" className={`${td} font-medium`}>Request rate</th>
                {rows.map((p) => (
                  <td key={p.plan_id} className={td}>
                    {formatNumber(p.requests_per_minute)} / minute
                  </td>
                ))}
              </tr>
              <tr>
                <th scope="row" className={`${td} font-medium`}>Monthly cost ceiling</th>
                {rows.map((p) => (
                  <td key={p.plan_id} className={td}>
                    {p.monthly_cost_limit_usd == null ? "None" : formatUsd(p.monthly_cost_limit_usd)}
                  </td>
                ))}
              </tr>
              {featureKeys.map((key) => (
                <tr key={key}>
                  <th scope="row" className={`${td} font-medium`}>{featureLabel(key)}</th>
                  {rows.map((p) => (
                    <td key={p.plan_id} className={td}>
                      {featureValue(key, p.features?.[key])}
                    </td>
                  ))}
                </tr>
              ))}
              <tr>
                <td className={td}>
                  <span className="sr-only">Change plan</span>
                </td>
                {rows.map((p) => (
                  <td key={p.plan_id} className={td}>
                    {p.is_current ? (
                      <span className="text-sm text-slate-600 dark:text-slate-300">Your plan</span>
                    ) : (
                      <Button
                        variant={isDowngrade(p) ? "secondary" : "primary"}
                        onClick={() => setTarget(p)}
                        disabled={agents.isPending}
                      >
                        {label(p)}
                      </Button>
                    )}
                  </td>
                ))}
              </tr>
            </tbody>
          </Table>
        </Card>
        <p className="text-sm text-slate-600 dark:text-slate-300">
          Paused agents are kept: choose which stay active on the{" "}
          <Link to="/agents">Agents</Link> page.
        </p>
      </div>
      {target && (
        <ConfirmDialog
          open={!!target}
          onOpenChange={(open) => {
            if (!open) setTarget(null);
          }}
          title={`${label(target)}?`}
          description={
            <Consequences
              target={target}
              current={current}
              agents={agents.data}
              profile={profile.data}
            />
          }
          confirmLabel={label(target)}
          danger={isDowngrade(target) && pausesAgents(target)}
          onConfirm={() => change(target)}
        />
      )}
    </>
  );
}
