// The signed-in person: the supabase session plus their profile (role, plan, status).
import { createContext, useContext, useEffect, useState, type ReactNode } from "react";
import type { Session } from "@supabase/supabase-js";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { supabase } from "./supabase";
import { unwrap } from "./api";

export interface Profile {
  id: string;
  email: string;
  organization_name: string | null;
  role: "user" | "admin";
  plan_id: string;
  status: string;
  agent_limit_override: number | null;
  monthly_token_limit_override: number | null;
  agent_count: number;
  created_at: string;
}

interface AuthState {
  session: Session | null;
  /** False until the stored session (or the one in the URL) has been read. */
  ready: boolean;
}

const AuthContext = createContext<AuthState>({ session: null, ready: false });

export function AuthProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<AuthState>({ session: null, ready: false });
  const queryClient = useQueryClient();
  useEffect(() => {
    const client = supabase();
    let active = true;
    client.auth.getSession().then(({ data }) => {
      if (active) setState({ session: data.session, ready: true });
    });
    const { data } = client.auth.onAuthStateChange((event, session) => {
      setState({ session, ready: true });
      if (event === "SIGNED_OUT") queryClient.clear();
    });
    return () => {
      active = false;
      data.subscription.unsubscribe();
    };
  }, [queryClient]);
  return <AuthContext.Provider value={state}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  return useContext(AuthContext);
}

export function useProfile() {
  const { session } = useAuth();
  const userId = session?.user.id;
  return useQuery({
    queryKey: ["profile", userId],
    enabled: !!userId,
    queryFn: async () =>
      unwrap<Profile>(
        await supabase().from("profiles").select("*").eq("id", userId!).single(),
      ),
  });
}
