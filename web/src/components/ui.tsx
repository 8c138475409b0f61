// The app's small set of building blocks. Every control has a visible label or an accessible
// name; errors are announced with role="alert".
import {
  forwardRef,
  useId,
  type ButtonHTMLAttributes,
  type InputHTMLAttributes,
  type ReactNode,
  type SelectHTMLAttributes,
  type TextareaHTMLAttributes,
} from "react";
import { Link, type LinkProps } from "react-router-dom";
import { describe, type UserError } from "../lib/errors";

type Variant = "primary" | "secondary" | "danger" | "ghost";

const VARIANTS: Record<Variant, string> = {
  // Disabled reads as disabled but stays legible (white on indigo-400 did not).
  primary:
    "bg-indigo-700 text-white hover:bg-indigo-800 disabled:bg-slate-300 disabled:text-slate-700 dark:disabled:bg-slate-700 dark:disabled:text-slate-300",
  secondary:
    "border border-slate-300 bg-white text-slate-900 hover:bg-slate-100 dark:border-slate-600 dark:bg-slate-800 dark:text-slate-100 dark:hover:bg-slate-700",
  danger:
    "bg-red-700 text-white hover:bg-red-800 disabled:bg-slate-300 disabled:text-slate-700 dark:disabled:bg-slate-700 dark:disabled:text-slate-300",
  ghost: "text-slate-700 hover:bg-slate-200 dark:text-slate-200 dark:hover:bg-slate-800",
};

const BUTTON_SHAPE =
  "inline-flex min-h-10 items-center justify-center gap-2 rounded-md px-4 py-2 text-sm font-medium";

/** A link that looks like a button (navigation styled as an action: "New agent"). */
export function ButtonLink({
  variant = "primary",
  className = "",
  ...rest
}: LinkProps & { variant?: Variant }) {
  return (
    <Link className={`${BUTTON_SHAPE} no-underline ${VARIANTS[variant]} ${className}`} {...rest} />
  );
}

export interface ButtonProps extends ButtonHTMLAttributes<HTMLButtonElement> {
  variant?: Variant;
  busy?: boolean;
}

export const Button = forwardRef<HTMLButtonElement, ButtonProps>(function Button(
  { variant = "primary", busy = false, className = "", children, disabled, ...rest },
  ref,
) {
  return (
    <button
      ref={ref}
      className={`${BUTTON_SHAPE} disabled:cursor-not-allowed ${VARIANTS[variant]} ${className}`}
      disabled={disabled || busy}
      aria-busy={busy || undefined}
      {...rest}
    >
      {busy && <Spinner />}
      {children}
    </button>
  );
});

export function Spinner({ label }: { label?: string }) {
  return (
    <span
      className="inline-block h-4 w-4 animate-spin rounded-full border-2 border-current border-t-transparent"
      role={label ? "status" : undefined}
      aria-label={label}
      aria-hidden={label ? undefined : true}
    />
  );
}

const inputClass =
  "block min-h-10 w-full rounded-md border border-slate-400 bg-white px-3 py-2 text-sm text-slate-900 placeholder:text-slate-500 dark:border-slate-500 dark:bg-slate-900 dark:text-slate-100 aria-[invalid=true]:border-red-600";

interface FieldShellProps {
  label: string;
  hint?: ReactNode;
  error?: ReactNode;
  children: (ids: { id: string; describedBy?: string; invalid: boolean }) => ReactNode;
}

function FieldShell({ label, hint, error, children }: FieldShellProps) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(" ") || undefined;
  return (
    <div className="space-y-1">
      <label htmlFor={id} className="block text-sm font-medium">
        {label}
      </label>
      {children({ id, describedBy, invalid: !!error })}
      {hint && (
        <div id={hintId} className="text-xs text-slate-600 dark:text-slate-300">
          {hint}
        </div>
      )}
      {error && (
        <div id={errorId} role="alert" className="text-sm text-red-700 dark:text-red-300">
          {error}
        </div>
      )}
    </div>
  );
}

interface TextFieldProps extends InputHTMLAttributes<HTMLInputElement> {
  label: string;
  hint?: ReactNode;
  error?: ReactNode;
}

export function TextField({ label, hint, error, ...rest }: TextFieldProps) {
  return (
    <FieldShell label={label} hint={hint} error={error}>
      {({ id, describedBy, invalid }) => (
        <input
          id={id}
          aria-describedby={describedBy}
          aria-invalid={invalid}
          className={inputClass}
          {...rest}
        />
      )}
    </FieldShell>
  );
}

interface TextAreaFieldProps extends TextareaHTMLAttributes<HTMLTextAreaElement> {
  label: string;
  hint?: ReactNode;
  error?: ReactNode;
}

export function TextAreaField({ label, hint, error, ...rest }: TextAreaFieldProps) {
  return (
    <FieldShell label={label} hint={hint} error={error}>
      {({ id, describedBy, invalid }) => (
        <textarea
          id={id}
          aria-describedby={describedBy}
          aria-invalid={invalid}
          className={inputClass}
          {...rest}
        />
      )}
    </FieldShell>
  );
}

interface SelectFieldProps extends SelectHTMLAttributes<HTMLSelectElement> {
  label: string;
  hint?: ReactNode;
  error?: ReactNode;
  options: { value: string; label: string }[];
}

export function SelectField({ label, hint, error, options, ...rest }: SelectFieldProps) {
  return (
    <FieldShell label={label} hint={hint} error={error}>
      {({ id, describedBy, invalid }) => (
        <select
          id={id}
          aria-describedby={describedBy}
          aria-invalid={invalid}
          className={inputClass}
          {...rest}
        >
          {options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      )}
    </FieldShell>
  );
}

export function Checkbox({
  label,
  ...rest
}: InputHTMLAttributes<HTMLInputElement> & { label: string }) {
  const id = useId();
  return (
    <div className="flex items-center gap-2">
      <input id={id} type="checkbox" className="h-4 w-4" {...rest} />
      <label htmlFor={id} className="text-sm">
        {label}
      </label>
    </div>
  );
}

type Tone = "error" | "warning" | "info" | "success";

const TONES: Record<Tone, string> = {
  error: "border-red-300 bg-red-50 text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100",
  warning:
    "border-amber-300 bg-amber-50 text-amber-950 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-100",
  info: "border-sky-300 bg-sky-50 text-sky-950 dark:border-sky-800 dark:bg-sky-950 dark:text-sky-100",
  success:
    "border-emerald-300 bg-emerald-50 text-emerald-950 dark:border-emerald-800 dark:bg-emerald-950 dark:text-emerald-100",
};

export function Notice({
  tone = "info",
  title,
  children,
  live = tone === "error",
}: {
  tone?: Tone;
  title?: string;
  children?: ReactNode;
  live?: boolean;
}) {
  return (
    <div role={live ? "alert" : "status"} className={`rounded-md border p-3 text-sm ${TONES[tone]}`}>
      {title && <p className="font-semibold">{title}</p>}
      {children && <div className={title ? "mt-1" : ""}>{children}</div>}
    </div>
  );
}

/** A server error as a person should read it: the message, what to do, a link that fixes it. */
export function ErrorNotice({ error, title }: { error: UserError | null; title?: string }) {
  if (!error) return null;
  return (
    <Notice tone="error" title={title}>
      <p>{error.message}</p>
      {error.hint && <p className="mt-1">{error.hint}</p>}
      {error.retryAfter !== undefined && (
        <p className="mt-1">Try again in {error.retryAfter} seconds.</p>
      )}
      {error.fixPath && (
        <p className="mt-1">
          <Link to={error.fixPath}>{FIX_LABELS[error.fixPath] ?? "Fix this"}</Link>
        </p>
      )}
    </Notice>
  );
}

const FIX_LABELS: Record<string, string> = {
  "/keys": "Set up your provider keys",
  "/plans": "Compare plans and upgrade",
  "/agents": "Choose which agents stay active",
};

export function Card({
  title,
  actions,
  children,
  className = "",
}: {
  title?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
  className?: string;
}) {
  return (
    <section
      className={`rounded-lg border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-700 dark:bg-slate-900 ${className}`}
    >
      {(title || actions) && (
        <div className="mb-3 flex flex-wrap items-center justify-between gap-2">
          {title && <h2 className="text-base font-semibold">{title}</h2>}
          {actions}
        </div>
      )}
      {children}
    </section>
  );
}

export function PageHeader({
  title,
  description,
  actions,
}: {
  title: string;
  description?: ReactNode;
  actions?: ReactNode;
}) {
  return (
    <div className="mb-6 flex flex-wrap items-end justify-between gap-3">
      <div>
        <h1 className="text-2xl font-bold tracking-tight">{title}</h1>
        {description && (
          <p className="mt-1 text-sm text-slate-600 dark:text-slate-300">{description}</p>
        )}
      </div>
      {actions && <div className="flex flex-wrap gap-2">{actions}</div>}
    </div>
  );
}

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="flex items-center gap-2 p-6 text-sm text-slate-600 dark:text-slate-300">
      <Spinner />
      <span role="status">{label}</span>
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="rounded-lg border border-dashed border-slate-300 p-8 text-center dark:border-slate-600">
      <p className="font-medium">{title}</p>
      {children && (
        <div className="mt-2 text-sm text-slate-600 dark:text-slate-300">{children}</div>
      )}
    </div>
  );
}

export function Badge({
  tone = "info",
  children,
}: {
  tone?: "info" | "success" | "warning" | "error" | "neutral";
  children: ReactNode;
}) {
  const tones = {
    info: "bg-sky-100 text-sky-900 dark:bg-sky-900 dark:text-sky-100",
    success: "bg-emerald-100 text-emerald-900 dark:bg-emerald-900 dark:text-emerald-100",
    warning: "bg-amber-100 text-amber-900 dark:bg-amber-900 dark:text-amber-100",
    error: "bg-red-100 text-red-900 dark:bg-red-900 dark:text-red-100",
    neutral: "bg-slate-200 text-slate-800 dark:bg-slate-700 dark:text-slate-100",
  };
  return (
    <span className={`inline-flex rounded-full px-2 py-0.5 text-xs font-medium ${tones[tone]}`}>
      {children}
    </span>
  );
}

/** A labelled progress bar (tokens used of the limit). */
export function Meter({ label, value, max }: { label: string; value: number; max: number }) {
  const percent = max > 0 ? Math.min(100, (value / max) * 100) : 0;
  const color = percent >= 95 ? "bg-red-600" : percent >= 80 ? "bg-amber-500" : "bg-indigo-600";
  return (
    <div
      role="meter"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={max}
      aria-valuenow={Math.min(value, max)}
      className="h-3 w-full overflow-hidden rounded-full bg-slate-200 dark:bg-slate-700"
    >
      <div className={`h-full ${color}`} style={{ width: `${percent}%` }} />
    </div>
  );
}

/**
 * A table that scrolls sideways on a phone instead of breaking the page. The scroll area takes
 * keyboard focus (a region named by the caption), so it can be scrolled without a mouse.
 */
export function Table({ caption, children }: { caption: string; children: ReactNode }) {
  return (
    <div className="overflow-x-auto" tabIndex={0} role="region" aria-label={caption}>
      <table className="w-full min-w-max text-left text-sm">
        <caption className="sr-only">{caption}</caption>
        {children}
      </table>
    </div>
  );
}

export const th = "border-b border-slate-200 px-3 py-2 font-semibold dark:border-slate-700";
export const td = "border-b border-slate-100 px-3 py-2 dark:border-slate-800";

export interface Column<Row> {
  /** React's key for the column, when two columns could share a label. */
  key?: string;
  label: string;
  render: (row: Row) => ReactNode;
}

/** Rows under labelled columns; an empty list shows `empty` instead of a bare header. */
export function DataTable<Row>({
  caption,
  rows,
  columns,
  rowKey,
  empty = "Nothing to show yet",
}: {
  caption: string;
  rows: Row[];
  columns: Column<Row>[];
  rowKey: (row: Row) => string;
  empty?: string;
}) {
  if (rows.length === 0) return <EmptyState title={empty} />;
  return (
    <Table caption={caption}>
      <thead>
        <tr>
          {columns.map((c) => (
            <th key={c.key ?? c.label} scope="col" className={th}>
              {c.label}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={rowKey(row)}>
            {columns.map((c) => (
              <td key={c.key ?? c.label} className={td}>
                {c.render(row)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </Table>
  );
}

/** A query's loading and error states in one place; `children` renders its data. */
export function QueryView<T>({
  query,
  children,
  loading,
  failed = "This could not be loaded",
}: {
  query: {
    isPending: boolean;
    isError: boolean;
    error: unknown;
    data: T | undefined;
    refetch?: () => unknown;
  };
  children: (data: T) => ReactNode;
  loading?: string;
  failed?: string;
}) {
  if (query.isPending) return <Loading label={loading} />;
  if (query.isError) {
    return (
      <div className="space-y-2">
        <ErrorNotice error={describe(query.error)} title={failed} />
        {query.refetch && (
          <Button variant="secondary" onClick={() => query.refetch?.()}>
            Try again
          </Button>
        )}
      </div>
    );
  }
  return <>{children(query.data as T)}</>;
}
