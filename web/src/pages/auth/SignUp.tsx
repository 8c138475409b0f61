import { useState } from "react";
import { Link } from "react-router-dom";
import { supabase } from "../../lib/supabase";
import { describe, fieldOf, type UserError } from "../../lib/errors";
import { Button, ErrorNotice, TextField } from "../../components/ui";
import { AuthFrame, callbackUrl, PasswordRules, ResendButton } from "./AuthFrame";

const FIELDS = ["email", "password", "organization"] as const;
type Field = (typeof FIELDS)[number];

export default function SignUp() {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [organization, setOrganization] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UserError | null>(null);
  const [sentTo, setSentTo] = useState<string | null>(null);

  if (sentTo) {
    return (
      <AuthFrame title="Check your inbox">
        <div className="space-y-4">
          <p>
            We sent a confirmation link to <strong>{sentTo}</strong>. Open it to activate your
            account; the link works once.
          </p>
          <p className="text-sm text-slate-600 dark:text-slate-300">
            Nothing there? Look in your spam folder, or send it again.
          </p>
          <ResendButton email={sentTo} />
          <p className="text-sm">
            Already confirmed? <Link to="/sign-in">Sign in</Link>
          </p>
        </div>
      </AuthFrame>
    );
  }

  const field: Field | null = error ? fieldOf(error, FIELDS) : null;
  const errorFor = (f: Field) => (error && field === f ? error.message : undefined);
  const duplicate = error?.code === "user_already_exists" || error?.code === "email_exists";

  return (
    <AuthFrame title="Create your VoxFlow account">
      <form
        className="space-y-4"
        noValidate
        onSubmit={async (event) => {
          event.preventDefault();
          // Checked here too: the API's message for it names its parameter (data.organization_name).
          if (!organization.trim()) {
            setError({
              status: 400,
              code: "validation_failed",
              message: "Enter your organization's name.",
              field: "organization",
              extra: {},
            });
            return;
          }
          setBusy(true);
          setError(null);
          const { error: err } = await supabase().auth.signUp({
            email: email.trim(),
            password,
            options: {
              data: { organization_name: organization.trim() },
              emailRedirectTo: callbackUrl(),
            },
          });
          setBusy(false);
          if (err) setError(describe(err));
          else setSentTo(email.trim());
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
          error={
            duplicate ? (
              <span>
                An account with this email already exists. <Link to="/sign-in">Sign in</Link> or{" "}
                <Link to="/forgot-password">reset your password</Link>.
              </span>
            ) : (
              errorFor("email")
            )
          }
        />
        <TextField
          label="Password"
          type="password"
          name="password"
          autoComplete="new-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          hint={<PasswordRules />}
          error={errorFor("password")}
        />
        <TextField
          label="Organization name"
          name="organization"
          autoComplete="organization"
          required
          value={organization}
          onChange={(e) => setOrganization(e.target.value)}
          maxLength={200}
          error={errorFor("organization")}
        />
        {error && !field && !duplicate && <ErrorNotice error={error} />}
        <Button type="submit" busy={busy} className="w-full">
          {busy ? "Creating your account…" : "Create account"}
        </Button>
        <p className="text-sm">
          Have an account? <Link to="/sign-in">Sign in</Link>
        </p>
      </form>
    </AuthFrame>
  );
}
