// CSV exports of users, usage, costs and the audit log, each with its filters: a streamed
// download carrying the admin's token (each export is itself audited).
import { useState } from "react";
import { Link } from "react-router-dom";
import { Card, PageHeader, SelectField, TextField } from "../../components/ui";
import { ExportButton, STATUS_OPTIONS, exportQuery, isUuid, usePlanOptions, type Pair } from "./shared";
import { userFilters } from "./Users";
import { auditFilters } from "./Audit";

function Shown({ pairs }: { pairs: Pair[] }) {
  return (
    <p className="text-xs break-all text-slate-700 dark:text-slate-300">
      {pairs.length ? (
        <>
          Filters: <code>{exportQuery(pairs)}</code>
        </>
      ) : (
        "No filters: every row."
      )}
    </p>
  );
}

const PROVIDERS = [
  { value: "", label: "Any provider" },
  { value: "groq", label: "groq" },
  { value: "deepgram", label: "deepgram" },
  { value: "twilio", label: "twilio" },
];

function UsersExport() {
  const planOptions = usePlanOptions();
  const [f, setF] = useState({ q: "", status: "", plan: "", created_from: "", created_to: "" });
  const pairs = userFilters(new URLSearchParams(Object.entries(f).filter(([, v]) => v)));
  return (
    <Card title="Users">
      <div className="grid grid-cols-1 gap-3 sm:grid-cols-2">
        <TextField label="Users: search email or organization" value={f.q} onChange={(e) => setF({ ...f, q: e.target.value })} />
        <SelectField label="Users: status" value={f.status} onChange={(e) => setF({ ...f, status: e.target.value })}
          options={STATUS_OPTIONS} />
        <SelectField label="Users: plan" value={f.plan} onChange={(e) => setF({ ...f, plan: e.target.value })}
          options={planOptions} />
        <TextField label="Users: created from" type="date" value={f.created_from} onChange={(e) => setF({ ...f, created_from: e.target.value })} />
        <TextField label="Users: created until" type="date" value={f.created_to} onChange={(e) => setF({ ...f, created_to: e.target.value })} />
      </div>
      <p className="mt-2 text-xs">
        For every filter and order, use <Link to="/admin/users">the Users page</Link>'s own Export CSV.
      </p>
      <Shown pairs={pairs} />
      <div className="mt-3">
        <ExportButton kind="users" label="Download users CSV" query={exportQuery(pairs, { order: "created_at.desc,user_id" })} />
      </div>
    </Card>
  );
}

function monthPairs(column: string, from: string, to: string): Pair[] {
  const pairs: Pair[] = [];
  if (from) pairs.push([column, `gte.${from}-01`]);
  if (to) pairs.push([column, `lte.${to}-01`]);
  return pairs;
}

function UsageExport() {
  const [f, setF] = useState({ from: "", to: "", provider: "", feature: "", user: "" });
  const pairs: Pair[] = [...monthPairs("period_start", f.from, f.to)];
  if (f.provider) pairs.push(["provider", `eq.${f.provider}`]);
  if (f.feature) pairs.push(["feature", `eq.${f.feature}`]);
  // A user id that is not one must not quietly export everyone's usage.
  const badUser = f.user.trim() !== "" && !isUuid(f.user);
  if (f.user.trim() && !badUser) pairs.push(["user_id", `eq.${f.user.trim()}`]);
  return (
    <Card title="Usage">
      <div className="grid grid-cols-1 gap-3 sm:grid-cols-2">
        <TextField label="Usage: from month" type="month" value={f.from} onChange={(e) => setF({ ...f, from: e.target.value })} />
        <TextField label="Usage: until month" type="month" value={f.to} onChange={(e) => setF({ ...f, to: e.target.value })} />
        <SelectField label="Usage: provider" value={f.provider} options={PROVIDERS} onChange={(e) => setF({ ...f, provider: e.target.value })} />
        <SelectField label="Usage: feature" value={f.feature} onChange={(e) => setF({ ...f, feature: e.target.value })}
          options={[{ value: "", label: "Any feature" }, { value: "chat", label: "chat" }, { value: "speak", label: "speak" }, { value: "transcribe", label: "transcribe" }, { value: "phone", label: "phone" }]} />
        <TextField label="Usage: user id" value={f.user} onChange={(e) => setF({ ...f, user: e.target.value })}
          error={badUser ? "A user id looks like 8-4-4-4-12 hex digits; fix it or leave it empty to export every user." : undefined} />
      </div>
      <Shown pairs={pairs} />
      <div className="mt-3">
        <ExportButton kind="usage" label="Download usage CSV" query={exportQuery(pairs)} disabled={badUser} />
      </div>
    </Card>
  );
}

function CostsExport() {
  const planOptions = usePlanOptions();
  const [f, setF] = useState({ from: "", to: "", provider: "", plan: "" });
  const pairs: Pair[] = [...monthPairs("period_start", f.from, f.to)];
  if (f.provider) pairs.push(["provider", `eq.${f.provider}`]);
  if (f.plan) pairs.push(["plan_id", `eq.${f.plan}`]);
  return (
    <Card title="Costs">
      <div className="grid grid-cols-1 gap-3 sm:grid-cols-2">
        <TextField label="Costs: from month" type="month" value={f.from} onChange={(e) => setF({ ...f, from: e.target.value })} />
        <TextField label="Costs: until month" type="month" value={f.to} onChange={(e) => setF({ ...f, to: e.target.value })} />
        <SelectField label="Costs: provider" value={f.provider} options={PROVIDERS} onChange={(e) => setF({ ...f, provider: e.target.value })} />
        <SelectField label="Costs: plan" value={f.plan} onChange={(e) => setF({ ...f, plan: e.target.value })}
          options={planOptions} />
      </div>
      <Shown pairs={pairs} />
      <div className="mt-3">
        <ExportButton kind="costs" label="Download costs CSV" query={exportQuery(pairs)} />
      </div>
    </Card>
  );
}

function AuditExport() {
  const [f, setF] = useState({ actor: "", action: "", target: "", from: "", to: "" });
  const pairs = auditFilters(new URLSearchParams(Object.entries(f).filter(([, v]) => v)));
  return (
    <Card title="Audit log">
      <div className="grid grid-cols-1 gap-3 sm:grid-cols-2">
        <TextField label="Audit: actor (email or id)" value={f.actor} onChange={(e) => setF({ ...f, actor: e.target.value })} />
        <TextField label="Audit: action" value={f.action} hint="e.g. admin.* or login.failed" onChange={(e) => setF({ ...f, action: e.target.value })} />
        <TextField label="Audit: target id" value={f.target} onChange={(e) => setF({ ...f, target: e.target.value })} />
        <TextField label="Audit: from (UTC day)" type="date" value={f.from} onChange={(e) => setF({ ...f, from: e.target.value })} />
        <TextField label="Audit: until (UTC day)" type="date" value={f.to} onChange={(e) => setF({ ...f, to: e.target.value })} />
      </div>
      <Shown pairs={pairs} />
      <div className="mt-3">
        <ExportButton kind="audit" label="Download audit CSV" query={exportQuery(pairs, { order: "id.desc" })} />
      </div>
    </Card>
  );
}

export default function Exports() {
  return (
    <div className="space-y-6">
      <PageHeader
        title="Exports"
        description="CSV files streamed from the admin views, with the filters you set. Each export is recorded in the audit log. Dates are UTC."
      />
      <div className="grid gap-6 xl:grid-cols-2">
        <UsersExport />
        <UsageExport />
        <CostsExport />
        <AuditExport />
      </div>
    </div>
  );
}
