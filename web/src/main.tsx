import "@aws-amplify/ui-react/styles.css";
import "./styles.css";
import { Amplify } from "aws-amplify";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app/App.tsx";
import { amplifyConfig, loadRuntimeConfig } from "./config.ts";

/** Loads `/config.json`, configures Amplify from it, then renders. */
async function start() {
  const container = document.getElementById("root");
  if (!container) return;
  const root = createRoot(container);
  try {
    const config = await loadRuntimeConfig();
    Amplify.configure(amplifyConfig(config));
    root.render(
      <StrictMode>
        <App config={config} />
      </StrictMode>,
    );
  } catch {
    root.render(
      <div className="splash" role="alert">
        <h1>Veil could not start</h1>
        <p>Its configuration could not be loaded. Please reload the page in a moment.</p>
      </div>,
    );
  }
}

void start();
