// The signed-in frame: navigation, the notification bell, theme toggle, and the banner that
// blocks while requests are restricted.
import { useState, type ReactNode } from "react";
import { Link, NavLink, Outlet, useNavigate } from "react-router-dom";
import { useAuth, useProfile } from "../lib/auth";
import { useUnreadCount, useUsageSummary } from "../lib/queries";
import { supabase } from "../lib/supabase";
import { currentTheme, setTheme, type Theme } from "../lib/theme";
import { formatNumber } from "../lib/format";
import { Button, Notice } from "./ui";

const TENANT_NAV = [
  ["/home", "Home"],
  ["/agents", "Agents"],
  ["/calls", "Calls"],
  ["/usage", "Usage"],
  ["/keys", "Provider keys"],
  ["/plans", "Plans"],
  ["/account", "Account"],
] as const;

function navClass({ isActive }: { isActive: boolean }) {
  return `block rounded-md px-3 py-2 text-sm font-medium no-underline ${
    isActive
      ? "bg-indigo-100 text-indigo-900 dark:bg-indigo-900 dark:text-white"
      : "text-slate-800 hover:bg-slate-200 dark:text-slate-100 dark:hover:bg-slate-800"
  }`;
}

export function ThemeToggle() {
  const [theme, setLocal] = useState<Theme>(currentTheme());
  const next = theme === "dark" ? "light" : "dark";
  return (
    <Button
      variant="ghost"
      aria-label={`Switch to ${next} theme`}
      onClick={() => {
        setTheme(next);
        setLocal(next);
      }}
    >
      {theme === "dark" ? "☀" : "☾"}
    </Button>
  );
}

function Bell() {
  const unread = useUnreadCount();
  const count = unread.data ?? 0;
  return (
    <Link
      to="/notifications"
      className="relative inline-flex rounded-md px-3 py-2 text-slate-800 no-underline hover:bg-slate-200 dark:text-slate-100 dark:hover:bg-slate-800"
      aria-label={count ? `Notifications, ${count} unread` : "Notifications"}
    >
      <svg aria-hidden="true" viewBox="0 0 24 24" className="h-5 w-5" fill="none" stroke="currentColor" strokeWidth="2">
        <path d="M18 8a6 6 0 1 0-12 0c0 7-3 9-3 9h18s-3-2-3-9" />
        <path d="M13.7 21a2 2 0 0 1-3.4 0" />
      </svg>
      {count > 0 && (
        <span
          aria-hidden="true"
          className="absolute -top-1 -right-1 rounded-full bg-red-700 px-1.5 text-xs font-bold text-white"
        >
          {count}
        </span>
      )}
    </Link>
  );
}

function QuotaBanner() {
  const usage = useUsageSummary();
  const u = usage.data;
  if (!u || Number(u.tokens_percent) < 100) return null;
  return (
    <div className="mb-4">
      <Notice tone="error" title="Requests are restricted: this month's tokens are used up" live>
        You have used {formatNumber(u.tokens_used)} of {formatNumber(u.token_limit)} tokens on the{" "}
        {u.plan_name} plan. Chats, speech and calls are refused until the period resets in{" "}
        {u.days_until_reset} days. <Link to="/plans">Upgrade your plan</Link> to continue now.
      </Notice>
    </div>
  );
}

export function Shell({ nav, children }: { nav: ReactNode; children: ReactNode }) {
  const navigate = useNavigate();
  const { session } = useAuth();
  const [menuOpen, setMenuOpen] = useState(false);
  return (
    <div className="min-h-screen">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-50 focus:bg-white focus:p-2"
      >
        Skip to content
      </a>
      <header className="sticky top-0 z-30 border-b border-slate-200 bg-white/95 backdrop-blur dark:border-slate-800 dark:bg-slate-950/95">
        <div className="mx-auto flex max-w-7xl items-center justify-between gap-2 px-4 py-2">
          <div className="flex items-center gap-2">
            <Button
              variant="ghost"
              className="md:hidden"
              aria-expanded={menuOpen}
              aria-controls="site-nav"
              onClick={() => setMenuOpen(!menuOpen)}
            >
              Menu
            </Button>
            <Link to="/home" className="text-lg font-bold text-slate-900 no-underline dark:text-white">
              VoxFlow
            </Link>
          </div>
          <div className="flex items-center gap-1">
            <Bell />
            <ThemeToggle />
            <span className="hidden text-sm text-slate-700 sm:inline dark:text-slate-300">
              {session?.user.email}
            </span>
            <Button
              variant="ghost"
              onClick={async () => {
                await supabase().auth.signOut({ scope: "local" });
                navigate("/sign-in");
              }}
            >
              Sign out
            </Button>
          </div>
        </div>
      </header>
      <div className="mx-auto flex max-w-7xl gap-6 px-4 py-6">
        <nav
          id="site-nav"
          aria-label="Main"
          className={`${menuOpen ? "block" : "hidden"} fixed inset-x-0 top-14 z-20 border-b border-slate-200 bg-white p-4 md:static md:block md:w-52 md:shrink-0 md:border-0 md:bg-transparent md:p-0 dark:border-slate-800 dark:bg-slate-950 md:dark:bg-transparent`}
          onClick={() => setMenuOpen(false)}
        >
          {nav}
        </nav>
        <main id="main" className="min-w-0 flex-1">
          {children}
        </main>
      </div>
    </div>
  );
}

export function TenantLayout() {
  const profile = useProfile();
  return (
    <Shell
      nav={
        <ul className="space-y-1">
          {TENANT_NAV.map(([to, label]) => (
            <li key={to}>
              <NavLink to={to} className={navClass}>
                {label}
              </NavLink>
            </li>
          ))}
          {profile.data?.role === "admin" && (
            <li className="pt-2">
              <NavLink to="/admin" className={navClass}>
                Admin console
              </NavLink>
            </li>
          )}
        </ul>
      }
    >
      <QuotaBanner />
      <Outlet />
    </Shell>
  );
}

export { navClass };
