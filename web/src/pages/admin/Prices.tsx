// The price book: what each provider/model/unit costs now and cost before, and changing a price
// (admin.set_price: the old price ends now, the new one starts now; audited).
import { useState, type FormEvent } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { supabase, adminDb } from "../../lib/supabase";
import { callJson, unwrap } from "../../lib/api";
import { describe, fieldOf, type UserError } from "../../lib/errors";
import { formatUtc } from "../../lib/format";
import {
  Button,
  Card,
  DataTable,
  ErrorNotice,
  Notice,
  PageHeader,
  QueryView,
  SelectField,
  TextField,
} from "../../components/ui";

interface Price {
  id: number;
  provider: string;
  model: string;
  unit: string;
  usd_per_unit: number;
  effective_from: string;
  effective_to: string | null;
  source: string;
  taken_on: string;
}

const PROVIDERS = ["groq", "deepgram", "twilio"];
const UNITS = ["input_token", "output_token", "audio_second", "character", "minute"];

function usd(value: number | string): string {
  const n = Number(value);
  if (n === 0) return "$0";
  return `$${n.toFixed(12).replace(/0+$/, "").replace(/\.$/, "")}`;
}

function perMillion(p: Price): string {
  return p.unit.endsWith("_token") || p.unit === "character"
    ? `${usd(Number(p.usd_per_unit) * 1e6)} per million`
    : "";
}

const FIELDS = ["provider", "model", "unit", "usd_per_unit"] as const;

/** Where a price came from; a long file name wraps instead of widening the table. */
function Source({ text }: { text: string }) {
  return <span className="block max-w-44 break-all">{text}</span>;
}

/** A price file uploaded to the sidecar, which loads it as `voxflow prices import` does. */
function ImportPrices({ onDone }: { onDone: () => Promise<unknown> }) {
  const [file, setFile] = useState<File | null>(null);
  const [picker, setPicker] = useState(0); // a new key empties the file input
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UserError | null>(null);
  const [result, setResult] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!file) return;
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const answer = await callJson<{ file: string; read: number; changed: number }>("admin/prices/import", {
        body: file,
        headers: { "Content-Type": "application/json" },
        query: { filename: file.name },
      });
      setResult(
        `${answer.file}: ${answer.read} price(s) read, ${answer.changed} changed` +
          (answer.changed ? ", in force from now on." : "; the price book already had them."),
      );
      setFile(null);
      setPicker((n) => n + 1);
      await onDone();
    } catch (err) {
      setError(describe(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} className="space-y-3">
      <TextField
        key={picker}
        label="Import a LiteLLM price file"
        type="file"
        accept="application/json,.json"
        onChange={(e) => {
          setFile(e.target.files?.[0] ?? null);
          setResult(null);
          setError(null);
        }}
        hint={
          <>
            LiteLLM's <code>model_prices_and_context_window.json</code> (its Groq, Deepgram and Twilio
            prices are taken) or our own list of <code>{"{provider, model, unit, usd_per_unit}"}</code>. The same
            import as <code>voxflow prices import</code>: changed prices start now, each change is audited, and a
            file with any problem changes nothing.
          </>
        }
      />
      <ErrorNotice error={error} title="The file was not imported" />
      {result && <Notice tone="success">{result}</Notice>}
      <Button type="submit" busy={busy} disabled={!file}>
        Import prices
      </Button>
    </form>
  );
}

export default function Prices() {
  const queryClient = useQueryClient();
  const book = useQuery({
    queryKey: ["admin", "price_book"],
    queryFn: async () =>
      unwrap<Price[]>(
        await supabase()
          .from("price_book")
          .select("*")
          .order("provider")
          .order("model")
          .order("unit")
          .order("effective_from", { ascending: false }),
      ),
  });
  const [form, setForm] = useState({ provider: "groq", model: "", unit: "input_token", usd_per_unit: "" });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UserError | null>(null);
  const [result, setResult] = useState<string | null>(null);
  const current = (book.data ?? []).filter((p) => p.effective_to === null);
  const past = (book.data ?? []).filter((p) => p.effective_to !== null);
  const existing = current.find((p) => p.provider === form.provider && p.model === form.model.trim() && p.unit === form.unit);
  const errorField = error ? fieldOf(error, FIELDS) : null;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      unwrap(
        await adminDb().rpc("set_price", {
          provider: form.provider,
          model: form.model.trim(),
          unit: form.unit,
          usd_per_unit: form.usd_per_unit.trim() === "" ? null : Number(form.usd_per_unit),
        }),
      );
      const key = `${form.provider}/${form.model.trim()} per ${form.unit}`;
      setResult(
        existing && Number(existing.usd_per_unit) === Number(form.usd_per_unit)
          ? `${key} is already ${usd(existing.usd_per_unit)}: nothing changed.`
          : `${key}: ${existing ? `${usd(existing.usd_per_unit)} → ` : ""}${usd(form.usd_per_unit)}, from now on.`,
      );
      await queryClient.invalidateQueries({ queryKey: ["admin", "price_book"] });
    } catch (err) {
      setError(describe(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="space-y-6">
      <PageHeader
        title="Prices"
        description="The price book every metered call is costed from, at the price in force when it was made. Model * is the provider's default."
      />
      <Card title="Change a price">
        <form onSubmit={submit} className="space-y-3">
          <div className="grid grid-cols-1 gap-3 sm:grid-cols-2 lg:grid-cols-4">
            <SelectField label="Provider" value={form.provider} options={PROVIDERS.map((p) => ({ value: p, label: p }))}
              onChange={(e) => setForm({ ...form, provider: e.target.value })} />
            <TextField label="Model" value={form.model} required placeholder="e.g. llama-3.1-8b-instant or *"
              error={errorField === "model" ? error?.message : undefined}
              onChange={(e) => setForm({ ...form, model: e.target.value })} />
            <SelectField label="Unit" value={form.unit} options={UNITS.map((u) => ({ value: u, label: u.replace("_", " ") }))}
              onChange={(e) => setForm({ ...form, unit: e.target.value })} />
            <TextField label="USD per unit" value={form.usd_per_unit} required inputMode="decimal" placeholder="0.00000059"
              error={errorField === "usd_per_unit" ? error?.message : undefined}
              onChange={(e) => setForm({ ...form, usd_per_unit: e.target.value })} />
          </div>
          <p className="text-xs text-slate-700 dark:text-slate-300">
            {existing
              ? `Now ${usd(existing.usd_per_unit)} (since ${formatUtc(existing.effective_from)}). The old price ends now and is kept as a past price; calls already made keep their cost.`
              : "No price in force for this key: this adds one."}{" "}
            Users are not notified; the change is audited.
          </p>
          {error && !errorField && <ErrorNotice error={error} title="The price was not changed" />}
          {result && <Notice tone="success">{result}</Notice>}
          <Button type="submit" busy={busy}>Save price</Button>
        </form>
      </Card>
      <Card title="Import prices">
        <ImportPrices onDone={() => queryClient.invalidateQueries({ queryKey: ["admin", "price_book"] })} />
      </Card>
      <Card title="Current prices">
        <QueryView query={book} loading="Loading the price book…">
          {() => (
            <DataTable
              caption="Current prices"
              rows={current}
              rowKey={(p) => String(p.id)}
              empty="The price book is empty"
              columns={[
                { label: "Provider", render: (p) => p.provider },
                { label: "Model", render: (p) => <code className="text-xs">{p.model}</code> },
                { label: "Unit", render: (p) => p.unit },
                {
                  label: "USD per unit",
                  render: (p) => (
                    <>
                      {usd(p.usd_per_unit)}
                      {perMillion(p) && (
                        <span className="block text-xs text-slate-600 dark:text-slate-300">{perMillion(p)}</span>
                      )}
                    </>
                  ),
                },
                { label: "Since", render: (p) => formatUtc(p.effective_from) },
                { label: "Source", render: (p) => <Source text={p.source} /> },
                {
                  label: "Change",
                  render: (p) => (
                    <Button
                      variant="ghost"
                      aria-label={`Change ${p.provider} ${p.model} ${p.unit}`}
                      onClick={() => {
                        setForm({ provider: p.provider, model: p.model, unit: p.unit, usd_per_unit: String(p.usd_per_unit) });
                        setResult(null);
                        setError(null);
                        window.scrollTo({ top: 0 });
                      }}
                    >
                      Change
                    </Button>
                  ),
                },
              ]}
            />
          )}
        </QueryView>
      </Card>
      <Card title="Past prices">
        <QueryView query={book}>
          {() => (
            <DataTable
              caption="Past prices"
              rows={past}
              rowKey={(p) => String(p.id)}
              empty="No price has been changed yet"
              columns={[
                { label: "Provider", render: (p) => p.provider },
                { label: "Model", render: (p) => <code className="text-xs">{p.model}</code> },
                { label: "Unit", render: (p) => p.unit },
                { label: "USD per unit", render: (p) => usd(p.usd_per_unit) },
                { label: "From", render: (p) => formatUtc(p.effective_from) },
                { label: "Until", render: (p) => formatUtc(p.effective_to) },
                { label: "Source", render: (p) => <Source text={p.source} /> },
              ]}
            />
          )}
        </QueryView>
      </Card>
    </div>
  );
}
