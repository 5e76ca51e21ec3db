import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

/**
 * The app runs under `script-src 'self'` (no inline scripts, no eval). Fails the build if the HTML
 * ever gets an inline script or an inline event handler, which the CSP would block at run time.
 */
function noInlineScripts(): Plugin {
  return {
    name: "veil:no-inline-scripts",
    enforce: "post",
    transformIndexHtml: {
      order: "post",
      handler(html) {
        for (const tag of html.match(/<script\b[^>]*>/gi) ?? []) {
          if (!/\bsrc\s*=/.test(tag)) throw new Error(`inline <script> in index.html breaks the CSP: ${tag}`);
        }
        if (/<[^>]+\son[a-z]+\s*=/i.test(html))
          throw new Error("inline event handler in index.html breaks the CSP");
        return html;
      },
    },
  };
}

export default defineConfig({
  plugins: [react(), noInlineScripts()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    // The modulepreload polyfill is not needed by current browsers.
    modulePreload: { polyfill: false },
    // No data: URLs for scripts; assets are files under the same origin.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1200,
  },
  server: { port: 5173, strictPort: false },
});
