import { Authenticator, useAuthenticator } from "@aws-amplify/ui-react";
import { Hub } from "aws-amplify/utils";
import { useEffect, useMemo } from "react";
import type { RuntimeConfig } from "../config.ts";
import { authServices } from "./auth.ts";
import { Logo } from "./Logo.tsx";
import { Shell } from "./Shell.tsx";
import { clearSessionNotice, endSession, useSessionNotice } from "./session.ts";

/** The whole app: the sign-in screen until a user is signed in, then the records. */
export function App({ config }: { readonly config: RuntimeConfig }) {
  useEffect(
    () =>
      Hub.listen("auth", ({ payload }) => {
        if (payload.event === "tokenRefresh_failure") {
          void endSession("Your session has ended. Please sign in again.");
        }
      }),
    [],
  );
  return (
    <Authenticator.Provider>
      <Gate config={config} />
    </Authenticator.Provider>
  );
}

function Gate({ config }: { readonly config: RuntimeConfig }) {
  const { authStatus } = useAuthenticator((c) => [c.authStatus]);
  useEffect(() => {
    if (authStatus === "authenticated") clearSessionNotice();
  }, [authStatus]);
  if (authStatus === "configuring") {
    return (
      <p className="splash" role="status">
        Loading Veil…
      </p>
    );
  }
  return authStatus === "authenticated" ? <Shell /> : <SignIn config={config} />;
}

function SignIn({ config }: { readonly config: RuntimeConfig }) {
  const services = useMemo(() => authServices(config.cognito.authFlow), [config.cognito.authFlow]);
  const notice = useSessionNotice();
  useEffect(() => {
    document.title = "Sign in · Veil";
  }, []);
  return (
    <div className="auth-page">
      <header className="auth-brand">
        <Logo />
        <span className="brand-name">Veil</span>
      </header>
      <main className="auth-main">
        <div className="auth-intro">
          <h1>Health records only you can read</h1>
          <p>
            Details are encrypted at the network edge, stored encrypted, and every access is written to the
            record's history.
          </p>
        </div>
        {notice ? (
          <div className="notice notice-warning auth-notice" role="alert">
            {notice}
          </div>
        ) : null}
        <Authenticator services={services} initialState="signIn" />
      </main>
    </div>
  );
}
