// Queries more than one page reads, under one key each, so a change on one page shows on all.
import { useQuery } from "@tanstack/react-query";
import { supabase } from "./supabase";
import { unwrap } from "./api";
import { useAuth, type Profile } from "./auth";

export interface UsageSummary {
  user_id: string;
  period_start: string;
  resets_on: string;
  days_until_reset: number;
  plan_id: string;
  plan_name: string;
  tokens_used: number;
  tokens_reserved: number;
  token_limit: number;
  tokens_percent: number;
  cost_usd: number;
  cost_limit_usd: number;
  audio_seconds: number;
  characters: number;
  call_seconds: number;
  events: number;
}

export interface Notification {
  id: number;
  kind: string;
  title: string;
  body: string;
  data: Record<string, unknown> | null;
  created_at: string;
  read_at: string | null;
}

export const keys = {
  usageSummary: ["usage_summary"] as const,
  notifications: ["notifications"] as const,
  unread: ["notifications", "unread"] as const,
  agents: ["agents"] as const,
  apiKeys: ["api_keys"] as const,
  plans: ["plan_comparison"] as const,
  models: ["model_catalog"] as const,
};

export function useUsageSummary() {
  const { session } = useAuth();
  return useQuery({
    queryKey: keys.usageSummary,
    enabled: !!session,
    queryFn: async () =>
      unwrap<UsageSummary | null>(
        await supabase().from("usage_summary").select("*").maybeSingle(),
      ),
  });
}

export function useUnreadCount() {
  const { session } = useAuth();
  return useQuery({
    queryKey: keys.unread,
    enabled: !!session,
    refetchInterval: 30000,
    queryFn: async () => {
      const result = await supabase()
        .from("notifications")
        .select("id", { count: "exact", head: true })
        .eq("user_id", session!.user.id)
        .is("read_at", null);
      unwrap(result);
      return result.count ?? 0;
    },
  });
}

// --- Agents and the model catalog (read by the agents pages, the test console, calls) -------

export interface Agent {
  id: number;
  name: string;
  description: string | null;
  system_prompt: string;
  first_message: string | null;
  llm_model: string;
  temperature: number;
  max_tokens: number;
  stt_model: string;
  tts_voice: string;
  language: string;
  phone_number: string | null;
  config: Record<string, unknown>;
  is_active: boolean;
  /** 'suspended_over_limit' when a downgrade paused it: kept and editable, not callable. */
  status: "active" | "suspended_over_limit";
  user_id: string;
  created_at: string;
  updated_at: string;
}

export interface CatalogEntry {
  kind: "llm" | "stt" | "tts";
  id: string;
  provider: string;
  label: string;
  language: string | null;
}

async function fetchAgents(): Promise<Agent[]> {
  return unwrap<Agent[]>(
    await supabase()
      .from("agents")
      .select("*")
      .order("created_at", { ascending: true })
      .order("id", { ascending: true }),
  );
}

/** The caller's agents, oldest first (the order a downgrade keeps them in). */
export function useAgents() {
  const { session } = useAuth();
  return useQuery({ queryKey: keys.agents, enabled: !!session, queryFn: fetchAgents });
}

/** One agent, under keys.agents so invalidating the list refreshes it too. */
export function useAgent(agentId: number | null) {
  const { session } = useAuth();
  return useQuery({
    queryKey: [...keys.agents, agentId],
    enabled: !!session && agentId !== null,
    queryFn: async () =>
      unwrap<Agent | null>(
        await supabase().from("agents").select("*").eq("id", agentId!).maybeSingle(),
      ),
  });
}

export function useModelCatalog() {
  return useQuery({
    queryKey: keys.models,
    staleTime: 10 * 60 * 1000,
    queryFn: async () =>
      unwrap<CatalogEntry[]>(
        await supabase().from("model_catalog").select("*").order("kind").order("label"),
      ),
  });
}

/** A model's or voice's name from the catalog; its id while the catalog loads, or if it is gone. */
export function useModelLabel() {
  const catalog = useModelCatalog();
  return (kind: CatalogEntry["kind"], id: string) =>
    catalog.data?.find((m) => m.kind === kind && m.id === id)?.label ?? id;
}

// --- Provider keys and agents as a name list (keys page, home checklist, calls) -------------

export interface ApiKeyRow {
  provider: "groq" | "deepgram" | "twilio";
  configured: boolean;
  hint: string | null;
  updated_at: string | null;
  last_used_at: string | null;
  fields: string[];
  set_with: string;
}

export function useApiKeys() {
  const { session } = useAuth();
  return useQuery({
    queryKey: keys.apiKeys,
    enabled: !!session,
    queryFn: async () =>
      unwrap<ApiKeyRow[]>(await supabase().from("api_keys").select("*").order("provider")),
  });
}

export interface AgentOption {
  id: number;
  name: string;
  status: string;
  is_active: boolean;
}

const byName = (a: AgentOption, b: AgentOption) => a.name.localeCompare(b.name);

/** Every agent's id and name (for selects and labels), by name: the agents list's own query. */
export function useAgentOptions() {
  const { session } = useAuth();
  return useQuery({
    queryKey: keys.agents,
    enabled: !!session,
    queryFn: fetchAgents,
    select: (agents): AgentOption[] => [...agents].sort(byName),
  });
}

// --- Plans (the plans page, the agents page's "N of M", the admin's plan names) -------------

export interface PlanRow {
  plan_id: string;
  name: string;
  agent_limit: number;
  monthly_token_limit: number;
  monthly_price_usd: number;
  features: Record<string, unknown> | null;
  sort_order: number;
  is_current: boolean;
  agents_used: number;
  fits_current_agents: boolean;
  requests_per_minute: number;
  monthly_cost_limit_usd: number | null;
  tokens_used_this_month: number;
  fits_current_tokens: boolean;
}

async function fetchPlans(): Promise<PlanRow[]> {
  return unwrap<PlanRow[]>(
    await supabase().from("plan_comparison").select("*").order("sort_order").order("plan_id"),
  );
}

/** Every plan beside the caller's usage, cheapest first (plan_comparison). */
export function usePlans() {
  const { session } = useAuth();
  return useQuery({ queryKey: keys.plans, enabled: !!session, queryFn: fetchPlans });
}

/** The caller's current plan: the plans list's own query, so a plan change refreshes both. */
export function useCurrentPlan() {
  const { session } = useAuth();
  return useQuery({
    queryKey: keys.plans,
    enabled: !!session,
    queryFn: fetchPlans,
    select: (plans) => plans.find((p) => p.is_current) ?? null,
  });
}

/** The limits a plan gives this person: an admin's override wins over the plan's figure. */
export function effectiveAgentLimit(plan: PlanRow, profile: Profile | undefined): number {
  return profile?.agent_limit_override ?? plan.agent_limit;
}

export function effectiveTokenLimit(plan: PlanRow, profile: Profile | undefined): number {
  return profile?.monthly_token_limit_override ?? plan.monthly_token_limit;
}
