import { useState } from "react";
import { Link } from "react-router-dom";
import { supabase } from "../../lib/supabase";
import { describe, type UserError } from "../../lib/errors";
import { Button, ErrorNotice, Notice, TextField } from "../../components/ui";
import { AuthFrame, callbackUrl } from "./AuthFrame";

export default function ForgotPassword() {
  const [email, setEmail] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UserError | null>(null);
  const [sent, setSent] = useState(false);
  return (
    <AuthFrame title="Reset your password">
      {sent ? (
        <div className="space-y-4">
          <Notice tone="success">
            If an account exists for {email.trim()}, we sent it a link to choose a new password.
            The link works once.
          </Notice>
          <Link to="/sign-in" className="text-sm">
            Back to sign in
          </Link>
        </div>
      ) : (
        <form
          className="space-y-4"
          onSubmit={async (event) => {
            event.preventDefault();
            setBusy(true);
            setError(null);
            const { error: err } = await supabase().auth.resetPasswordForEmail(email.trim(), {
              redirectTo: `${callbackUrl()}?next=/reset-password`,
            });
            setBusy(false);
            if (err) setError(describe(err));
            else setSent(true);
          }}
        >
          <p className="text-sm">Enter your account's email; we will send you a reset link.</p>
          <TextField
            label="Email"
            type="email"
            autoComplete="email"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
          <ErrorNotice error={error} />
          <Button type="submit" busy={busy} className="w-full">
            Send reset link
          </Button>
          <Link to="/sign-in" className="text-sm">
            Back to sign in
          </Link>
        </form>
      )}
    </AuthFrame>
  );
}
