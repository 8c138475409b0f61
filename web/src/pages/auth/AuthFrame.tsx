// What the signed-out pages share: their frame, where emailed links return to, the password
// rules, the resend button, and the check on ?next=.
import { useState, type ReactNode } from "react";
import { ThemeToggle } from "../../components/Layout";
import { Button, ErrorNotice, Notice } from "../../components/ui";
import { describe, type UserError } from "../../lib/errors";
import { supabase } from "../../lib/supabase";

/** The frame of the signed-out pages: the brand, one card, the theme toggle. */
export function AuthFrame({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="min-h-screen px-4 py-10">
      <div className="mx-auto flex max-w-md items-center justify-between">
        <p className="text-lg font-bold">VoxFlow</p>
        <ThemeToggle />
      </div>
      <main
        id="main"
        className="mx-auto mt-6 max-w-md rounded-lg border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-700 dark:bg-slate-900"
      >
        <h1 className="mb-4 text-2xl font-bold tracking-tight">{title}</h1>
        {children}
      </main>
    </div>
  );
}

/** Where verification and recovery links send the person back to. */
export function callbackUrl(): string {
  return `${window.location.origin}/auth/callback`;
}

/** The sign-up rules of accounts.check_password_strength, shown before anything is submitted. */
const PASSWORD_RULES = [
  "At least 8 characters",
  "A mix of at least two of: lowercase, uppercase, digits, symbols",
  "Not your email address",
];

export function PasswordRules() {
  return (
    <ul className="list-disc pl-5">
      {PASSWORD_RULES.map((r) => (
        <li key={r}>{r}</li>
      ))}
    </ul>
  );
}

/** Only paths inside the app, so a crafted ?next= cannot send the person elsewhere. */
export function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/home";
}

export function ResendButton({ email }: { email: string }) {
  const [state, setState] = useState<"idle" | "busy" | "sent">("idle");
  const [error, setError] = useState<UserError | null>(null);
  return (
    <div className="space-y-2">
      <Button
        variant="secondary"
        busy={state === "busy"}
        onClick={async () => {
          setState("busy");
          setError(null);
          const { error: err } = await supabase().auth.resend({
            type: "signup",
            email,
            options: { emailRedirectTo: callbackUrl() },
          });
          if (err) {
            setError(describe(err));
            setState("idle");
          } else setState("sent");
        }}
      >
        Resend the email
      </Button>
      {state === "sent" && <Notice tone="success">We sent a new link to {email}.</Notice>}
      <ErrorNotice error={error} />
    </div>
  );
}
