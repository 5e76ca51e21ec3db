// Over 300 lines: one database and role setup shared by every grant check.
import { randomUUID } from "node:crypto";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as account from "./account.ts";
import { appRoleNoAccess, appTablePrivileges } from "./app-privileges.ts";
import { AppRoleError, grantAppRole } from "./app-role.ts";
import * as audit from "./audit.ts";
import { NotFoundError, VersionConflictError } from "./errors.ts";
import * as idempotency from "./idempotency.ts";
import * as imageDeletions from "./image-deletions.ts";
import * as images from "./images.ts";
import { migrate } from "./migrate.ts";
import { migrations } from "./migrations.ts";
import { createPool } from "./pool.ts";
import * as proofs from "./proofs.ts";
import * as records from "./records.ts";
import { newOwner, openTestDb, type TestDb } from "./testing/support.ts";
import { withTransaction } from "./transaction.ts";

/** Throw-away server only; a fixed value keeps parallel runs on one shared cluster from fighting. */
const password = "veil-app-test-password";

/** A pool logging in as `role` to the database of `url` (an admin connection string). */
const poolAs = (url: string, role: string) => {
  const u = new URL(url);
  u.username = role;
  u.password = password;
  return createPool({ connectionString: u.toString(), max: 2 });
};

/** A role name no other test (or earlier run on a shared cluster) uses. */
const newRoleName = () => `veil_t_${randomUUID().replaceAll("-", "").slice(0, 12)}`;

const denied = { code: "42501" };

describe("the app role", { timeout: 60_000 }, () => {
  let db: TestDb;
  let app: pg.Pool;
  beforeAll(async () => {
    db = await openTestDb();
    await grantAppRole(db.pool, { iam: false, password });
    app = poolAs(db.server.connectionString, "veil_app");
  }, 60_000);
  afterAll(async () => {
    await app?.end();
    await db?.close();
  });

  /** A freshly migrated database with the role applied: for tests that change the schema's state. */
  async function freshDb(prepare?: (admin: pg.Pool) => Promise<unknown>) {
    const url = await db.freshDatabase();
    const admin = createPool({ connectionString: url, max: 1 });
    await migrate(admin);
    await prepare?.(admin);
    await grantAppRole(admin, { iam: false, password });
    const asApp = poolAs(url, "veil_app");
    return {
      admin,
      app: asApp,
      end: () => Promise.all([admin.end(), asApp.end()]),
    };
  }

  it("is a login role without superuser, createdb, createrole, bypassrls or replication, owning nothing", async () => {
    const { rows } = await db.pool.query(
      `SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolbypassrls, rolreplication,
              (SELECT count(*)::int FROM pg_class WHERE relowner = r.oid) AS owned
       FROM pg_roles r WHERE rolname = 'veil_app'`,
    );
    expect(rows[0]).toEqual({
      rolcanlogin: true,
      rolsuper: false,
      rolcreatedb: false,
      rolcreaterole: false,
      rolbypassrls: false,
      rolreplication: false,
      owned: 0,
    });
    const { rows: tables } = await db.pool.query(
      "SELECT DISTINCT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE relnamespace = 'public'::regnamespace",
    );
    expect(tables).toEqual([{ owner: "postgres" }]);
    const { rows: who } = await app.query("SELECT current_user AS who");
    expect(who[0].who).toBe("veil_app");
  });

  it("runs every repository function as veil_app", async () => {
    const owner = newOwner();
    const exercised = {
      records: ["newRecordId", "insert", "get", "list", "listMetadata", "update", "remove"],
      images: [
        "createPending",
        "get",
        "getById",
        "listForRecord",
        "listForRecords",
        "idsForOwner",
        "pendingForOwner",
        "markReady",
        "markRejected",
        "markRejectedMany",
      ],
      audit: ["append", "appendMany", "listForRecord"],
      idempotency: ["claim", "complete", "find", "purgeOlderThan"],
      imageDeletions: ["claim", "claimForOwner", "complete", "recordFailure"],
      proofs: ["recordUse", "revokeSessions", "revokeSubject", "purgeExpired"],
      account: ["erase"],
    };
    // A repository function added later must be exercised here too (its grants with it).
    for (const [name, mod] of Object.entries({
      records,
      images,
      audit,
      idempotency,
      imageDeletions,
      account,
      proofs,
    })) {
      const functions = Object.entries(mod).filter(([, v]) => typeof v === "function");
      expect(
        functions.map(([k]) => k).sort(),
        `${name}: exported functions not exercised as veil_app`,
      ).toEqual([...exercised[name as keyof typeof exercised]].sort());
    }

    const id = records.newRecordId();
    await withTransaction(app, async (tx) => {
      expect(await idempotency.claim(tx, { ownerId: owner, key: "k1", requestHash: "h" })).toEqual({
        state: "claimed",
      });
      await records.insert(tx, { id, ownerId: owner, category: "general", ciphertext: Buffer.from([1]) });
      await audit.append(tx, {
        ownerId: owner,
        actor: owner,
        action: "create",
        recordId: id,
        requestId: "r",
      });
      await idempotency.complete(tx, { ownerId: owner, key: "k1", recordId: id, status: 201 });
    });
    expect((await idempotency.find(app, owner, "k1"))?.status).toBe(201);
    expect((await records.get(app, owner, id)).version).toBe(1);
    expect((await records.list(app, owner, { limit: 1 })).items.map((r) => r.id)).toEqual([id]);
    expect((await records.listMetadata(app, owner, { limit: 1 })).items.map((r) => r.id)).toEqual([id]);
    const updated = await records.update(app, {
      id,
      ownerId: owner,
      expectedVersion: 1,
      category: "oncology",
      ciphertext: Buffer.from([2]),
    });
    expect(updated.version).toBe(2);
    await expect(
      records.update(app, {
        id,
        ownerId: owner,
        expectedVersion: 1,
        category: "x",
        ciphertext: Buffer.from([3]),
      }),
    ).rejects.toBeInstanceOf(VersionConflictError);

    const expires = new Date(Date.now() + 60_000);
    const image = await images.createPending(app, {
      id: randomUUID(),
      ownerId: owner,
      recordId: id,
      contentType: "image/png",
      declaredSize: 10,
      uploadExpiresAt: expires,
    });
    const other = await images.createPending(app, {
      id: randomUUID(),
      ownerId: owner,
      recordId: id,
      contentType: "image/jpeg",
      declaredSize: 5,
      uploadExpiresAt: expires,
    });
    const ready = await images.markReady(app, {
      id: image.id,
      ownerId: owner,
      contentType: "image/png",
      size: 9,
      objectVersion: "v1",
    });
    expect(ready.status).toBe("ready");
    expect(await images.markRejected(app, { id: other.id, ownerId: owner, reason: "tooLarge" })).toBe(true);
    expect((await images.get(app, owner, id, image.id)).size).toBe(9);
    expect((await images.getById(app, other.id))?.status).toBe("rejected");
    expect((await images.listForRecord(app, owner, id)).map((i) => i.id).sort()).toEqual(
      [image.id, other.id].sort(),
    );
    await audit.append(app, { ownerId: owner, actor: owner, action: "image.upload", recordId: id });
    expect(
      await audit.appendMany(app, [{ ownerId: owner, actor: owner, action: "list", recordId: id }]),
    ).toBe(1);
    expect((await audit.listForRecord(app, owner, id)).map((e) => e.action)).toEqual([
      "create",
      "image.upload",
      "list",
    ]);

    // Deleting a record takes its images along (the cascade runs with the owner's rights).
    await records.remove(app, { id, ownerId: owner, expectedVersion: 2 });
    await expect(records.get(app, owner, id)).rejects.toBeInstanceOf(NotFoundError);
    expect(await images.getById(app, image.id)).toBeUndefined();
    // …and queues the ready one's stored object for the image cleanup (the trigger runs in the cascade).
    await withTransaction(app, async (tx) => {
      const due = (await imageDeletions.claim(tx, 1000)).filter((d) => d.recordId === id);
      expect(due.map((d) => d.imageId)).toEqual([image.id]);
      await imageDeletions.recordFailure(tx, [image.id]);
      expect(await imageDeletions.complete(tx, [image.id])).toBe(1);
    });
    expect(await idempotency.purgeOlderThan(app, new Date(Date.now() + 60_000))).toBeGreaterThanOrEqual(1);

    const proof = { jti: randomUUID(), originJti: randomUUID(), ownerId: owner, jkt: "k".repeat(43) };
    expect(await proofs.recordUse(app, { ...proof, rememberSeconds: 0 })).toEqual({
      fresh: true,
      revoked: false,
      binding: { ownerId: owner, jkt: proof.jkt },
    });
    expect(
      await proofs.purgeExpired(app, { sessionsBefore: new Date(Date.now() + 60_000) }),
    ).toBeGreaterThanOrEqual(1);
    const revokedOwner = newOwner();
    await proofs.recordUse(app, { ...proof, jti: randomUUID(), ownerId: revokedOwner, rememberSeconds: 0 });
    expect(await proofs.revokeSessions(app, revokedOwner)).toBe(1);
    await proofs.revokeSubject(app, revokedOwner);
    await proofs.revokeSubject(app, revokedOwner);
    expect(
      await proofs.purgeExpired(app, { revokedBefore: new Date(Date.now() + 60_000) }),
    ).toBeGreaterThanOrEqual(2);
    // An account erasure: a page's batch audit, the images of several records, the owner's queue.
    const kept = records.newRecordId();
    await records.insert(app, {
      id: kept,
      ownerId: owner,
      category: "general",
      ciphertext: Buffer.from([1]),
    });
    const last = await images.createPending(app, {
      id: randomUUID(),
      ownerId: owner,
      recordId: kept,
      contentType: "image/png",
      declaredSize: 10,
      uploadExpiresAt: expires,
    });
    await images.markReady(app, {
      id: last.id,
      ownerId: owner,
      contentType: "image/png",
      size: 9,
      objectVersion: "v",
    });
    expect(
      await audit.appendMany(app, [{ ownerId: owner, actor: owner, action: "export", recordId: kept }]),
    ).toBe(1);
    expect((await images.listForRecords(app, owner, [kept, id])).map((i) => i.id)).toEqual([last.id]);
    expect((await images.idsForOwner(app, owner)).map((i) => i.id)).toEqual([last.id]);
    expect(await images.pendingForOwner(app, owner, 10)).toEqual([]);
    expect(await images.markRejectedMany(app, owner, [last.id], "expired")).toBe(0);
    const erased = await withTransaction(app, (tx) => account.erase(tx, owner));
    expect(erased).toMatchObject({ records: 1, images: 1 });
    expect(erased.auditEvents).toBe(4); // create, list, image.upload, export
    await withTransaction(app, async (tx) => {
      const due = await imageDeletions.claimForOwner(tx, owner);
      expect(due.map((d) => d.imageId)).toEqual([last.id]);
      await imageDeletions.complete(tx, [last.id]);
    });
  });

  it("cannot UPDATE, DELETE or TRUNCATE audit_events, even with the owner's triggers switched off", async () => {
    // The owner (or a superuser) can switch the append-only triggers off; the role's grants still hold.
    const f = await freshDb((admin) => admin.query("ALTER TABLE audit_events DISABLE TRIGGER USER"));
    try {
      const owner = newOwner();
      const event = await audit.append(f.app, { ownerId: owner, actor: owner, action: "read" });
      for (const text of [
        "UPDATE audit_events SET action = 'list'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
      ])
        await expect(f.app.query(text), text).rejects.toMatchObject(denied);
      expect((await f.admin.query("SELECT count(*)::int AS n FROM audit_events")).rows[0].n).toBe(1);
      expect(event.action).toBe("read");
    } finally {
      await f.end();
    }
  });

  it("cannot switch the audit triggers off, backdate an event, pick its id or reset the sequence", async () => {
    for (const text of [
      "ALTER TABLE audit_events DISABLE TRIGGER ALL",
      "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete",
      "INSERT INTO audit_events (owner_id, actor, action, at) VALUES ('o', 'o', 'read', now() - interval '1 year')",
      "INSERT INTO audit_events (id, owner_id, actor, action) VALUES (1, 'o', 'o', 'read')",
      "SELECT setval('audit_events_id_seq', 1)",
      "SELECT last_value FROM audit_events_id_seq",
    ])
      await expect(app.query(text), text).rejects.toMatchObject(denied);
  });

  it("cannot DROP, ALTER or TRUNCATE any table, nor move a row to another owner", async () => {
    for (const table of [...Object.keys(appTablePrivileges), ...appRoleNoAccess]) {
      for (const text of [
        `DROP TABLE ${table}`,
        `ALTER TABLE ${table} ADD COLUMN x int`,
        `ALTER TABLE ${table} OWNER TO veil_app`,
        `TRUNCATE ${table}`,
      ])
        await expect(app.query(text), text).rejects.toMatchObject(denied);
    }
    for (const table of ["records", "images", "idempotency_keys"])
      await expect(app.query(`UPDATE ${table} SET owner_id = 'someone-else'`), table).rejects.toMatchObject(
        denied,
      );
    await expect(app.query("DELETE FROM images")).rejects.toMatchObject(denied);
  });

  it("cannot CREATE in schema public, even on a database where PUBLIC could (PostgreSQL 14 and older)", async () => {
    const f = await freshDb((admin) => admin.query("GRANT CREATE ON SCHEMA public TO PUBLIC"));
    try {
      for (const text of [
        "CREATE TABLE mine (x int)",
        "CREATE FUNCTION mine() RETURNS int LANGUAGE sql AS 'SELECT 1'",
      ])
        await expect(f.app.query(text), text).rejects.toMatchObject(denied);
    } finally {
      await f.end();
    }
  });

  it("cannot read schema_migrations, and loses privileges granted outside the declaration", async () => {
    const f = await freshDb(async (admin) => {
      await admin.query("GRANT SELECT ON schema_migrations TO PUBLIC");
      await admin.query("GRANT ALL ON ALL TABLES IN SCHEMA public TO veil_app");
      await admin.query("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO veil_app");
    });
    try {
      await expect(f.app.query("SELECT * FROM schema_migrations")).rejects.toMatchObject(denied);
      await expect(f.app.query("UPDATE records SET owner_id = 'x'")).rejects.toMatchObject(denied);
      await expect(f.app.query("UPDATE audit_events SET action = 'x'")).rejects.toMatchObject(denied);
      await expect(f.app.query("SELECT setval('audit_events_id_seq', 1)")).rejects.toMatchObject(denied);
    } finally {
      await f.end();
    }
  });

  it("declares every table of the schema, granted or deliberately not", async () => {
    const { rows } = await db.pool.query<{ relname: string }>(
      "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p', 'v', 'm') ORDER BY 1",
    );
    expect(rows.map((r) => r.relname)).toEqual(
      [...Object.keys(appTablePrivileges), ...appRoleNoAccess].sort(),
    );
  });

  it("creates the role once, strips forbidden attributes from an existing one and keeps it idempotent", async () => {
    const role = newRoleName();
    const first = await grantAppRole(db.pool, { role, iam: false });
    expect(first).toMatchObject({ role, created: true, iam: false });
    expect((await grantAppRole(db.pool, { role, iam: false })).created).toBe(false);
    await db.pool.query(`ALTER ROLE ${role} NOLOGIN CREATEDB CREATEROLE`);
    await grantAppRole(db.pool, { role, iam: false });
    const { rows } = await db.pool.query(
      "SELECT rolcanlogin, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = $1",
      [role],
    );
    expect(rows[0]).toEqual({ rolcanlogin: true, rolcreatedb: false, rolcreaterole: false });
  });

  it("refuses a role that owns objects or belongs to another role, changing nothing", async () => {
    const owning = newRoleName();
    await grantAppRole(db.pool, { role: owning, iam: false });
    const url = await db.freshDatabase();
    const admin = createPool({ connectionString: url, max: 1 });
    try {
      await migrate(admin);
      await admin.query(`CREATE TABLE stray (x int)`);
      await admin.query(`ALTER TABLE stray OWNER TO ${owning}`);
      await expect(grantAppRole(admin, { role: owning, iam: false })).rejects.toBeInstanceOf(AppRoleError);
      const { rows } = await admin.query("SELECT has_table_privilege($1, 'records', 'SELECT') AS can", [
        owning,
      ]);
      expect(rows[0].can).toBe(false);
    } finally {
      await admin.end();
    }
    const member = newRoleName();
    await grantAppRole(db.pool, { role: member, iam: false });
    await db.pool.query(`GRANT pg_read_all_data TO ${member}`);
    await expect(grantAppRole(db.pool, { role: member, iam: false })).rejects.toThrow(
      /member of pg_read_all_data/,
    );
  });

  it("grants rds_iam only with iam, and only where rds_iam exists", async () => {
    const isMember = async (role: string) =>
      (
        await db.pool.query(
          "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rds_iam') AND pg_has_role($1, 'rds_iam', 'MEMBER') AS m",
          [role],
        )
      ).rows[0].m;
    const a = newRoleName();
    const b = newRoleName();
    await db.pool.query(
      "DO $$ BEGIN CREATE ROLE rds_iam NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$",
    );
    expect((await grantAppRole(db.pool, { role: a, iam: false })).iam).toBe(false);
    expect(await isMember(a)).toBe(false);
    expect((await grantAppRole(db.pool, { role: b, iam: true })).iam).toBe(true);
    expect(await isMember(b)).toBe(true);
    expect((await grantAppRole(db.pool, { role: b, iam: true })).iam).toBe(true);
  });

  it("migrate applies the role with the migrations; a later table gets nothing until declared", async () => {
    const url = await db.freshDatabase();
    const admin = createPool({ connectionString: url, max: 1 });
    const asApp = poolAs(url, "veil_app");
    try {
      const later = [
        ...migrations,
        { version: 9999, name: "later", sql: "CREATE TABLE later_table (x int)" },
      ];
      const result = await migrate(admin, later, { appRole: { iam: false, password } });
      expect(result.appRole).toMatchObject({ role: "veil_app", tables: Object.keys(appTablePrivileges) });
      const owner = newOwner();
      await records.insert(asApp, {
        id: records.newRecordId(),
        ownerId: owner,
        category: "c",
        ciphertext: Buffer.from([1]),
      });
      await expect(asApp.query("SELECT * FROM later_table")).rejects.toMatchObject(denied);
      // Code older than the database leaves the newer code's grants alone.
      expect((await migrate(admin, migrations, { appRole: { iam: false } })).appRole).toBeUndefined();
    } finally {
      await Promise.all([admin.end(), asApp.end()]);
    }
  });
});
