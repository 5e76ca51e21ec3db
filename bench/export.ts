/**
 * "Download my data" through a fresh local stack (real PostgreSQL, the function bundles, the local
 * CloudFront): one user with 100 records and 10 images exports everything as the browser does — every
 * page of `GET /api/export`, every ready image through the download route (three at a time), each
 * request with its DPoP proof and each answer opened (the Node client of packages/local), then the
 * ZIP built with the web app's own code (`web/src/export`). Reported, no goal: the wall time of the
 * whole export (median of the rounds), and its parts.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestPostgres } from "../packages/db/src/testing/postgres.ts";
import { signUpAndSignIn } from "../packages/local/src/cognito/client.ts";
import { imageClient } from "../packages/local/src/s3/testing.ts";
import { ephemeralPorts } from "../packages/local/src/stack/config.ts";
import { startLocalStack } from "../packages/local/src/stack/start.ts";
import { jpegFixture } from "../packages/storage/src/testing/images.ts";
import { buildArchive } from "../web/src/export/archive.ts";
import { collectExport } from "../web/src/export/collect.ts";
import type { ExportPage } from "../web/src/export/model.ts";
import { benchStageSettings } from "./_local-stack.ts";
import { median, round } from "./timing.ts";
import type { BenchModule } from "./types.ts";

const recordCount = 100;
const imageCount = 10;

const bench: BenchModule = {
  name: "export",
  description:
    "Download my data: 100 records and 10 images through the local stack, zipped as the browser does",
  async run({ quick, log }) {
    log("starting PostgreSQL and a fresh local stack for the export…");
    const pg = await startTestPostgres();
    const stateDir = mkdtempSync(join(tmpdir(), "veil-bench-export-"));
    const stack = await startLocalStack({
      stateDir,
      ports: ephemeralPorts,
      databaseUrl: pg.connectionString,
      webRoot: stateDir,
      stageSettings: benchStageSettings,
    }).catch(async (err: unknown) => {
      await pg.stop();
      rmSync(stateDir, { recursive: true, force: true });
      throw err;
    });
    try {
      const { accessToken } = await signUpAndSignIn(
        stack.info.cognito.endpoint,
        stack.info.cognito.clientId,
        {
          email: `bench-export-${randomBytes(4).toString("hex")}@users.example.net`,
          password: `Pw-${randomBytes(9).toString("base64url")}-1a`,
        },
      );
      const client = imageClient(stack, accessToken);
      log(`creating ${recordCount} records and ${imageCount} images…`);
      const ids: string[] = [];
      for (let i = 0; i < recordCount; i++) ids.push(await client.createRecord());
      for (let i = 0; i < imageCount; i++) {
        const image = jpegFixture({ width: 16, height: 15, keptBytes: randomBytes(600) }).original;
        const up = await client.upload(ids[i * 10] as string, "image/jpeg", image);
        if (up.image.status !== "ready") throw new Error(`image ${i} was not stored: ${up.image.status}`);
      }

      const rounds = quick ? 2 : 5;
      const totals: number[] = [];
      const pagesMs: number[] = [];
      const imagesMs: number[] = [];
      const zipMs: number[] = [];
      let bytes = 0;
      for (let r = 0; r < rounds; r++) {
        let pagesDone = 0;
        const started = performance.now();
        const input = await collectExport({
          page: async (cursor) => {
            const res = await client.api(
              `/api/export${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ""}`,
            );
            if (res.status !== 200) throw new Error(`export page answered ${res.status}`);
            return (await res.json()) as ExportPage;
          },
          download: async (recordId, imageId) => {
            pagesDone ||= performance.now();
            const res = await client.download(recordId, imageId);
            if (res.status !== 200) throw new Error(`download answered ${res.status}`);
            return res.blob();
          },
        });
        const fetched = performance.now();
        const zip = buildArchive(input);
        const done = performance.now();
        if (input.records.length !== recordCount || input.files.length !== imageCount)
          throw new Error("the export is incomplete");
        bytes = zip.byteLength;
        totals.push(done - started);
        pagesMs.push((pagesDone || fetched) - started);
        imagesMs.push(fetched - (pagesDone || fetched));
        zipMs.push(done - fetched);
      }
      return {
        export_100_records_10_images_ms: {
          value: round(median(totals), 0),
          unit: "ms",
          note: `whole export through the local CloudFront, median of ${rounds} (pages, downloads, zip)`,
        },
        export_pages_ms: {
          value: round(median(pagesMs), 0),
          unit: "ms",
          note: "every page of GET /api/export (50 records each)",
        },
        export_images_ms: {
          value: round(median(imagesMs), 0),
          unit: "ms",
          note: "10 image downloads, three at a time",
        },
        export_zip_ms: {
          value: round(median(zipMs), 1),
          unit: "ms",
          note: "buildArchive (fflate) of the result",
        },
        export_archive_kb: { value: round(bytes / 1024, 0), unit: "KB", note: "the archive's size" },
      };
    } finally {
      await stack.stop();
      await pg.stop();
      rmSync(stateDir, { recursive: true, force: true });
    }
  },
};

export default bench;
