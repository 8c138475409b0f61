// The deployment's values reach the page at run time, so one build runs on every stack.
export interface RuntimeConfig {
  apiUrl: string;
  anonKey: string;
}

/** An empty or relative apiUrl is the page's own origin (the gateway that served it). */
export function resolveApiUrl(apiUrl: string | undefined, origin: string): string {
  return new URL(apiUrl || "/", origin).toString().replace(/\/$/, "");
}

export async function loadConfig(
  fetcher: typeof fetch = fetch,
  origin: string = window.location.origin,
): Promise<RuntimeConfig> {
  const response = await fetcher("/config.json", { cache: "no-store" });
  if (!response.ok) {
    throw new Error(`The app's configuration (/config.json) answered ${response.status}`);
  }
  const data = (await response.json()) as Partial<RuntimeConfig>;
  if (!data.anonKey) {
    throw new Error("The app's configuration (/config.json) lacks the anonKey");
  }
  return { apiUrl: resolveApiUrl(data.apiUrl, origin), anonKey: data.anonKey };
}
