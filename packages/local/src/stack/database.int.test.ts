/**
 * The local stack keeps the role model of AWS on a real PostgreSQL: the admin migrates, the functions
 * log in as veil_app, which owns nothing and cannot touch the audit trail beyond appending to it.
 */
import { createPool } from "@veil/db";
import { startTestPostgres, type TestPostgres } from "@veil/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRecord } from "../proof/checks.ts";
import { canaryFields, makeCanaries, type ProofStack, startProofStack } from "../proof/harness.ts";
import { localAppPassword, prepareLocalDatabase } from "./database.ts";

let pgServer: TestPostgres;
let p: ProofStack;

beforeAll(async () => {
  pgServer = await startTestPostgres();
  p = await startProofStack({ databaseUrl: pgServer.connectionString, logProbe: false });
});

afterAll(async () => {
  await p?.stop();
  await pgServer?.stop();
});

describe("the local database roles", () => {
  it("the functions connect as veil_app, not as the admin who owns the tables", async () => {
    const created = await createRecord(p, p.alice.token, canaryFields(makeCanaries()));
    expect(created.status).toBe(201);
    const admin = createPool({ connectionString: pgServer.connectionString, max: 1 });
    try {
      const { rows } = await admin.query(
        "SELECT DISTINCT usename FROM pg_stat_activity WHERE application_name = 'veil' AND datname = current_database() AND pid <> pg_backend_pid()",
      );
      expect(rows).toEqual([{ usename: "veil_app" }]);
      const { rows: owners } = await admin.query(
        "SELECT DISTINCT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE relnamespace = 'public'::regnamespace",
      );
      expect(owners).toEqual([{ owner: "postgres" }]);
    } finally {
      await admin.end();
    }
  });

  it("gives the functions a password login that cannot erase the audit trail", async () => {
    const db = await prepareLocalDatabase(pgServer.connectionString, { singleSession: false });
    expect(db.functionRole).toBe("veil_app");
    expect(new URL(db.functionUrl).password).toBe(localAppPassword(pgServer.connectionString));
    const app = createPool({ connectionString: db.functionUrl, max: 1 });
    try {
      expect((await app.query("SELECT current_user AS u")).rows[0].u).toBe("veil_app");
      for (const text of ["DELETE FROM audit_events", "ALTER TABLE audit_events DISABLE TRIGGER ALL"])
        await expect(app.query(text), text).rejects.toMatchObject({ code: "42501" });
    } finally {
      await app.end();
    }
    // PGlite (one session, one user) keeps the admin connection.
    expect(await prepareLocalDatabase(pgServer.connectionString, { singleSession: true })).toEqual({
      functionUrl: pgServer.connectionString,
      functionRole: "postgres",
    });
  });
});
