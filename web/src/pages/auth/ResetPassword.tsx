import { useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { supabase } from "../../lib/supabase";
import { useAuth } from "../../lib/auth";
import { describe, fieldOf, type UserError } from "../../lib/errors";
import { Button, ErrorNotice, Loading, Notice, TextField } from "../../components/ui";
import { AuthFrame, PasswordRules } from "./AuthFrame";

/** Where the recovery link ends: the link signed the person in; here they choose a password. */
export default function ResetPassword() {
  const { session, ready } = useAuth();
  const navigate = useNavigate();
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UserError | null>(null);
  if (!ready) return <Loading />;
  if (!session) {
    return (
      <AuthFrame title="Choose a new password">
        <Notice tone="error" title="This page needs a reset link" live>
          Open the link from your password-reset email, or{" "}
          <Link to="/forgot-password">ask for a new one</Link>.
        </Notice>
      </AuthFrame>
    );
  }
  const mismatch = confirm.length > 0 && confirm !== password;
  const onPassword = error ? fieldOf(error, ["password"]) === "password" : false;
  return (
    <AuthFrame title="Choose a new password">
      <form
        className="space-y-4"
        onSubmit={async (event) => {
          event.preventDefault();
          if (password !== confirm) return;
          setBusy(true);
          setError(null);
          const { error: err } = await supabase().auth.updateUser({ password });
          if (err) {
            setBusy(false);
            setError(describe(err));
            return;
          }
          await supabase().auth.signOut({ scope: "local" });
          navigate("/sign-in?reset=done", { replace: true });
        }}
      >
        <p className="text-sm">For {session.user.email}.</p>
        <TextField
          label="New password"
          type="password"
          autoComplete="new-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          hint={<PasswordRules />}
          error={onPassword ? error?.message : undefined}
        />
        <TextField
          label="Repeat the new password"
          type="password"
          autoComplete="new-password"
          required
          value={confirm}
          onChange={(e) => setConfirm(e.target.value)}
          error={mismatch ? "The two passwords differ" : undefined}
        />
        {!onPassword && <ErrorNotice error={error} />}
        <Button type="submit" busy={busy} disabled={mismatch || !password} className="w-full">
          Save new password
        </Button>
      </form>
    </AuthFrame>
  );
}
