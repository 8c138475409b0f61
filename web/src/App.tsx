// Routes. Every page is its own chunk, so the first load carries only what it shows.
import { lazy, Suspense, type ReactNode } from "react";
import { Navigate, Route, Routes, useLocation } from "react-router-dom";
import { useAuth } from "./lib/auth";
import { TenantLayout } from "./components/Layout";
import { Loading } from "./components/ui";

const SignUp = lazy(() => import("./pages/auth/SignUp"));
const SignIn = lazy(() => import("./pages/auth/SignIn"));
const ForgotPassword = lazy(() => import("./pages/auth/ForgotPassword"));
const ResetPassword = lazy(() => import("./pages/auth/ResetPassword"));
const AuthCallback = lazy(() => import("./pages/auth/AuthCallback"));
const Home = lazy(() => import("./pages/Home"));
const Keys = lazy(() => import("./pages/Keys"));
const Agents = lazy(() => import("./pages/Agents"));
const AgentEdit = lazy(() => import("./pages/AgentEdit"));
const AgentTest = lazy(() => import("./pages/AgentTest"));
const Calls = lazy(() => import("./pages/Calls"));
const CallDetail = lazy(() => import("./pages/CallDetail"));
const Usage = lazy(() => import("./pages/Usage"));
const Plans = lazy(() => import("./pages/Plans"));
const Notifications = lazy(() => import("./pages/Notifications"));
const Account = lazy(() => import("./pages/Account"));
const NotFound = lazy(() => import("./pages/NotFound"));
const AdminRoutes = lazy(() => import("./pages/admin/AdminRoutes"));

function RequireSession({ children }: { children: ReactNode }) {
  const { session, ready } = useAuth();
  const location = useLocation();
  if (!ready) return <Loading label="Checking your session…" />;
  if (!session) {
    const next = encodeURIComponent(location.pathname + location.search);
    return <Navigate to={`/sign-in?next=${next}`} replace />;
  }
  return <>{children}</>;
}

function Landing() {
  const { session, ready } = useAuth();
  if (!ready) return <Loading />;
  return <Navigate to={session ? "/home" : "/sign-in"} replace />;
}

export default function App() {
  return (
    <Suspense fallback={<Loading />}>
      <Routes>
        <Route path="/" element={<Landing />} />
        <Route path="/sign-up" element={<SignUp />} />
        <Route path="/register" element={<Navigate to="/sign-up" replace />} />
        <Route path="/sign-in" element={<SignIn />} />
        <Route path="/forgot-password" element={<ForgotPassword />} />
        <Route path="/reset-password" element={<ResetPassword />} />
        <Route path="/auth/callback" element={<AuthCallback />} />
        <Route
          element={
            <RequireSession>
              <TenantLayout />
            </RequireSession>
          }
        >
          <Route path="/home" element={<Home />} />
          <Route path="/dashboard" element={<Navigate to="/home" replace />} />
          <Route path="/keys" element={<Keys />} />
          <Route path="/agents" element={<Agents />} />
          <Route path="/agents/new" element={<AgentEdit />} />
          <Route path="/agents/:agentId" element={<AgentEdit />} />
          <Route path="/agents/:agentId/test" element={<AgentTest />} />
          <Route path="/calls" element={<Calls />} />
          <Route path="/calls/:callId" element={<CallDetail />} />
          <Route path="/usage" element={<Usage />} />
          <Route path="/plans" element={<Plans />} />
          <Route path="/notifications" element={<Notifications />} />
          <Route path="/account" element={<Account />} />
        </Route>
        <Route
          path="/admin/*"
          element={
            <RequireSession>
              <AdminRoutes />
            </RequireSession>
          }
        />
        <Route path="*" element={<NotFound />} />
      </Routes>
    </Suspense>
  );
}
