// Provider keys: one card per provider. A saved secret is never shown again (only its last
// characters, as the server's hint); Save checks the key with the provider first.
import { useState, type FormEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { ConfirmDialog } from "../components/Dialog";
import { useToast } from "../components/Toast";
import {
  Badge,
  Button,
  Card,
  ErrorNotice,
  Notice,
  PageHeader,
  QueryView,
  TextField,
} from "../components/ui";
import { callJson, callRaw } from "../lib/api";
import { describe, fieldOf, type UserError } from "../lib/errors";
import { formatDateTime, formatRelative, normalizeE164 } from "../lib/format";
import { keys, useApiKeys, type ApiKeyRow } from "../lib/queries";

type Provider = ApiKeyRow["provider"];

interface FieldSpec {
  name: string;
  label: string;
  type: "password" | "text" | "tel";
  placeholder: string;
  hint?: string;
}

interface ProviderSpec {
  id: Provider;
  name: string;
  what: string;
  console: { url: string; text: string };
  fields: FieldSpec[];
}

const PROVIDERS: ProviderSpec[] = [
  {
    id: "groq",
    name: "Groq",
    what: "Your agents' replies (the language model).",
    console: { url: "https://console.groq.com/keys", text: "console.groq.com/keys" },
    fields: [
      { name: "api_key", label: "Groq API key", type: "password", placeholder: "gsk_…" },
    ],
  },
  {
    id: "deepgram",
    name: "Deepgram",
    what: "Speech: hearing callers (speech to text) and your agents' voices (text to speech).",
    console: { url: "https://console.deepgram.com", text: "console.deepgram.com" },
    fields: [
      {
        name: "api_key",
        label: "Deepgram API key",
        type: "password",
        placeholder: "Your Deepgram API key",
      },
    ],
  },
  {
    id: "twilio",
    name: "Twilio",
    what: "Phone calls: your account places and receives them from your Twilio number.",
    console: { url: "https://console.twilio.com", text: "console.twilio.com" },
    fields: [
      {
        name: "account_sid",
        label: "Twilio account SID",
        type: "text",
        placeholder: "AC…",
        hint: "AC followed by 32 letters and digits, on your console's home page.",
      },
      {
        name: "auth_token",
        label: "Twilio auth token",
        type: "password",
        placeholder: "32 letters and digits",
      },
      {
        name: "phone_number",
        label: "Twilio phone number",
        type: "tel",
        placeholder: "+14155550123",
        hint: "The number your calls come from, in international form (+ and country code).",
      },
    ],
  },
];

export default function Keys() {
  const apiKeys = useApiKeys();
  return (
    <div>
      <PageHeader
        title="Provider keys"
        description="Your agents run on your own Groq, Deepgram and Twilio accounts. Keys are stored encrypted; after saving, only their last characters are shown."
      />
      <QueryView
        query={apiKeys}
        loading="Loading your provider keys…"
        failed="Your keys could not be loaded"
      >
        {(rows) => (
          <div className="space-y-4">
            {PROVIDERS.map((spec) => (
              <ProviderCard
                key={spec.id}
                spec={spec}
                row={rows.find((r) => r.provider === spec.id)}
              />
            ))}
          </div>
        )}
      </QueryView>
    </div>
  );
}

function emptyValues(spec: ProviderSpec): Record<string, string> {
  return Object.fromEntries(spec.fields.map((f) => [f.name, ""]));
}

function ProviderCard({ spec, row }: { spec: ProviderSpec; row: ApiKeyRow | undefined }) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const [values, setValues] = useState<Record<string, string>>(() => emptyValues(spec));
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<UserError | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const configured = !!row?.configured;
  const fieldNames = spec.fields.map((f) => f.name);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setSaved(null);
    const local: Record<string, string> = {};
    const body: Record<string, string> = {};
    for (const field of spec.fields) {
      const raw = (values[field.name] ?? "").trim();
      if (!raw) {
        local[field.name] = `Enter your ${field.label}.`;
      } else if (field.name === "phone_number") {
        const number = normalizeE164(raw);
        if (number) body[field.name] = number;
        else local[field.name] = "Use international form: + and the country code, like +14155550123.";
      } else {
        body[field.name] = raw;
      }
    }
    setFieldErrors(local);
    if (Object.keys(local).length) return;
    setBusy(true);
    try {
      const result = await callJson<{ hint: string | null }>(`api-keys/${spec.id}`, {
        method: "PUT",
        json: body,
        query: { verify: true },
      });
      // The secret leaves the page as soon as it is saved.
      setValues(emptyValues(spec));
      setSaved(
        `${spec.name} accepted the key. It is saved${result.hint ? `, ending in ${result.hint}` : ""}.`,
      );
      await queryClient.invalidateQueries({ queryKey: keys.apiKeys });
    } catch (err) {
      const e = describe(err);
      const field = fieldOf(e, fieldNames);
      if (field) setFieldErrors({ [field]: e.message });
      // This page is where keys are fixed: no link back to it.
      else setError({ ...e, fixPath: e.fixPath === "/keys" ? undefined : e.fixPath });
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card
      title={spec.name}
      actions={
        configured ? (
          <Badge tone="success">Configured</Badge>
        ) : (
          <Badge tone="neutral">Not set</Badge>
        )
      }
    >
      <div className="space-y-4">
        <div className="space-y-1 text-sm">
          <p className="text-slate-700 dark:text-slate-300">{spec.what}</p>
          {configured ? (
            <p>
              Saved key ending in{" "}
              <span className="font-mono font-semibold">{row?.hint ?? "…"}</span>, updated{" "}
              {formatDateTime(row?.updated_at)}; last used {formatRelative(row?.last_used_at)}.
            </p>
          ) : (
            <p>No {spec.name} key is saved yet.</p>
          )}
          <p>
            <a href={spec.console.url} target="_blank" rel="noreferrer">
              Where to find your {spec.name} key
            </a>{" "}
            <span className="text-slate-600 dark:text-slate-300">({spec.console.text})</span>
          </p>
        </div>
        <form className="space-y-3" onSubmit={submit} noValidate aria-label={`${spec.name} key`}>
          {spec.fields.map((field) => (
            <TextField
              key={field.name}
              label={field.label}
              type={field.type}
              placeholder={field.placeholder}
              hint={field.hint}
              autoComplete={field.type === "tel" ? "tel" : "off"}
              spellCheck={false}
              value={values[field.name] ?? ""}
              error={fieldErrors[field.name]}
              onChange={(e) => setValues({ ...values, [field.name]: e.target.value })}
            />
          ))}
          <ErrorNotice error={error} title={`${spec.name} key not saved`} />
          {saved && <Notice tone="success">{saved}</Notice>}
          <div className="flex flex-wrap gap-2">
            <Button type="submit" busy={busy}>
              {busy ? `Checking with ${spec.name}…` : `Save ${spec.name} key`}
            </Button>
            {configured && (
              <Button type="button" variant="secondary" onClick={() => setConfirmDelete(true)}>
                Delete {spec.name} key
              </Button>
            )}
          </div>
          <p className="text-xs text-slate-600 dark:text-slate-300">
            Saving checks the key with {spec.name} first; nothing is stored if it is refused.
          </p>
        </form>
      </div>
      <ConfirmDialog
        open={confirmDelete}
        onOpenChange={setConfirmDelete}
        title={`Delete your ${spec.name} key?`}
        description={`Your agents cannot use ${spec.name} until you save a new key. This cannot be undone.`}
        confirmLabel="Delete key"
        danger
        onConfirm={async () => {
          await callRaw(`api-keys/${spec.id}`, { method: "DELETE" });
          setSaved(null);
          toast({ tone: "success", title: `${spec.name} key deleted` });
          await queryClient.invalidateQueries({ queryKey: keys.apiKeys });
        }}
      />
    </Card>
  );
}
