// Queries more than one page reads, under one key each, so a change on one page shows on all.
import { useQuery } from "@tanstack/react-query";
import { supabase } from "./supabase";
import { unwrap } from "./api";
import { useAuth } from "./auth";

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
