import { useEffect, useId, useState } from "react";
import { account } from "../app/account-session.ts";
import { images } from "../app/images-session.ts";
import { endSession } from "../app/session.ts";
import { ErrorNotice } from "../components/ErrorNotice.tsx";
import { Page } from "../components/Page.tsx";
import { archiveName, buildArchive } from "../export/archive.ts";
import { collectExport } from "../export/collect.ts";

/** What the user types to confirm the erasure: deliberate, and the same in every language of the UI. */
export const erasePhrase = "delete my account";

type ExportState =
  | { readonly step: "idle" }
  | { readonly step: "working"; readonly text: string }
  | {
      readonly step: "ready";
      readonly url: string;
      readonly name: string;
      readonly records: number;
      readonly files: number;
    }
  | { readonly step: "error"; readonly error: unknown };

/** "Your data": download everything as one archive, or delete the account. */
export function Account() {
  return (
    <Page
      title="Your data"
      intro="Take a copy of everything you stored, or delete your account and all of it."
    >
      <DownloadSection />
      <DeleteSection />
    </Page>
  );
}

function DownloadSection() {
  const [state, setState] = useState<ExportState>({ step: "idle" });
  // The archive holds plaintext: its object URL lives only while this page is open.
  useEffect(() => () => (state.step === "ready" ? URL.revokeObjectURL(state.url) : undefined), [state]);

  const start = async () => {
    setState({ step: "working", text: "Reading your records…" });
    try {
      const input = await collectExport({
        page: (cursor) => account.exportPage(cursor),
        download: (recordId, imageId) => images.download(recordId, imageId),
        images: (recordId) => images.list(recordId),
        onProgress: (p) =>
          setState({
            step: "working",
            text:
              p.imagesTotal === 0
                ? `Read ${p.records} record${p.records === 1 ? "" : "s"}…`
                : `Fetched ${p.images} of ${p.imagesTotal} images…`,
          }),
      });
      const zip = buildArchive(input);
      const url = URL.createObjectURL(
        new Blob([zip as Uint8Array<ArrayBuffer>], { type: "application/zip" }),
      );
      setState({
        step: "ready",
        url,
        name: archiveName(input.exportedAt),
        records: input.records.length,
        files: input.files.length,
      });
    } catch (error) {
      setState({ step: "error", error });
    }
  };

  return (
    <section className="card" aria-labelledby="download-heading">
      <h2 id="download-heading">Download my data</h2>
      <p>
        One ZIP archive with every record and all its fields (<code>records.json</code>) and every image. It
        is decrypted and put together in this browser; each record and image you download is written to its
        access history.
      </p>
      {state.step === "error" ? (
        <ErrorNotice error={state.error} title="The archive could not be made" />
      ) : null}
      {state.step === "working" ? (
        <p className="loading" role="status" aria-busy="true">
          {state.text}
        </p>
      ) : state.step === "ready" ? (
        <p role="status">
          <a className="button button-primary" href={state.url} download={state.name}>
            Save {state.name}
          </a>{" "}
          {state.records} record{state.records === 1 ? "" : "s"}, {state.files} image
          {state.files === 1 ? "" : "s"}.
        </p>
      ) : (
        <button type="button" className="button button-primary" onClick={() => void start()}>
          Download my data
        </button>
      )}
    </section>
  );
}

function DeleteSection() {
  const [typed, setTyped] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const inputId = useId();
  const confirmed = typed.trim().toLowerCase() === erasePhrase;

  const erase = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await account.deleteAccount();
      await endSession("Your account and all its records and images were deleted.");
    } catch (err) {
      setBusy(false);
      setError(err);
    }
  };

  return (
    <section className="card" aria-labelledby="delete-heading">
      <h2 id="delete-heading">Delete my account</h2>
      <p>
        Erases every record, its history and every image, then your sign-in. This cannot be undone: download
        your data first if you want to keep it. Backups keep encrypted copies for a limited time before they
        expire.
      </p>
      {error ? (
        <ErrorNotice error={error} title="Your account was not deleted completely. Please try again." />
      ) : null}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (confirmed && !busy) void erase();
        }}
      >
        <div className="field">
          <label htmlFor={inputId}>
            Type <strong>{erasePhrase}</strong> to confirm
          </label>
          <input
            id={inputId}
            value={typed}
            onChange={(e) => setTyped(e.target.value)}
            autoComplete="off"
            spellCheck={false}
            disabled={busy}
          />
        </div>
        <button type="submit" className="button button-danger" disabled={!confirmed || busy}>
          {busy ? "Deleting…" : "Delete my account"}
        </button>
      </form>
    </section>
  );
}
