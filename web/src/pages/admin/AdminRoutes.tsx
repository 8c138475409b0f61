// The admin console, mounted at /admin/*. Only admins get the console (the API answers 403 to
// anyone else anyway); everyone else gets a page that says so. Every page is its own chunk, so
// the charts' code loads only where a chart is drawn.
import { lazy, Suspense } from "react";
import { Link, NavLink, Route, Routes } from "react-router-dom";
import { useProfile } from "../../lib/auth";
import { describe } from "../../lib/errors";
import { Shell, navClass } from "../../components/Layout";
import { ErrorNotice, Loading, PageHeader } from "../../components/ui";
import { useOpenAlertCount } from "./shared";

const Overview = lazy(() => import("./Overview"));
const Users = lazy(() => import("./Users"));
const UserDetail = lazy(() => import("./UserDetail"));
const Health = lazy(() => import("./Health"));
const Alerts = lazy(() => import("./Alerts"));
const Audit = lazy(() => import("./Audit"));
const Prices = lazy(() => import("./Prices"));
const Exports = lazy(() => import("./Exports"));

const NAV = [
  ["/admin", "Overview"],
  ["/admin/users", "Users"],
  ["/admin/health", "Health"],
  ["/admin/alerts", "Alerts"],
  ["/admin/audit", "Audit log"],
  ["/admin/prices", "Prices"],
  ["/admin/exports", "Exports"],
] as const;

function AlertsLink() {
  const open = useOpenAlertCount();
  const count = open.data ?? 0;
  return (
    <NavLink
      to="/admin/alerts"
      className={(state) => `${navClass(state)} flex items-center justify-between gap-2`}
      aria-label={count > 0 ? `Alerts, ${count} open` : undefined}
    >
      {/* The trailing space keeps the visible text "Alerts 3 open", as the name says. */}
      <span>Alerts </span>
      {count > 0 && (
        <span className="rounded-full bg-red-700 px-2 text-xs font-bold whitespace-nowrap text-white">
          {count} open
        </span>
      )}
    </NavLink>
  );
}

function AdminNav() {
  return (
    <ul className="space-y-1">
      <li className="px-3 pb-1 text-xs font-semibold tracking-wide text-slate-600 uppercase dark:text-slate-300">
        Admin console
      </li>
      {NAV.map(([to, label]) => (
        <li key={to}>
          {to === "/admin/alerts" ? (
            <AlertsLink />
          ) : (
            <NavLink to={to} end={to === "/admin"} className={navClass}>
              {label}
            </NavLink>
          )}
        </li>
      ))}
      <li className="pt-2">
        <NavLink to="/home" className={navClass}>
          Back to my workspace
        </NavLink>
      </li>
    </ul>
  );
}

function AdminsOnly() {
  return (
    <Shell
      nav={
        <ul className="space-y-1">
          <li>
            <NavLink to="/home" className={navClass}>
              Back to my workspace
            </NavLink>
          </li>
        </ul>
      }
    >
      <PageHeader title="Admins only" />
      <div className="max-w-prose space-y-3 text-sm">
        <p>
          The admin console is for VoxFlow's administrators, and your account is not one. Nothing
          here is shown to you, and the admin API refuses your requests too.
        </p>
        <p>If you think you should have access, ask an administrator to promote your account.</p>
        <p>
          <Link to="/home">Back to your workspace</Link>
        </p>
      </div>
    </Shell>
  );
}

function NotFoundHere() {
  return (
    <div>
      <PageHeader title="No such admin page" />
      <p className="text-sm">
        <Link to="/admin">Go to the admin overview</Link>
      </p>
    </div>
  );
}

export default function AdminRoutes() {
  const profile = useProfile();
  if (profile.isPending) return <Loading label="Checking your access…" />;
  if (profile.isError) {
    return (
      <main className="mx-auto max-w-lg p-8">
        <ErrorNotice error={describe(profile.error)} title="Your account could not be read" />
      </main>
    );
  }
  if (profile.data.role !== "admin") return <AdminsOnly />;
  return (
    <Shell nav={<AdminNav />}>
      <Suspense fallback={<Loading />}>
        <Routes>
          <Route index element={<Overview />} />
          <Route path="users" element={<Users />} />
          <Route path="users/:userId" element={<UserDetail />} />
          <Route path="health" element={<Health />} />
          <Route path="alerts" element={<Alerts />} />
          <Route path="audit" element={<Audit />} />
          <Route path="prices" element={<Prices />} />
          <Route path="exports" element={<Exports />} />
          <Route path="*" element={<NotFoundHere />} />
        </Routes>
      </Suspense>
    </Shell>
  );
}
