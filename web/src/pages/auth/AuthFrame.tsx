import type { ReactNode } from "react";
import { ThemeToggle } from "../../components/Layout";

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

export const PASSWORD_RULES = [
  "At least 8 characters",
  "A mix of at least two of: lowercase, uppercase, digits, symbols",
  "Not your email address",
];

export function PasswordRules({ id }: { id?: string }) {
  return (
    <ul id={id} className="list-disc pl-5">
      {PASSWORD_RULES.map((r) => (
        <li key={r}>{r}</li>
      ))}
    </ul>
  );
}
