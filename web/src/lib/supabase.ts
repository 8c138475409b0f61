// The one place the data client is made: every read and write of the app goes through it.
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import type { RuntimeConfig } from "./config";

let client: SupabaseClient | null = null;
let runtime: RuntimeConfig | null = null;
// The fragment a verification or recovery link landed with, read before the client consumes it.
let landingFragment = "";

export function initSupabase(config: RuntimeConfig): SupabaseClient {
  runtime = config;
  landingFragment = window.location.hash.replace(/^#/, "");
  client = createClient(config.apiUrl, config.anonKey, {
    auth: { flowType: "implicit", detectSessionInUrl: true, persistSession: true },
  });
  return client;
}

export function supabase(): SupabaseClient {
  if (!client) throw new Error("initSupabase() must run before the app renders");
  return client;
}

export function config(): RuntimeConfig {
  if (!runtime) throw new Error("initSupabase() must run before the app renders");
  return runtime;
}

/** The admin schema, through the same client. */
export function adminDb() {
  return supabase().schema("admin");
}

/** What the link that opened the app carried in its fragment (tokens or an error). */
export function landingParams(): URLSearchParams {
  return new URLSearchParams(landingFragment);
}
