import { useEffect, useState } from "react";
import { Link, useNavigate, useSearchParams } from "react-router-dom";
import { useAuth } from "../../lib/auth";
import { landingParams } from "../../lib/supabase";
import { Loading, Notice, TextField } from "../../components/ui";
import { AuthFrame, ResendButton, safeNext } from "./AuthFrame";

/** Where verification and recovery links land: signs in and moves on, or says what failed. */
export default function AuthCallback() {
  const { session, ready } = useAuth();
  const navigate = useNavigate();
  const [query] = useSearchParams();
  const [params] = useState(landingParams);
  const [email, setEmail] = useState("");
  // GoTrue names what failed in error_description; a bare error code is not for people.
  const error =
    params.has("error") || params.has("error_description")
      ? params.get("error_description") || "This link is invalid or has expired"
      : null;
  const type = params.get("type");
  const carriesSession = params.has("access_token");

  useEffect(() => {
    if (!ready || !session || error) return;
    if (type === "recovery") navigate("/reset-password", { replace: true });
    else if (carriesSession) navigate("/home?welcome=1", { replace: true });
    else navigate(safeNext(query.get("next")), { replace: true });
  }, [ready, session, error, type, carriesSession, navigate, query]);

  if (error) {
    const recovery = query.get("next") === "/reset-password";
    return (
      <AuthFrame title="This link cannot be used">
        <div className="space-y-4">
          <Notice tone="error" live>
            {error}. Links work once and expire after a while.
          </Notice>
          {recovery ? (
            <p>
              <Link to="/forgot-password">Ask for a new reset link</Link>
            </p>
          ) : (
            <div className="space-y-3">
              <p className="text-sm">
                If your account is not confirmed yet, we can send a new link. Already confirmed?{" "}
                <Link to="/sign-in">Sign in</Link>.
              </p>
              <TextField
                label="Your email"
                type="email"
                autoComplete="email"
                value={email}
                onChange={(e) => setEmail(e.target.value)}
              />
              {email.includes("@") && <ResendButton email={email.trim()} />}
            </div>
          )}
        </div>
      </AuthFrame>
    );
  }
  if (!ready || (carriesSession && !session)) return <Loading label="Signing you in…" />;
  if (!session) {
    return (
      <AuthFrame title="Nothing to confirm here">
        <p>
          This page finishes sign-up and password resets from the links we email.{" "}
          <Link to="/sign-in">Sign in</Link> or <Link to="/sign-up">create an account</Link>.
        </p>
      </AuthFrame>
    );
  }
  return <Loading label="Signing you in…" />;
}
