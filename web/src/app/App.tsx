import { Authenticator, useAuthenticator } from "@aws-amplify/ui-react";
import { Hub } from "aws-amplify/utils";
import { type ReactNode, useEffect, useMemo } from "react";
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
  const services = useMemo(() => authServices(config.cognito.authFlow), [config.cognito.authFlow]);
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
  // The Authenticator wraps the signed-in app too: its state machine takes the services (the sign-in
  // flow from the config) only from an Authenticator rendered while it starts up. A page loaded signed
  // in would otherwise first render one after a sign-out, too late, and sign in with Amplify's default
  // flow (SRP), which the local stand-in lacks.
  // The app mounts once both agree the user is signed in, never inside the sign-in page.
  const signedIn = authStatus === "authenticated";
  const authenticator = (
    <Authenticator services={services} initialState="signIn">
      {() => <>{signedIn ? <Shell /> : null}</>}
    </Authenticator>
  );
  return signedIn ? authenticator : <SignIn>{authenticator}</SignIn>;
}

/** The sign-in page around the Authenticator's forms. */
function SignIn({ children }: { readonly children: ReactNode }) {
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
        {children}
      </main>
    </div>
  );
}
