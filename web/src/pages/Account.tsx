// The person's account: organization name (profiles.organization_name, the one column owners
// may write there; the auth metadata is kept in step), password, sign out here or everywhere,
// and deleting the account (DELETE /functions/v1/account with the password).
import { useState } from "react";
import { useNavigate } from "react-router-dom";
import { useQueryClient } from "@tanstack/react-query";
import { ConfirmDialog } from "../components/Dialog";
import { useToast } from "../components/Toast";
import {
  Button,
  Card,
  ErrorNotice,
  Notice,
  PageHeader,
  QueryView,
  TextField,
} from "../components/ui";
import { callRaw, unwrap } from "../lib/api";
import { useAuth, useProfile } from "../lib/auth";
import { describe, fieldOf, type UserError } from "../lib/errors";
import { formatDate } from "../lib/format";
import { supabase } from "../lib/supabase";

function OrganizationForm({ current }: { current: string }) {
  const { session } = useAuth();
  const queryClient = useQueryClient();
  // null while the person has not edited the name: the saved one is shown.
  const [draft, setDraft] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UserError | null>(null);
  const [saved, setSaved] = useState(false);
  const name = draft ?? current;
  const trimmed = name.trim();
  const local =
    trimmed.length === 0
      ? "Enter your organization's name."
      : trimmed.length > 200
        ? "Use at most 200 characters."
        : null;

  return (
    <form
      className="space-y-3"
      noValidate
      onSubmit={async (event) => {
        event.preventDefault();
        setSaved(false);
        if (local) {
          setError({ status: 400, code: "validation_failed", message: local, field: "organization_name", extra: {} });
          return;
        }
        setBusy(true);
        setError(null);
        try {
          unwrap(
            await supabase()
              .from("profiles")
              .update({ organization_name: trimmed })
              .eq("id", session!.user.id)
              .select("id")
              .single(),
          );
          // The sign-up metadata names the organization too; keep it in step.
          const { error: metaError } = await supabase().auth.updateUser({
            data: { organization_name: trimmed },
          });
          if (metaError) throw metaError;
          await queryClient.invalidateQueries({ queryKey: ["profile"] });
          setDraft(null);
          setSaved(true);
        } catch (err) {
          setError(describe(err));
        } finally {
          setBusy(false);
        }
      }}
    >
      <TextField
        label="Organization name"
        autoComplete="organization"
        value={name}
        maxLength={200}
        onChange={(e) => {
          setDraft(e.target.value);
          setSaved(false);
        }}
        error={error ? error.message + (error.hint ? ` ${error.hint}` : "") : undefined}
        hint="Shown on your account and in emails from VoxFlow."
      />
      {saved && <Notice tone="success">Organization name saved.</Notice>}
      <Button type="submit" busy={busy} disabled={trimmed === current}>
        Save name
      </Button>
    </form>
  );
}

const PASSWORD_FIELDS = ["password", "confirm"] as const;

function PasswordForm() {
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UserError | null>(null);
  const [done, setDone] = useState(false);
  const field = error ? fieldOf(error, PASSWORD_FIELDS) : null;
  return (
    <form
      className="space-y-3"
      noValidate
      onSubmit={async (event) => {
        event.preventDefault();
        setDone(false);
        if (password !== confirm) {
          setError({
            status: 400,
            code: "validation_failed",
            message: "The two passwords do not match. Type the same new password twice.",
            field: "confirm",
            extra: {},
          });
          return;
        }
        setBusy(true);
        setError(null);
        const { error: err } = await supabase().auth.updateUser({ password });
        setBusy(false);
        if (err) {
          setError(describe(err));
          return;
        }
        setPassword("");
        setConfirm("");
        setDone(true);
      }}
    >
      <TextField
        label="New password"
        type="password"
        autoComplete="new-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        hint="At least 8 characters mixing two of lowercase, uppercase, digits and symbols; not your email address, and different from your current password."
        error={field === "password" ? error?.message : undefined}
        required
      />
      <TextField
        label="Confirm new password"
        type="password"
        autoComplete="new-password"
        value={confirm}
        onChange={(e) => setConfirm(e.target.value)}
        error={field === "confirm" ? error?.message : undefined}
        required
      />
      {error && !field && <ErrorNotice error={error} />}
      {done && (
        <Notice tone="success">Your password was changed. Use it the next time you sign in.</Notice>
      )}
      <Button type="submit" busy={busy} disabled={!password || !confirm}>
        Change password
      </Button>
    </form>
  );
}

function Sessions() {
  const navigate = useNavigate();
  const toast = useToast();
  const [busy, setBusy] = useState<"local" | "global" | null>(null);
  const [error, setError] = useState<UserError | null>(null);
  const [confirmGlobal, setConfirmGlobal] = useState(false);
  const signOut = async (scope: "local" | "global") => {
    setBusy(scope);
    setError(null);
    const { error: err } = await supabase().auth.signOut({ scope });
    setBusy(null);
    if (err) throw err;
    toast({
      tone: "success",
      title: scope === "global" ? "Signed out everywhere" : "Signed out",
      description:
        scope === "global" ? "Every device signed in to your account was signed out." : undefined,
    });
    navigate("/sign-in", { replace: true });
  };
  return (
    <div className="space-y-3">
      <p className="text-sm text-slate-700 dark:text-slate-200">
        Sign out here only, or end every session of your account — on other browsers, phones and
        any API client using your sign-in — for example after using a shared computer.
      </p>
      <ErrorNotice error={error} title="Could not sign out" />
      <div className="flex flex-wrap gap-2">
        <Button
          variant="secondary"
          busy={busy === "local"}
          onClick={() => signOut("local").catch((err) => setError(describe(err)))}
        >
          Sign out of this device
        </Button>
        <Button variant="secondary" busy={busy === "global"} onClick={() => setConfirmGlobal(true)}>
          Sign out everywhere
        </Button>
      </div>
      <ConfirmDialog
        open={confirmGlobal}
        onOpenChange={setConfirmGlobal}
        title="Sign out everywhere?"
        description="Every session of your account ends now, this one included. You will need your password to sign in again on each device."
        confirmLabel="Sign out everywhere"
        onConfirm={() => signOut("global")}
      />
    </div>
  );
}

function DeleteAccount() {
  const navigate = useNavigate();
  const toast = useToast();
  const [open, setOpen] = useState(false);
  const [password, setPassword] = useState("");
  return (
    <div className="space-y-3">
      <p className="text-sm text-slate-700 dark:text-slate-200">
        Deleting your account erases, at once and for good: your agents, calls and their
        transcripts and recordings, conversations, provider keys, usage and billing history,
        notifications and subscription. This cannot be undone.
      </p>
      <Button variant="danger" onClick={() => setOpen(true)}>
        Delete account…
      </Button>
      <ConfirmDialog
        open={open}
        onOpenChange={(next) => {
          setOpen(next);
          if (!next) setPassword("");
        }}
        title="Delete your account?"
        danger
        typeToConfirm="DELETE"
        confirmLabel="Delete my account"
        description={
          <>
            <p>This erases everything in your account, immediately and permanently:</p>
            <ul className="mt-2 list-disc pl-5">
              <li>your agents</li>
              <li>calls, transcripts and call recordings</li>
              <li>conversations</li>
              <li>provider keys (Groq, Deepgram, Twilio)</li>
              <li>usage, billing history and notifications</li>
            </ul>
            <p className="mt-2">Enter your password and type DELETE to confirm.</p>
          </>
        }
        onConfirm={async () => {
          if (!password) {
            throw new Error("Enter your password to confirm it is you.");
          }
          await callRaw("account", { method: "DELETE", json: { password } });
          // The account and its sessions are gone; drop the stored session here.
          await supabase().auth.signOut({ scope: "local" });
          toast({
            tone: "success",
            title: "Your account was deleted",
            description: "Everything in it has been erased. Thank you for trying VoxFlow.",
          });
          navigate("/sign-in", { replace: true });
        }}
      >
        <TextField
          label="Your password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
        />
      </ConfirmDialog>
    </div>
  );
}

export default function Account() {
  const { session } = useAuth();
  const profile = useProfile();
  return (
    <>
      <PageHeader
        title="Account"
        description={
          <>
            Signed in as <strong>{session?.user.email}</strong>
            {profile.data && <> · member since {formatDate(profile.data.created_at)}</>}
          </>
        }
      />
      <div className="max-w-2xl space-y-4">
        <Card title="Organization">
          <QueryView
            query={profile}
            loading="Loading your organization…"
            failed="Could not load your account"
          >
            {(p) => <OrganizationForm current={p.organization_name ?? ""} />}
          </QueryView>
        </Card>
        <Card title="Password">
          <PasswordForm />
        </Card>
        <Card title="Sessions">
          <Sessions />
        </Card>
        <Card title="Delete account" className="border-red-300 dark:border-red-800">
          <DeleteAccount />
        </Card>
      </div>
    </>
  );
}
