import { useEffect, useState } from "react";
import { Link, useNavigate, useSearchParams } from "react-router-dom";
import { supabase } from "../../lib/supabase";
import { describe, retrySeconds, type UserError } from "../../lib/errors";
import { useAuth } from "../../lib/auth";
import { Button, ErrorNotice, Notice, TextField } from "../../components/ui";
import { AuthFrame, ResendButton, safeNext } from "./AuthFrame";

export default function SignIn() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const { session, ready } = useAuth();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UserError | null>(null);
  const [wait, setWait] = useState(0);
  const next = safeNext(params.get("next"));

  useEffect(() => {
    if (ready && session) navigate(next, { replace: true });
  }, [ready, session, next, navigate]);

  useEffect(() => {
    if (wait <= 0) return;
    const timer = setTimeout(() => setWait(wait - 1), 1000);
    return () => clearTimeout(timer);
  }, [wait]);

  return (
    <AuthFrame title="Sign in to VoxFlow">
      {params.get("reset") === "done" && (
        <div className="mb-4">
          <Notice tone="success">Your password was changed. Sign in with the new one.</Notice>
        </div>
      )}
      <form
        className="space-y-4"
        onSubmit={async (event) => {
          event.preventDefault();
          setBusy(true);
          setError(null);
          const { error: err } = await supabase().auth.signInWithPassword({
            email: email.trim(),
            password,
          });
          setBusy(false);
          if (err) {
            const e = describe(err);
            setError(e);
            if (e.status === 429) setWait(retrySeconds(e) ?? 30);
          }
        }}
      >
        <TextField
          label="Email"
          type="email"
          name="email"
          autoComplete="email"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
        />
        <TextField
          label="Password"
          type="password"
          name="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        {error?.code === "email_not_confirmed" ? (
          <Notice tone="warning" title="Confirm your email first" live>
            <p>Open the link we sent to {email.trim()}, then sign in. No email? Send it again.</p>
            <div className="mt-2">
              <ResendButton email={email.trim()} />
            </div>
          </Notice>
        ) : error?.status === 429 ? (
          <Notice tone="error" title="Too many attempts" live>
            {wait > 0
              ? `Try again in ${wait} seconds.`
              : "You can try again now."}
          </Notice>
        ) : error?.code === "invalid_credentials" ? (
          <Notice tone="error" live>
            That email and password do not match. Check them, or{" "}
            <Link to="/forgot-password">reset your password</Link>.
          </Notice>
        ) : (
          <ErrorNotice error={error} />
        )}
        <Button type="submit" busy={busy} disabled={wait > 0} className="w-full">
          Sign in
        </Button>
        <div className="flex flex-wrap justify-between gap-2 text-sm">
          <Link to="/forgot-password">Forgot your password?</Link>
          <Link to="/sign-up">Create an account</Link>
        </div>
      </form>
    </AuthFrame>
  );
}
