import { type DependencyList, useCallback, useEffect, useState } from "react";

export type Loaded<T> =
  | { readonly status: "loading" }
  | { readonly status: "ready"; readonly data: T }
  | { readonly status: "error"; readonly error: unknown };

/**
 * Runs `load` when `deps` change and on `reload()`; results of a load that was superseded or whose
 * component unmounted are dropped.
 */
export function useLoad<T>(load: () => Promise<T>, deps: DependencyList): [Loaded<T>, () => void] {
  const [state, setState] = useState<Loaded<T>>({ status: "loading" });
  const [round, setRound] = useState(0);
  const run = useCallback(load, deps);
  useEffect(() => {
    let live = true;
    setState({ status: "loading" });
    run().then(
      (data) => live && setState({ status: "ready", data }),
      (error: unknown) => live && setState({ status: "error", error }),
    );
    return () => {
      live = false;
    };
  }, [run, round]);
  return [state, useCallback(() => setRound((r) => r + 1), [])];
}
