// Create (/agents/new) or edit (/agents/:agentId) an agent: every field, the models and voices
// from the catalog, the server's validation message on the field it concerns.
import { useEffect, useRef, useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { useQueryClient } from "@tanstack/react-query";
import { supabase } from "../lib/supabase";
import { unwrap } from "../lib/api";
import { useAuth } from "../lib/auth";
import { describe, fieldOf, type UserError } from "../lib/errors";
import { keys, useAgent, useModelCatalog, type Agent, type CatalogEntry } from "../lib/queries";
import { useToast } from "../components/Toast";
import {
  Button,
  ButtonLink,
  Card,
  Checkbox,
  EmptyState,
  ErrorNotice,
  Loading,
  Notice,
  PageHeader,
  SelectField,
  TextAreaField,
  TextField,
} from "../components/ui";

const FIELDS = [
  "name",
  "description",
  "system_prompt",
  "first_message",
  "llm_model",
  "temperature",
  "max_tokens",
  "stt_model",
  "tts_voice",
  "language",
  "phone_number",
  "config",
  "is_active",
] as const;
type Field = (typeof FIELDS)[number];

interface Form {
  name: string;
  description: string;
  system_prompt: string;
  first_message: string;
  llm_model: string;
  temperature: string;
  max_tokens: string;
  stt_model: string;
  tts_voice: string;
  language: string;
  phone_number: string;
  config: string;
  is_active: boolean;
}

// The database's defaults for a new agent.
const NEW_AGENT: Form = {
  name: "",
  description: "",
  system_prompt: "",
  first_message: "",
  llm_model: "llama-3.3-70b-versatile",
  temperature: "0.7",
  max_tokens: "256",
  stt_model: "nova-3",
  tts_voice: "aura-2-thalia-en",
  language: "en",
  phone_number: "",
  config: "{}",
  is_active: true,
};

const LANGUAGES: Record<string, string> = {
  en: "English",
  "en-US": "English (US)",
  "en-GB": "English (UK)",
  fr: "French",
  de: "German",
  es: "Spanish",
  it: "Italian",
  pt: "Portuguese",
  nl: "Dutch",
  ja: "Japanese",
  multi: "Multilingual",
};

function formOf(agent: Agent): Form {
  return {
    name: agent.name,
    description: agent.description ?? "",
    system_prompt: agent.system_prompt ?? "",
    first_message: agent.first_message ?? "",
    llm_model: agent.llm_model,
    temperature: String(agent.temperature),
    max_tokens: String(agent.max_tokens),
    stt_model: agent.stt_model,
    tts_voice: agent.tts_voice,
    language: agent.language,
    phone_number: agent.phone_number ?? "",
    config: JSON.stringify(agent.config ?? {}, null, 2),
    is_active: agent.is_active,
  };
}

function localError(field: Field, message: string): UserError {
  return { status: 400, code: "invalid_agent", message, field, extra: {} };
}

/** The row to write, or the first field the browser can already tell is wrong. */
function toRow(form: Form): { row: Record<string, unknown> } | { error: UserError } {
  const temperature = Number(form.temperature);
  if (form.temperature.trim() === "" || !Number.isFinite(temperature))
    return { error: localError("temperature", "Temperature must be a number from 0 to 2") };
  const maxTokens = Number(form.max_tokens);
  if (form.max_tokens.trim() === "" || !Number.isInteger(maxTokens))
    return { error: localError("max_tokens", "Max tokens must be a whole number from 1 to 8192") };
  let config: unknown;
  try {
    config = JSON.parse(form.config.trim() || "{}");
  } catch {
    return { error: localError("config", "Config must be valid JSON, like {}") };
  }
  if (!config || typeof config !== "object" || Array.isArray(config))
    return { error: localError("config", "Config must be a JSON object, like {}") };
  const phone = form.phone_number.replace(/[\s().-]/g, "");
  return {
    row: {
      name: form.name.trim(),
      description: form.description.trim() || null,
      system_prompt: form.system_prompt,
      first_message: form.first_message.trim() || null,
      llm_model: form.llm_model,
      temperature,
      max_tokens: maxTokens,
      stt_model: form.stt_model,
      tts_voice: form.tts_voice,
      language: form.language,
      phone_number: phone || null,
      config,
      is_active: form.is_active,
    },
  };
}

function options(catalog: CatalogEntry[], kind: CatalogEntry["kind"], current: string) {
  const list = catalog
    .filter((m) => m.kind === kind)
    .map((m) => ({ value: m.id, label: m.label }));
  // A model the catalog no longer lists stays visible, so saving does not change it silently.
  if (current && !list.some((o) => o.value === current))
    list.unshift({ value: current, label: `${current} (no longer offered)` });
  return list;
}

function AgentForm({ agent, catalog }: { agent: Agent | null; catalog: CatalogEntry[] }) {
  const { session } = useAuth();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const toast = useToast();
  const [form, setForm] = useState<Form>(() => (agent ? formOf(agent) : NEW_AGENT));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UserError | null>(null);
  const formRef = useRef<HTMLFormElement | null>(null);

  const field = error ? fieldOf(error, FIELDS) : null;
  // The field the error concerns gets the focus, so its message is next to the cursor.
  useEffect(() => {
    if (field) formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [error, field]);
  const errorFor = (f: Field) => (error && field === f ? error.message : undefined);
  const set =
    <K extends keyof Form>(key: K) =>
    (value: Form[K]) =>
      setForm((f) => ({ ...f, [key]: value }));

  const languages = Object.entries(LANGUAGES).map(([value, label]) => ({
    value,
    label: `${label} (${value})`,
  }));
  if (!LANGUAGES[form.language]) languages.unshift({ value: form.language, label: form.language });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const built = toRow(form);
    if ("error" in built) {
      setError(built.error);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      if (agent) {
        unwrap(
          await supabase().from("agents").update(built.row).eq("id", agent.id).select().single(),
        );
      } else {
        unwrap(
          await supabase()
            .from("agents")
            .insert({ ...built.row, user_id: session!.user.id })
            .select()
            .single(),
        );
      }
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: keys.agents }),
        queryClient.invalidateQueries({ queryKey: ["profile"] }),
        queryClient.invalidateQueries({ queryKey: keys.plans }),
      ]);
      toast({ title: agent ? "Agent saved" : "Agent created", tone: "success" });
      navigate("/agents");
    } catch (err) {
      setError(describe(err));
      setBusy(false);
    }
  };

  const voice = catalog.find((m) => m.kind === "tts" && m.id === form.tts_voice);
  const voiceMismatch =
    voice?.language && !form.language.toLowerCase().startsWith(voice.language.toLowerCase());

  return (
    <form
      ref={formRef}
      className="space-y-6"
      noValidate
      onSubmit={submit}
      aria-label="Agent settings"
    >
      <Card title="Basics">
        <div className="space-y-4">
          <TextField
            label="Name"
            required
            maxLength={100}
            autoComplete="off"
            value={form.name}
            onChange={(e) => set("name")(e.target.value)}
            error={errorFor("name")}
          />
          <TextAreaField
            label="Description"
            rows={2}
            hint="For you: what this agent is for."
            value={form.description}
            onChange={(e) => set("description")(e.target.value)}
            error={errorFor("description")}
          />
          <Checkbox
            label="Active (can chat and take calls)"
            checked={form.is_active}
            onChange={(e) => set("is_active")(e.target.checked)}
          />
        </div>
      </Card>
      <Card title="Conversation">
        <div className="space-y-4">
          <TextAreaField
            label="System prompt"
            rows={5}
            hint="How the agent behaves: its role, tone and what it must never do."
            value={form.system_prompt}
            onChange={(e) => set("system_prompt")(e.target.value)}
            error={errorFor("system_prompt")}
          />
          <TextAreaField
            label="First message"
            rows={2}
            hint="What the agent says when a call is answered."
            value={form.first_message}
            onChange={(e) => set("first_message")(e.target.value)}
            error={errorFor("first_message")}
          />
        </div>
      </Card>
      <Card title="Model">
        <div className="grid gap-4 sm:grid-cols-2">
          <div className="sm:col-span-2">
            <SelectField
              label="LLM model"
              options={options(catalog, "llm", form.llm_model)}
              value={form.llm_model}
              onChange={(e) => set("llm_model")(e.target.value)}
              error={errorFor("llm_model")}
            />
          </div>
          <TextField
            label="Temperature"
            type="number"
            inputMode="decimal"
            min={0}
            max={2}
            step={0.1}
            hint="0 to 2: lower is more predictable."
            value={form.temperature}
            onChange={(e) => set("temperature")(e.target.value)}
            error={errorFor("temperature")}
          />
          <TextField
            label="Max tokens"
            type="number"
            inputMode="numeric"
            min={1}
            max={8192}
            step={1}
            hint="1 to 8192: the longest reply, in tokens."
            value={form.max_tokens}
            onChange={(e) => set("max_tokens")(e.target.value)}
            error={errorFor("max_tokens")}
          />
        </div>
      </Card>
      <Card title="Voice">
        <div className="grid gap-4 sm:grid-cols-2">
          <SelectField
            label="Speech-to-text model"
            options={options(catalog, "stt", form.stt_model)}
            value={form.stt_model}
            onChange={(e) => set("stt_model")(e.target.value)}
            error={errorFor("stt_model")}
          />
          <SelectField
            label="TTS voice"
            options={options(catalog, "tts", form.tts_voice)}
            value={form.tts_voice}
            onChange={(e) => set("tts_voice")(e.target.value)}
            error={errorFor("tts_voice")}
          />
          <SelectField
            label="Language"
            options={languages}
            hint="What callers speak; the speech-to-text model listens for it."
            value={form.language}
            onChange={(e) => set("language")(e.target.value)}
            error={errorFor("language")}
          />
          <TextField
            label="Phone number"
            type="tel"
            autoComplete="off"
            placeholder="+14155550123"
            hint="Optional. A Twilio number of yours in E.164 form; empty uses the number on your Twilio key."
            value={form.phone_number}
            onChange={(e) => set("phone_number")(e.target.value)}
            error={errorFor("phone_number")}
          />
        </div>
        {voiceMismatch && (
          <div className="mt-4">
            <Notice tone="warning">
              The voice {voice.label} speaks {voice.language}, but the language is{" "}
              {form.language}.
            </Notice>
          </div>
        )}
      </Card>
      <Card title="Advanced">
        <div className="[&_textarea]:font-mono">
        <TextAreaField
          label="Config (JSON)"
          rows={4}
          spellCheck={false}
          hint="Extra settings as a JSON object; {} for none."
          value={form.config}
          onChange={(e) => set("config")(e.target.value)}
          error={errorFor("config")}
        />
        </div>
      </Card>
      {error && !field && <ErrorNotice error={error} title="The agent was not saved" />}
      {error && field && (
        <Notice tone="error" live={false}>
          The agent was not saved: fix the field marked above.
        </Notice>
      )}
      <div className="flex flex-wrap gap-2">
        <Button type="submit" busy={busy}>
          {agent ? "Save changes" : "Create agent"}
        </Button>
        <ButtonLink to="/agents" variant="ghost">
          Cancel
        </ButtonLink>
      </div>
    </form>
  );
}

export default function AgentEdit() {
  const { agentId } = useParams();
  const id = agentId && /^\d+$/.test(agentId) ? Number(agentId) : null;
  const creating = agentId === undefined;
  const agent = useAgent(id);
  const catalog = useModelCatalog();
  const title = creating ? "New agent" : agent.data ? `Edit ${agent.data.name}` : "Edit agent";

  let body;
  if (!creating && id === null)
    body = (
      <EmptyState title="That agent was not found">
        <Link to="/agents">Back to your agents</Link>
      </EmptyState>
    );
  else if (catalog.isPending || (!creating && agent.isPending))
    body = <Loading label={creating ? "Loading models…" : "Loading the agent…"} />;
  else if (catalog.isError || (!creating && agent.isError))
    body = (
      <div className="space-y-3">
        <ErrorNotice
          error={describe(catalog.error ?? agent.error)}
          title="The agent could not be loaded"
        />
        <Button
          variant="secondary"
          onClick={() => {
            catalog.refetch();
            if (!creating) agent.refetch();
          }}
        >
          Try again
        </Button>
      </div>
    );
  else if (!creating && !agent.data)
    body = (
      <EmptyState title="That agent was not found">
        It may have been deleted. <Link to="/agents">Back to your agents</Link>
      </EmptyState>
    );
  else
    body = (
      <>
        {agent.data?.status === "suspended_over_limit" && (
          <div className="mb-4">
            <Notice tone="warning" title="This agent is paused by your plan's limit">
              You can edit it, but it cannot chat or take calls until you{" "}
              <Link to="/agents">choose it as one of your active agents</Link> or{" "}
              <Link to="/plans">upgrade</Link>.
            </Notice>
          </div>
        )}
        <AgentForm
          key={agent.data?.id ?? "new"}
          agent={creating ? null : (agent.data ?? null)}
          catalog={catalog.data ?? []}
        />
      </>
    );

  return (
    <div className="mx-auto max-w-3xl">
      <p className="mb-2 text-sm">
        <Link to="/agents">← All agents</Link>
      </p>
      <PageHeader
        title={title}
        description={
          creating
            ? "Give it a prompt, a model and a voice; you can change everything later."
            : agent.data && (
                <Link to={`/agents/${agent.data.id}/test`}>Test this agent</Link>
              )
        }
      />
      {body}
    </div>
  );
}
