import { type AnchorHTMLAttributes, type MouseEvent, useSyncExternalStore } from "react";

/** What travels with a navigation besides the path: a short status line, never record data. */
export interface NavigationState {
  readonly flash?: string;
}

interface Location {
  readonly pathname: string;
  readonly state: NavigationState;
  /** Increases with every navigation, so pages can tell a new visit from a re-render. */
  readonly key: number;
}

const changeEvent = "veil:navigate";
let current: Location = read(0);

function read(key: number): Location {
  const state = (window.history.state ?? {}) as NavigationState;
  return {
    pathname: window.location.pathname,
    state: { ...(state.flash ? { flash: state.flash } : {}) },
    key,
  };
}

function refresh() {
  current = read(current.key + 1);
  window.dispatchEvent(new Event(changeEvent));
}

window.addEventListener("popstate", refresh);

function subscribe(onChange: () => void) {
  window.addEventListener(changeEvent, onChange);
  return () => window.removeEventListener(changeEvent, onChange);
}

/** The current location; re-renders on every navigation (links, back/forward). */
export function useLocation(): Location {
  return useSyncExternalStore(subscribe, () => current);
}

/** Goes to `path` in the app, without a page load. */
export function navigate(path: string, options: { replace?: boolean; state?: NavigationState } = {}) {
  const state = options.state ?? {};
  if (options.replace) window.history.replaceState(state, "", path);
  else window.history.pushState(state, "", path);
  refresh();
}

/** An `<a>` that navigates inside the app; modified clicks (new tab, …) keep the browser's behaviour. */
export function Link({ href, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const handle = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={handle} {...rest} />;
}
