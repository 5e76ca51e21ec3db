import { useAuthenticator } from "@aws-amplify/ui-react";
import { useEffect, useState } from "react";
import { Account } from "../pages/Account.tsx";
import { NotFound } from "../pages/NotFound.tsx";
import { RecordCreate } from "../pages/RecordCreate.tsx";
import { RecordDetail } from "../pages/RecordDetail.tsx";
import { RecordEdit } from "../pages/RecordEdit.tsx";
import { RecordHistory } from "../pages/RecordHistory.tsx";
import { RecordsList } from "../pages/RecordsList.tsx";
import { Logo } from "./Logo.tsx";
import { Link, navigate, useLocation } from "./router.tsx";
import { matchRoute, paths, type Route } from "./routes.ts";
import { endSession } from "./session.ts";

function pageFor(route: Route) {
  switch (route.page) {
    case "list":
      return <RecordsList />;
    case "create":
      return <RecordCreate />;
    case "detail":
      return <RecordDetail key={route.id} id={route.id} />;
    case "edit":
      return <RecordEdit key={route.id} id={route.id} />;
    case "history":
      return <RecordHistory key={route.id} id={route.id} />;
    case "account":
      return <Account />;
    default:
      return <NotFound />;
  }
}

/** The signed-in app: top bar, status line, the current page. */
export function Shell() {
  const { user } = useAuthenticator((c) => [c.user]);
  const location = useLocation();
  const route = matchRoute(location.pathname);
  const [flash, setFlash] = useState<string>();

  // A status line travels with one navigation; take it out of history so Back does not repeat it.
  useEffect(() => {
    setFlash(location.state.flash);
    if (location.state.flash) window.history.replaceState({}, "", window.location.pathname);
  }, [location]);

  const signOut = () => {
    navigate(paths.list(), { replace: true });
    void endSession();
  };

  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="topbar-inner">
          <Link className="brand" href={paths.list()} aria-label="Veil, your records">
            <Logo />
            <span className="brand-name">Veil</span>
          </Link>
          <nav className="nav" aria-label="Main">
            <Link href={paths.list()} aria-current={route.page === "list" ? "page" : undefined}>
              Records
            </Link>
            <Link href={paths.create()} aria-current={route.page === "create" ? "page" : undefined}>
              New record
            </Link>
            <Link href={paths.account()} aria-current={route.page === "account" ? "page" : undefined}>
              Your data
            </Link>
          </nav>
          <div className="account">
            <span className="account-name" title="Signed in as">
              {user?.signInDetails?.loginId ?? ""}
            </span>
            <button type="button" className="button button-quiet" onClick={signOut}>
              Sign out
            </button>
          </div>
        </div>
      </header>
      <div className="container">
        <div className={flash ? "flash" : "flash flash-empty"} role="status" aria-live="polite">
          {flash ? (
            <>
              <span className="flash-icon" aria-hidden="true">
                ✓
              </span>
              <span>{flash}</span>
            </>
          ) : null}
        </div>
        {/* Keyed by navigation: following a link to the page you are on loads it afresh. */}
        <main id="main" tabIndex={-1} key={location.key}>
          {pageFor(route)}
        </main>
      </div>
      <footer className="footer">
        <div className="container">
          Record details are encrypted at the network edge and stored encrypted; operators cannot read them.
          Every access is recorded.
        </div>
      </footer>
    </div>
  );
}
