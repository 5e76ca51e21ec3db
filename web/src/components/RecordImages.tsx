import { useEffect, useRef, useState } from "react";
import { checkFile, type ImageInfo, rejectionText } from "../api/images.ts";
import { images } from "../app/images-session.ts";
import { useLoad } from "../app/useLoad.ts";
import { formatDateTime, shortId } from "../format.ts";
import { ErrorNotice } from "./ErrorNotice.tsx";
import { Protection } from "./Protection.tsx";
import "./RecordImages.css";

const kinds: Record<string, { label: string; ext: string }> = {
  "image/jpeg": { label: "JPEG image", ext: "jpg" },
  "image/png": { label: "PNG image", ext: "png" },
  "image/webp": { label: "WebP image", ext: "webp" },
  "application/pdf": { label: "PDF document", ext: "pdf" },
};

function sizeText(bytes: number | undefined): string {
  if (bytes === undefined) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

type Step = "idle" | "encrypting" | "uploading" | "checking";
const stepText: Record<Exclude<Step, "idle">, string> = {
  encrypting: "Encrypting the file in this browser…",
  uploading: "Uploading the encrypted file…",
  checking: "Checking the file and removing its metadata…",
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The images of a record: upload (encrypted in this browser, EXIF and other metadata removed on the
 * server), their status, and — for the owner only — preview and download of the decrypted file.
 */
export function RecordImages({ recordId }: { readonly recordId: string }) {
  const [state, reload] = useLoad(() => images.list(recordId), [recordId]);
  const [step, setStep] = useState<Step>("idle");
  const [error, setError] = useState<unknown>();
  const [message, setMessage] = useState<string>();
  const [previews, setPreviews] = useState<Record<string, string>>({});
  const urls = useRef<string[]>([]);
  const input = useRef<HTMLInputElement>(null);

  useEffect(
    () => () => {
      for (const url of urls.current) URL.revokeObjectURL(url);
    },
    [],
  );

  const objectUrl = (blob: Blob) => {
    const url = URL.createObjectURL(blob);
    urls.current.push(url);
    return url;
  };

  async function upload(file: File) {
    setError(undefined);
    setMessage(undefined);
    const problem = checkFile(file);
    if (problem) return setMessage(problem);
    try {
      const id = await images.upload(recordId, file, setStep);
      setStep("checking");
      for (let i = 0; i < 240; i++) {
        const image = (await images.list(recordId)).find((x) => x.id === id);
        if (image && image.status !== "pending") {
          setMessage(
            image.status === "ready"
              ? "Image added."
              : `The file was refused: ${rejectionText[image.reason ?? ""] ?? "it could not be processed."}`,
          );
          break;
        }
        await sleep(500);
      }
    } catch (err) {
      setError(err);
    } finally {
      setStep("idle");
      if (input.current) input.current.value = "";
      reload();
    }
  }

  async function show(image: ImageInfo) {
    setError(undefined);
    try {
      const url = objectUrl(await images.download(recordId, image.id));
      setPreviews((p) => ({ ...p, [image.id]: url }));
    } catch (err) {
      setError(err);
    }
  }

  async function save(image: ImageInfo) {
    setError(undefined);
    try {
      const a = document.createElement("a");
      a.href = objectUrl(await images.download(recordId, image.id));
      a.download = `image-${shortId(image.id)}.${kinds[image.contentType]?.ext ?? "bin"}`;
      document.body.append(a);
      a.click();
      a.remove();
    } catch (err) {
      setError(err);
    }
  }

  const list = state.status === "ready" ? state.data : [];
  return (
    <section className="card record-images" aria-labelledby="section-images">
      <h2 id="section-images">
        Images and documents
        <Protection encrypted={true} />
      </h2>
      <p className="images-intro">
        JPEG, PNG, WebP or PDF, up to 25 MB. Files are encrypted in this browser before they are uploaded;
        location and camera data are removed before storage.
      </p>
      <div className="images-actions">
        <input
          ref={input}
          id="record-image-file"
          className="images-file"
          type="file"
          accept="image/jpeg,image/png,image/webp,application/pdf"
          disabled={step !== "idle"}
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file) void upload(file);
          }}
        />
        <label
          htmlFor="record-image-file"
          className="button button-secondary"
          aria-disabled={step !== "idle"}
        >
          Add image or PDF
        </label>
        <p role="status" className="small" aria-live="polite">
          {step !== "idle" ? stepText[step] : (message ?? "")}
        </p>
      </div>
      {error ? <ErrorNotice error={error} title="The image action failed" /> : null}
      {state.status === "error" ? (
        <ErrorNotice error={state.error} onRetry={reload} title="The images could not be listed" />
      ) : null}
      {list.length > 0 ? (
        <ul className="image-list" aria-label="Images of this record">
          {list.map((image, i) => (
            <li key={image.id} className="image-item">
              <div>
                <strong>{kinds[image.contentType]?.label ?? image.contentType}</strong>{" "}
                <span className="small">
                  {sizeText(image.size)} · added {formatDateTime(image.createdAt)}
                </span>
                <br />
                {image.status === "ready" ? (
                  <span className="small">Encrypted and stored</span>
                ) : image.status === "pending" ? (
                  <span className="small">Being checked…</span>
                ) : (
                  <span className="small image-status-rejected">
                    Refused: {rejectionText[image.reason ?? ""] ?? "it could not be processed."}
                  </span>
                )}
              </div>
              {image.status === "ready" ? (
                <div className="image-item-actions">
                  {image.contentType !== "application/pdf" && !previews[image.id] ? (
                    <button type="button" className="button button-quiet" onClick={() => void show(image)}>
                      Show
                    </button>
                  ) : null}
                  <button type="button" className="button button-secondary" onClick={() => void save(image)}>
                    Download
                  </button>
                </div>
              ) : (
                <span />
              )}
              {previews[image.id] ? (
                <img
                  className="image-preview"
                  src={previews[image.id]}
                  alt={`Attachment ${i + 1} of this record`}
                />
              ) : null}
            </li>
          ))}
        </ul>
      ) : state.status === "ready" ? (
        <p className="small">No images yet.</p>
      ) : null}
    </section>
  );
}
