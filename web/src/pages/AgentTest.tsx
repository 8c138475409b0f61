// The test console: chat with an agent by text or push-to-talk (record → agent-transcribe →
// agent-chat → agent-speak → <audio>), with the conversation's history, each turn's latency
// and tokens, and a clear message for every way it can fail.
import { useCallback, useEffect, useRef, useState, type FormEvent, type ReactNode } from "react";
import { Link, useParams, useSearchParams } from "react-router-dom";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { supabase } from "../lib/supabase";
import { callJson, callRaw, unwrap } from "../lib/api";
import { describe, type UserError } from "../lib/errors";
import { formatDateTime, formatNumber } from "../lib/format";
import { keys, useAgent, useModelLabel, type Agent } from "../lib/queries";
import {
  Button,
  Card,
  Checkbox,
  EmptyState,
  ErrorNotice,
  Loading,
  Notice,
  PageHeader,
  QueryView,
  Spinner,
  TextAreaField,
} from "../components/ui";

interface ChatReply {
  conversation_id: string;
  reply: string;
  usage: { input_tokens: number; output_tokens: number };
}

interface Transcript {
  transcript: string;
  duration_seconds: number;
}

interface StoredMessage {
  id: number;
  role: "system" | "user" | "assistant";
  content: string;
  created_at: string;
}

interface Turn {
  key: string;
  role: "user" | "assistant";
  content: string;
  at?: string;
  /** On the agent's reply: the round trip the browser measured, and the tokens it used. */
  latencyMs?: number;
  tokens?: { input: number; output: number };
  /** On a spoken message: how long transcription took. */
  heardMs?: number;
}

const MIME_TYPES = ["audio/webm;codecs=opus", "audio/webm", "audio/mp4", "audio/ogg"];
const MAX_SPEAK_CHARS = 2000;
/** Held longer than this, releasing the button stops the recording (push-to-talk); a shorter
 * press toggles it (click to start, click again to stop). */
const HOLD_MS = 400;

/** The first recording format this browser supports, or "" to let it choose. */
function pickMimeType(): string {
  return MIME_TYPES.find((t) => MediaRecorder.isTypeSupported(t)) ?? "";
}

function recordingSupported(): boolean {
  return (
    typeof window !== "undefined" &&
    typeof window.MediaRecorder !== "undefined" &&
    !!navigator.mediaDevices?.getUserMedia
  );
}

function local(code: string, message: string, hint?: string): UserError {
  return { status: 0, code, message, hint, extra: {} };
}

/** Why the microphone could not be opened, as a person should read it. */
function microphoneError(err: unknown): UserError {
  const name = err instanceof DOMException || err instanceof Error ? err.name : "";
  if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError")
    return local(
      "microphone_denied",
      "Microphone access was denied.",
      "Allow the microphone for this site (the icon in the address bar, or your browser's site settings), then press Start recording again. You can still type messages.",
    );
  if (name === "NotFoundError" || name === "OverconstrainedError")
    return local(
      "microphone_missing",
      "No microphone was found.",
      "Connect a microphone, or type your message instead.",
    );
  if (name === "NotReadableError" || name === "AbortError")
    return local(
      "microphone_busy",
      "The microphone could not be started; another app may be using it.",
      "Close other apps that use the microphone and try again.",
    );
  return local(
    "microphone_failed",
    "Recording could not start in this browser.",
    "Reload the page and try again, or type your message instead.",
  );
}

/**
 * The runtime's errors as this page shows them. The hints of a paused agent and of an unreadable
 * key name API routes (rpc/set_active_agents, PUT /functions/v1/api-keys/…): the page links to
 * the fix instead. A provider's failure says nothing is lost.
 */
function forPerson(error: UserError): UserError {
  if (error.code.startsWith("provider_") && !error.hint && !error.fixPath)
    return { ...error, hint: "Nothing was lost: try again in a moment." };
  return error;
}

function useConversationMessages(conversationId: string | null) {
  return useQuery({
    queryKey: ["conversation_messages", conversationId],
    enabled: !!conversationId,
    // Read once per visit: the turns of this visit are appended to it locally, with their
    // measurements (a refetch would show them twice).
    staleTime: Infinity,
    refetchOnMount: "always",
    refetchOnWindowFocus: false,
    refetchOnReconnect: false,
    queryFn: async () =>
      unwrap<StoredMessage[]>(
        await supabase()
          .from("conversation_messages")
          .select("id, role, content, created_at")
          .eq("conversation_id", conversationId!)
          .neq("role", "system")
          .order("id", { ascending: true })
          .limit(200),
      ),
  });
}

function useRecentConversations(agentId: number | null) {
  return useQuery({
    queryKey: ["conversations", agentId],
    enabled: agentId !== null,
    queryFn: async () =>
      unwrap<{ id: string; created_at: string }[]>(
        await supabase()
          .from("conversations")
          .select("id, created_at")
          .eq("agent_id", agentId!)
          .is("call_id", null)
          .order("created_at", { ascending: false })
          .limit(10),
      ),
  });
}

function TurnMeta({ turn }: { turn: Turn }) {
  const parts: string[] = [];
  if (turn.heardMs !== undefined) parts.push(`heard in ${formatNumber(turn.heardMs)} ms`);
  if (turn.latencyMs !== undefined) parts.push(`reply in ${formatNumber(turn.latencyMs)} ms`);
  if (turn.tokens)
    parts.push(
      `${formatNumber(turn.tokens.input)} tokens in, ${formatNumber(turn.tokens.output)} out`,
    );
  if (!parts.length && turn.at) parts.push(formatDateTime(turn.at));
  if (!parts.length) return null;
  return <p className="mt-1 text-xs text-slate-600 dark:text-slate-300">{parts.join(" · ")}</p>;
}

function Bubble({ turn }: { turn: Turn }) {
  const mine = turn.role === "user";
  return (
    <li className={`flex ${mine ? "justify-end" : "justify-start"}`}>
      <div
        className={`max-w-[85%] rounded-lg px-3 py-2 text-sm ${
          mine
            ? "bg-indigo-100 text-indigo-950 dark:bg-indigo-950 dark:text-indigo-50"
            : "bg-slate-100 text-slate-900 dark:bg-slate-800 dark:text-slate-100"
        }`}
      >
        <p className="text-xs font-semibold">{mine ? "You" : "Agent"}</p>
        <p className="break-words whitespace-pre-wrap">{turn.content}</p>
        <TurnMeta turn={turn} />
      </div>
    </li>
  );
}

type RecState = "idle" | "starting" | "recording" | "working";

function Console({ agent }: { agent: Agent }) {
  const queryClient = useQueryClient();
  const label = useModelLabel();
  const [params, setParams] = useSearchParams();
  const conversationId = params.get("conversation");
  const history = useConversationMessages(conversationId);
  const recent = useRecentConversations(agent.id);
  // Turns of this visit, with their measurements; earlier ones come from the database.
  const [turns, setTurns] = useState<Turn[]>([]);
  const [draft, setDraft] = useState("");
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<UserError | null>(null);
  const [voiceError, setVoiceError] = useState<UserError | null>(null);
  const [heard, setHeard] = useState<string | null>(null);
  const [voiceStep, setVoiceStep] = useState<string | null>(null);
  const [rec, setRec] = useState<RecState>("idle");
  const [audioUrl, setAudioUrl] = useState<string | null>(null);
  const [speakTyped, setSpeakTyped] = useState(false);
  const [speechMs, setSpeechMs] = useState<number | null>(null);
  const supported = recordingSupported();

  const recorder = useRef<MediaRecorder | null>(null);
  const stream = useRef<MediaStream | null>(null);
  const chunks = useRef<Blob[]>([]);
  const pressedAt = useRef(0);
  const pressStarted = useRef(false);
  const stopWhenStarted = useRef(false);
  const lastRelease = useRef(0);
  const audioRef = useRef<HTMLAudioElement | null>(null);
  const endRef = useRef<HTMLLIElement | null>(null);
  const conversationRef = useRef(conversationId);
  useEffect(() => {
    conversationRef.current = conversationId;
  }, [conversationId]);

  // The reply's audio URL is ours to free, and the microphone ours to release.
  useEffect(() => {
    return () => {
      if (audioUrl) URL.revokeObjectURL(audioUrl);
    };
  }, [audioUrl]);
  useEffect(() => {
    return () => {
      // Leaving mid-recording: nothing is sent, the microphone is released.
      const current = recorder.current;
      if (current) {
        current.onstop = null;
        if (current.state !== "inactive") current.stop();
      }
      stream.current?.getTracks().forEach((t) => t.stop());
    };
  }, []);

  const stored: Turn[] = (history.data ?? []).map((m) => ({
    key: `db-${m.id}`,
    role: m.role as "user" | "assistant", // the query leaves system messages out
    content: m.content,
    at: m.created_at,
  }));
  const shown = [...stored, ...turns];

  useEffect(() => {
    endRef.current?.scrollIntoView?.({ block: "nearest" });
  }, [shown.length]);

  /** Another conversation, or a new one (null): this visit's turns and messages are cleared. */
  const openConversation = (id: string | null) => {
    setTurns([]);
    setError(null);
    setHeard(null);
    setParams(id ? { conversation: id } : {});
  };

  /** One chat turn; returns the reply, or null when it failed (the error is shown). */
  const chat = useCallback(
    async (message: string, heardMs?: number): Promise<string | null> => {
      const started = performance.now();
      try {
        const body: Record<string, unknown> = { agent_id: agent.id, message };
        if (conversationRef.current) body.conversation_id = conversationRef.current;
        const result = await callJson<ChatReply>("agent-chat", { json: body });
        const latencyMs = Math.round(performance.now() - started);
        const stamp = Date.now();
        setTurns((all) => [
          ...all,
          { key: `u-${stamp}`, role: "user", content: message, heardMs },
          {
            key: `a-${stamp}`,
            role: "assistant",
            content: result.reply,
            latencyMs,
            tokens: { input: result.usage.input_tokens, output: result.usage.output_tokens },
          },
        ]);
        if (result.conversation_id !== conversationRef.current) {
          conversationRef.current = result.conversation_id;
          // Its history is this visit's turns: nothing to read back.
          queryClient.setQueryData(["conversation_messages", result.conversation_id], []);
          // A new conversation: its history starts with this visit's turns.
          setParams({ conversation: result.conversation_id }, { replace: true });
          queryClient.invalidateQueries({ queryKey: ["conversations", agent.id] });
        }
        queryClient.invalidateQueries({ queryKey: keys.usageSummary });
        return result.reply;
      } catch (err) {
        setError(forPerson(describe(err)));
        return null;
      }
    },
    [agent.id, queryClient, setParams],
  );

  const speak = useCallback(
    async (text: string) => {
      setVoiceStep("Getting the reply's audio…");
      const started = performance.now();
      try {
        const response = await callRaw("agent-speak", {
          json: { agent_id: agent.id, text: text.slice(0, MAX_SPEAK_CHARS) },
        });
        const blob = await response.blob();
        setSpeechMs(Math.round(performance.now() - started));
        setAudioUrl(URL.createObjectURL(blob));
      } catch (err) {
        setVoiceError(forPerson(describe(err)));
      } finally {
        setVoiceStep(null);
      }
    },
    [agent.id],
  );

  // A new reply's audio plays as soon as it is there (the browser may refuse: controls remain).
  useEffect(() => {
    if (audioUrl && audioRef.current) audioRef.current.play().catch(() => undefined);
  }, [audioUrl]);

  const send = async (event: FormEvent) => {
    event.preventDefault();
    const message = draft.trim();
    if (!message) {
      setError(local("validation_failed", "Type a message first."));
      return;
    }
    setSending(true);
    setError(null);
    const reply = await chat(message);
    setSending(false);
    // The draft is cleared only once the agent answered: an error never loses it.
    if (reply !== null) {
      setDraft("");
      if (speakTyped) await speak(reply);
    }
  };

  const handleRecording = async (blob: Blob) => {
    if (blob.size === 0) {
      setVoiceError(
        local("empty_recording", "Nothing was recorded.", "Hold the button while you speak."),
      );
      setRec("idle");
      return;
    }
    setRec("working");
    setVoiceStep("Transcribing…");
    const started = performance.now();
    let transcript: Transcript;
    try {
      transcript = await callJson<Transcript>("agent-transcribe", {
        query: { agent_id: agent.id },
        body: blob,
        headers: { "Content-Type": blob.type || "audio/webm" },
      });
    } catch (err) {
      setVoiceError(forPerson(describe(err)));
      setVoiceStep(null);
      setRec("idle");
      return;
    }
    const heardMs = Math.round(performance.now() - started);
    const text = transcript.transcript.trim();
    if (!text) {
      setHeard(null);
      setVoiceError(
        local(
          "nothing_heard",
          "Nothing was heard in that recording.",
          "Speak closer to the microphone and try again, or type your message.",
        ),
      );
      setVoiceStep(null);
      setRec("idle");
      return;
    }
    setHeard(text);
    setVoiceStep("Waiting for the agent…");
    setError(null);
    const reply = await chat(text, heardMs);
    if (reply !== null) await speak(reply);
    setVoiceStep(null);
    setRec("idle");
  };

  const stopRecording = () => {
    const current = recorder.current;
    if (current && current.state !== "inactive") current.stop();
  };

  const startRecording = async () => {
    setVoiceError(null);
    setHeard(null);
    if (!supported) {
      setVoiceError(noRecorder());
      return;
    }
    setRec("starting");
    let media: MediaStream;
    try {
      media = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (err) {
      setVoiceError(microphoneError(err));
      setRec("idle");
      return;
    }
    const mimeType = pickMimeType();
    let created: MediaRecorder;
    try {
      created = new MediaRecorder(media, mimeType ? { mimeType } : undefined);
    } catch (err) {
      media.getTracks().forEach((t) => t.stop());
      setVoiceError(microphoneError(err));
      setRec("idle");
      return;
    }
    stream.current = media;
    recorder.current = created;
    chunks.current = [];
    created.ondataavailable = (e) => {
      if (e.data.size > 0) chunks.current.push(e.data);
    };
    created.onstop = () => {
      media.getTracks().forEach((t) => t.stop());
      stream.current = null;
      recorder.current = null;
      const type = (created.mimeType || mimeType || "audio/webm").split(";")[0];
      void handleRecording(new Blob(chunks.current, { type }));
    };
    created.start(250);
    setRec("recording");
    if (stopWhenStarted.current) {
      stopWhenStarted.current = false;
      stopRecording();
    }
  };

  // Press and release of the talk button, by pointer or by Space/Enter: hold to talk, or a
  // short press to start and another to stop.
  const press = () => {
    pressedAt.current = performance.now();
    if (rec === "recording") {
      pressStarted.current = false;
      stopRecording();
    } else if (rec === "idle") {
      pressStarted.current = true;
      stopWhenStarted.current = false;
      void startRecording();
    }
  };
  const release = () => {
    lastRelease.current = performance.now();
    if (!pressStarted.current) return;
    pressStarted.current = false;
    if (performance.now() - pressedAt.current < HOLD_MS) return; // a click: keep recording
    if (recorder.current) stopRecording();
    else stopWhenStarted.current = true;
  };

  const busyVoice = rec === "starting" || rec === "working";
  const talkLabel = rec === "recording" ? "Stop recording" : "Start recording";

  return (
    <div className="grid gap-6 lg:grid-cols-[minmax(0,1fr)_20rem]">
      <Card
        title="Conversation"
        actions={
          <div className="flex flex-wrap items-center gap-2">
            {(recent.data?.length ?? 0) > 0 && (
              <label className="flex items-center gap-2 text-sm">
                <span>Earlier</span>
                <select
                  className="rounded-md border border-slate-400 bg-white px-2 py-1.5 text-sm text-slate-900 dark:border-slate-500 dark:bg-slate-900 dark:text-slate-100"
                  aria-label="Open an earlier conversation"
                  value={conversationId ?? ""}
                  onChange={(e) => openConversation(e.target.value || null)}
                >
                  <option value="">New conversation</option>
                  {conversationId && !recent.data?.some((c) => c.id === conversationId) && (
                    <option value={conversationId}>This conversation</option>
                  )}
                  {recent.data?.map((c) => (
                    <option key={c.id} value={c.id}>
                      {formatDateTime(c.created_at)}
                    </option>
                  ))}
                </select>
              </label>
            )}
            {(conversationId || turns.length > 0) && (
              <Button variant="secondary" onClick={() => openConversation(null)}>
                New conversation
              </Button>
            )}
          </div>
        }
      >
        <div className="space-y-4">
          {history.isPending && conversationId ? (
            <Loading label="Loading the conversation…" />
          ) : history.isError ? (
            <ErrorNotice
              error={describe(history.error)}
              title="The earlier messages could not be loaded"
            />
          ) : shown.length === 0 ? (
            <EmptyState title="No messages yet">
              Type a message below or press Start recording to talk to {agent.name}.
              {agent.first_message && (
                <span className="mt-2 block">
                  On the phone it opens with: “{agent.first_message}”
                </span>
              )}
            </EmptyState>
          ) : (
            <ol
              className="max-h-[28rem] space-y-3 overflow-y-auto"
              aria-label="Messages"
              aria-live="polite"
              tabIndex={0}
            >
              {shown.map((turn) => (
                <Bubble key={turn.key} turn={turn} />
              ))}
              <li ref={endRef} aria-hidden="true" />
            </ol>
          )}
          <form className="space-y-3" onSubmit={send} noValidate>
            <TextAreaField
              label="Message"
              rows={3}
              value={draft}
              onChange={(e) => setDraft(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
                  e.preventDefault();
                  e.currentTarget.form?.requestSubmit();
                }
              }}
              hint="Enter sends; Shift+Enter adds a line."
              maxLength={4000}
            />
            <ErrorNotice error={error} title="The agent did not answer" />
            <div className="flex flex-wrap items-center gap-3">
              <Button type="submit" busy={sending}>
                {sending ? "Sending…" : "Send"}
              </Button>
              <Checkbox
                label="Also speak replies to typed messages"
                checked={speakTyped}
                onChange={(e) => setSpeakTyped(e.target.checked)}
              />
            </div>
          </form>
        </div>
      </Card>

      <div className="space-y-6">
        <Card title="Push to talk">
          <div className="space-y-3">
            {!supported && <ErrorNotice error={noRecorder()} />}
            <p className="text-sm text-slate-700 dark:text-slate-300">
              Hold the button (or Space) while you speak and let go to send; or press it once to
              start and again to stop.
            </p>
            <button
              type="button"
              disabled={!supported || rec === "working"}
              aria-busy={busyVoice || undefined}
              aria-describedby="talk-status"
              onPointerDown={(e) => {
                if (e.button !== 0) return;
                press();
              }}
              onPointerUp={release}
              onPointerCancel={release}
              onKeyDown={(e) => {
                if (e.key !== " " && e.key !== "Enter") return;
                e.preventDefault();
                if (!e.repeat) press();
              }}
              onKeyUp={(e) => {
                if (e.key !== " " && e.key !== "Enter") return;
                e.preventDefault();
                release();
              }}
              onClick={() => {
                // Pointer and keys were handled above; a click from assistive technology
                // (no press before it) toggles.
                if (performance.now() - lastRelease.current < 1000) return;
                pressStarted.current = false;
                if (rec === "recording") stopRecording();
                else if (rec === "idle") void startRecording();
              }}
              className={`flex min-h-14 w-full touch-none items-center justify-center gap-2 rounded-lg px-4 py-3 text-base font-semibold text-white select-none disabled:cursor-not-allowed disabled:bg-slate-500 ${
                rec === "recording" ? "bg-red-700 hover:bg-red-800" : "bg-indigo-700 hover:bg-indigo-800"
              }`}
            >
              {busyVoice ? <Spinner /> : <span aria-hidden="true">{rec === "recording" ? "■" : "●"}</span>}
              {talkLabel}
            </button>
            <p id="talk-status" role="status" className="text-sm text-slate-700 dark:text-slate-300">
              {rec === "starting"
                ? "Opening the microphone…"
                : rec === "recording"
                  ? "Recording… let go or press again to send."
                  : (voiceStep ?? "")}
            </p>
            {heard !== null && (
              <p className="rounded-md bg-slate-100 p-2 text-sm dark:bg-slate-800">
                <span className="font-semibold">Heard:</span> {heard}
              </p>
            )}
            <ErrorNotice error={voiceError} title="Voice did not work" />
            {audioUrl && (
              <div className="space-y-1">
                <audio
                  ref={audioRef}
                  controls
                  src={audioUrl}
                  aria-label="Agent reply audio"
                  className="w-full"
                />
                {speechMs !== null && (
                  <p className="text-xs text-slate-600 dark:text-slate-300">
                    Audio ready in {formatNumber(speechMs)} ms
                  </p>
                )}
              </div>
            )}
          </div>
        </Card>
        <Card title="This agent">
          <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-sm">
            <dt className="text-slate-600 dark:text-slate-300">Model</dt>
            <dd className="break-words">{label("llm", agent.llm_model)}</dd>
            <dt className="text-slate-600 dark:text-slate-300">Max tokens</dt>
            <dd>{agent.max_tokens}</dd>
            <dt className="text-slate-600 dark:text-slate-300">Listens with</dt>
            <dd>
              {label("stt", agent.stt_model)} ({agent.language})
            </dd>
            <dt className="text-slate-600 dark:text-slate-300">Voice</dt>
            <dd className="break-words">{label("tts", agent.tts_voice)}</dd>
          </dl>
          <p className="mt-3 text-sm">
            <Link to={`/agents/${agent.id}`}>Edit {agent.name}</Link>
          </p>
        </Card>
      </div>
    </div>
  );
}

function noRecorder(): UserError {
  return local(
    "no_media_recorder",
    window.isSecureContext
      ? "This browser cannot record audio (no MediaRecorder)."
      : "Recording needs a secure page (HTTPS or localhost).",
    "Use a current Chrome, Edge, Firefox or Safari, or type your message instead.",
  );
}

function StateNotice({ agent }: { agent: Agent }): ReactNode {
  if (agent.status === "suspended_over_limit")
    return (
      <Notice tone="warning" title="This agent is paused by your plan's limit">
        It cannot chat until you <Link to="/agents">choose it as an active agent</Link> or{" "}
        <Link to="/plans">upgrade your plan</Link>.
      </Notice>
    );
  if (!agent.is_active)
    return (
      <Notice tone="warning" title="This agent is switched off">
        <Link to={`/agents/${agent.id}`}>Turn on Active in its settings</Link> to chat with it.
      </Notice>
    );
  return null;
}

export default function AgentTest() {
  const { agentId } = useParams();
  const id = agentId && /^\d+$/.test(agentId) ? Number(agentId) : null;
  const agent = useAgent(id);

  const notFound = (
    <EmptyState title="That agent was not found">
      It may have been deleted. <Link to="/agents">Back to your agents</Link>
    </EmptyState>
  );
  const body =
    id === null ? (
      notFound
    ) : (
      <QueryView
        query={agent}
        loading="Loading the agent…"
        failed="The agent could not be loaded"
      >
        {(found) =>
          found ? (
            <div className="space-y-4">
              <StateNotice agent={found} />
              <Console agent={found} />
            </div>
          ) : (
            notFound
          )
        }
      </QueryView>
    );

  return (
    <div>
      <p className="mb-2 text-sm">
        <Link to="/agents">← All agents</Link>
      </p>
      <PageHeader
        title={agent.data ? `Test ${agent.data.name}` : "Test agent"}
        description="Chat by text or voice on your own keys; every turn is metered like a real one."
      />
      {body}
    </div>
  );
}
