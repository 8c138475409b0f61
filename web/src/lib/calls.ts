// Calls as the calls pages read them: the row, its status, and the phone line's cost from the
// price book (Twilio's per-minute rate in force when the call ended), so no page reads events.
import { useQuery } from "@tanstack/react-query";
import { unwrap } from "./api";
import { useAuth } from "./auth";
import { supabase } from "./supabase";

export interface CallRow {
  id: number;
  agent_id: number;
  direction: "inbound" | "outbound";
  from_number: string | null;
  to_number: string | null;
  status: string;
  started_at: string | null;
  ended_at: string | null;
  duration_seconds: number | null;
  created_at: string;
  agent: { name: string } | null;
}

export interface TranscriptTurn {
  role: "user" | "assistant" | string;
  text: string;
}

export const CALL_COLUMNS =
  "id, agent_id, direction, from_number, to_number, status, started_at, ended_at, duration_seconds, created_at, agent:agents(name)";

export const CALL_STATUSES = [
  "queued",
  "ringing",
  "in-progress",
  "completed",
  "busy",
  "no-answer",
  "failed",
  "canceled",
] as const;

const FINAL = new Set(["completed", "busy", "no-answer", "failed", "canceled"]);

export function isFinal(status: string): boolean {
  return FINAL.has(status);
}

// Twilio hangs up a call after 4 hours at most (its time limit), after up to 10 minutes of
// ringing; a row still not final well after that missed its last status callback.
const LONGEST_CALL_MS = 5 * 3600 * 1000;

/** Whether the call may still change, so a page showing it should poll: not final, and young
 * enough to be on the line (a row whose last callback never came is not polled for ever). */
export function isLive(call: Pick<CallRow, "status" | "created_at">, now = Date.now()): boolean {
  return !isFinal(call.status) && now - new Date(call.created_at).getTime() < LONGEST_CALL_MS;
}

export function statusTone(status: string): "success" | "warning" | "error" | "info" | "neutral" {
  if (status === "completed") return "success";
  if (status === "failed") return "error";
  if (status === "busy" || status === "no-answer" || status === "canceled") return "warning";
  return "info";
}

export function statusLabel(status: string): string {
  const text = status.replace(/-/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export interface MinutePrice {
  model: string;
  usd_per_unit: number;
  effective_from: string;
  effective_to: string | null;
}

/** Twilio's per-minute prices (inbound, outbound) from the price book. */
export function usePhonePrices() {
  const { session } = useAuth();
  return useQuery({
    queryKey: ["price_book", "twilio", "minute"],
    enabled: !!session,
    staleTime: 10 * 60 * 1000,
    queryFn: async () =>
      unwrap<MinutePrice[]>(
        await supabase()
          .from("price_book")
          .select("model, usd_per_unit, effective_from, effective_to")
          .eq("provider", "twilio")
          .eq("unit", "minute"),
      ),
  });
}

/** The rate in force for this call's direction when it ended, or null if none is known. */
export function phoneRate(call: CallRow, prices: MinutePrice[] | undefined): number | null {
  if (!prices) return null;
  const at = new Date(call.ended_at ?? call.started_at ?? call.created_at).getTime();
  const price = prices.find(
    (p) =>
      p.model === call.direction &&
      new Date(p.effective_from).getTime() <= at &&
      (!p.effective_to || new Date(p.effective_to).getTime() > at),
  );
  return price ? Number(price.usd_per_unit) : null;
}

/** The phone line's cost, as metering charges it: seconds / 60 × the per-minute rate. */
export function phoneCost(call: CallRow, prices: MinutePrice[] | undefined): number | null {
  if (!call.duration_seconds) return call.status && isFinal(call.status) ? 0 : null;
  const rate = phoneRate(call, prices);
  return rate === null ? null : (call.duration_seconds / 60) * rate;
}

/** A per-minute rate with the digits it has ($0.014, $0.0085). */
export function formatRate(usd: number): string {
  return `$${usd.toFixed(4).replace(/(\.\d\d\d*?)0+$/, "$1")}`;
}
