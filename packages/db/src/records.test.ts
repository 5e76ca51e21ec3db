import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ConflictError,
  InvalidCursorError,
  NotFoundError,
  QueryError,
  VersionConflictError,
} from "./errors.ts";
import * as records from "./records.ts";
import { newOwner, openTestDb, type TestDb } from "./testing/support.ts";

const bytes = (...b: number[]) => Buffer.from(b);

describe("records", { timeout: 60_000 }, () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openTestDb();
  }, 60_000);
  afterAll(() => db?.close());

  const create = (ownerId: string, category = "general") =>
    records.insert(db.pool, { id: records.newRecordId(), ownerId, category, ciphertext: bytes(1, 2, 3) });

  it("stores and returns a record byte for byte", async () => {
    const owner = newOwner();
    const created = await create(owner, "cardiology");
    expect(created.version).toBe(1);
    const got = await records.get(db.pool, owner, created.id);
    expect(got).toEqual(created);
    expect(Buffer.compare(got.ciphertext, bytes(1, 2, 3))).toBe(0);
  });

  it("scopes every operation to the owner: another owner's record is simply not found", async () => {
    const owner = newOwner();
    const intruder = newOwner();
    const r = await create(owner);
    await expect(records.get(db.pool, intruder, r.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      records.update(db.pool, {
        id: r.id,
        ownerId: intruder,
        expectedVersion: 1,
        category: "x",
        ciphertext: bytes(9),
      }),
    ).rejects.toBeInstanceOf(NotFoundError);
    await expect(records.remove(db.pool, { id: r.id, ownerId: intruder })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    expect((await records.list(db.pool, intruder)).items).toEqual([]);
    expect(await records.get(db.pool, owner, r.id)).toEqual(r);
  });

  it("treats ids that are no uuid as not found, without a database error", async () => {
    await expect(records.get(db.pool, newOwner(), "../etc/passwd")).rejects.toBeInstanceOf(NotFoundError);
  });

  it("finds a record by its one spelling only: other spellings of its uuid are not found, nothing changes", async () => {
    const owner = newOwner();
    const r = await create(owner);
    const spellings = [
      r.id.toUpperCase(),
      r.id.replace(/[a-f]/, (c) => c.toUpperCase()),
      `{${r.id}}`,
      r.id.replaceAll("-", ""),
      ` ${r.id}`,
    ].filter((s) => s !== r.id);
    for (const id of spellings) {
      await expect(records.get(db.pool, owner, id), id).rejects.toBeInstanceOf(NotFoundError);
      await expect(
        records.update(db.pool, {
          id,
          ownerId: owner,
          expectedVersion: 1,
          category: "x",
          ciphertext: bytes(9),
        }),
        id,
      ).rejects.toBeInstanceOf(NotFoundError);
      await expect(records.remove(db.pool, { id, ownerId: owner }), id).rejects.toBeInstanceOf(NotFoundError);
    }
    expect(await records.get(db.pool, owner, r.id)).toEqual(r);
  });

  it("updates with optimistic concurrency", async () => {
    const owner = newOwner();
    const r = await create(owner);
    const v2 = await records.update(db.pool, {
      id: r.id,
      ownerId: owner,
      expectedVersion: 1,
      category: "neurology",
      ciphertext: bytes(4, 5),
    });
    expect(v2).toMatchObject({
      version: 2,
      category: "neurology",
      ciphertext: bytes(4, 5),
      createdAt: r.createdAt,
    });
    const stale = records.update(db.pool, {
      id: r.id,
      ownerId: owner,
      expectedVersion: 1,
      category: "other",
      ciphertext: bytes(6),
    });
    await expect(stale).rejects.toBeInstanceOf(VersionConflictError);
    await expect(stale).rejects.toMatchObject({ expectedVersion: 1, actualVersion: 2, status: 412 });
    expect(await records.get(db.pool, owner, r.id)).toEqual(v2);
  });

  it("removes a record, optionally only at the expected version", async () => {
    const owner = newOwner();
    const r = await create(owner);
    await expect(
      records.remove(db.pool, { id: r.id, ownerId: owner, expectedVersion: 7 }),
    ).rejects.toBeInstanceOf(VersionConflictError);
    await records.remove(db.pool, { id: r.id, ownerId: owner, expectedVersion: 1 });
    await expect(records.get(db.pool, owner, r.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(records.remove(db.pool, { id: r.id, ownerId: owner })).rejects.toBeInstanceOf(NotFoundError);
  });

  it("lists newest first in stable pages", async () => {
    const owner = newOwner();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await create(owner)).id);
    await create(newOwner()); // someone else's
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await records.list(db.pool, owner, { limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((r) => r.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen.sort()).toEqual([...ids].sort());
    const all = (await records.list(db.pool, owner, { limit: 100 })).items;
    const times = all.map((r) => r.createdAt.getTime());
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it("lists metadata in the same pages, without the ciphertexts", async () => {
    const owner = newOwner();
    for (let i = 0; i < 5; i++) await create(owner);
    const walk = async (list: typeof records.list | typeof records.listMetadata) => {
      const pages: string[][] = [];
      let cursor: string | undefined;
      do {
        const page = await list(db.pool, owner, { limit: 2, ...(cursor ? { cursor } : {}) });
        pages.push(page.items.map((r) => r.id));
        cursor = page.nextCursor;
      } while (cursor);
      return pages;
    };
    expect(await walk(records.listMetadata)).toEqual(await walk(records.list));
    const [meta] = (await records.listMetadata(db.pool, owner, { limit: 1 })).items;
    const [full] = (await records.list(db.pool, owner, { limit: 1 })).items;
    expect(meta).not.toHaveProperty("ciphertext");
    expect({ ...meta, ciphertext: full?.ciphertext }).toEqual(full);
  });

  it("refuses a cursor it did not issue with InvalidCursorError (400), for both lists", async () => {
    const owner = newOwner();
    await create(owner);
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    const id = records.newRecordId();
    const bad = [
      "",
      "garbage!",
      "%FF%FE",
      "' OR 1=1",
      "A".repeat(4000),
      b64(["2026-01-01T00:00:00.000Z"]),
      b64(["not a date", id]),
      b64(["2026-01-01T00:00:00.000Z", id.toUpperCase()]),
      b64(["2026-01-01T00:00:00.000Z", id, "extra"]),
      b64({ at: "2026-01-01T00:00:00.000Z", id }),
    ];
    for (const cursor of bad) {
      for (const list of [records.list, records.listMetadata]) {
        const err = await list(db.pool, owner, { cursor }).catch((e: unknown) => e);
        expect(err, cursor.slice(0, 20)).toBeInstanceOf(InvalidCursorError);
        expect((err as InvalidCursorError).status).toBe(400);
        expect((err as Error).message).not.toContain(cursor.slice(0, 8) || "\u0000");
      }
    }
    // A well-formed cursor past the end is simply an empty page.
    const end = b64(["1970-01-01T00:00:00.000Z", id]);
    expect(await records.list(db.pool, owner, { cursor: end })).toEqual({ items: [] });
  });

  it("pages thousands of records on the keyset index: no sort, no scan of other rows, at any depth", async () => {
    const owner = newOwner();
    // 3,000 records of one owner and 3,000 of others, a few per millisecond (ties broken by id).
    await db.pool.query(
      `INSERT INTO records (id, owner_id, category, ciphertext, created_at, updated_at)
       SELECT gen_random_uuid(), CASE WHEN i % 2 = 0 THEN $1 ELSE 'other-' || (i % 7) END, 'general', '\\x01',
              timestamptz '2026-01-01' + (i / 3) * interval '1 millisecond', now()
       FROM generate_series(1, 6000) AS i`,
      [owner],
    );
    await db.pool.query("ANALYZE records");
    const seen = new Set<string>();
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await records.listMetadata(db.pool, owner, { limit: 100, ...(cursor ? { cursor } : {}) });
      for (const r of page.items) seen.add(r.id);
      cursor = page.nextCursor;
      pages++;
      if (pages === 15 && cursor) {
        // Half-way down: the plan of the next page.
        const after = JSON.parse(Buffer.from(cursor, "base64url").toString()) as [string, string];
        const plan = await db.pool.query(
          `EXPLAIN (FORMAT JSON) SELECT id FROM records
           WHERE owner_id = $1 AND (created_at, id) < ($2::timestamptz, $3::uuid)
           ORDER BY created_at DESC, id DESC LIMIT 101`,
          [owner, after[0], after[1]],
        );
        const text = JSON.stringify(plan.rows[0]);
        expect(text).toContain("records_owner_created_idx");
        expect(text).not.toContain('"Sort"');
        expect(text).not.toContain("Seq Scan");
        // The cursor bounds the index scan itself (an Index Cond), not a filter over skipped rows.
        expect(text).toMatch(/"Index Cond":"[^"]*created_at[^"]*id/);
      }
    } while (cursor);
    expect(seen.size).toBe(3000);
    expect(pages).toBe(30);
  });

  it("reports a duplicate id as a conflict", async () => {
    const owner = newOwner();
    const r = await create(owner);
    const again = records.insert(db.pool, {
      id: r.id,
      ownerId: owner,
      category: "general",
      ciphertext: bytes(0),
    });
    await expect(again).rejects.toBeInstanceOf(ConflictError);
  });

  it("never echoes a parameter value in an error", async () => {
    const canary = "CANARY-Ada-Muster-1980";
    const attempts = [
      // DETAIL: Key (id)=(…) already exists
      async () => {
        const r = await create(canary);
        await records.insert(db.pool, {
          id: r.id,
          ownerId: canary,
          category: "general",
          ciphertext: bytes(0),
        });
      },
      // invalid input syntax for type uuid: "…"
      () => records.insert(db.pool, { id: canary, ownerId: "o", category: "general", ciphertext: bytes(0) }),
      // new row violates check constraint (DETAIL: Failing row contains (…))
      () =>
        records.insert(db.pool, {
          id: records.newRecordId(),
          ownerId: "o",
          category: `${canary}${"x".repeat(40)}`,
          ciphertext: bytes(0),
        }),
    ];
    for (const attempt of attempts) {
      const error = await attempt().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(Error);
      expect(error instanceof ConflictError || error instanceof QueryError).toBe(true);
      const e = error as Error;
      const everything = `${e.message}\n${e.stack}\n${JSON.stringify(e)}\n${String((e as { cause?: unknown }).cause)}`;
      expect(everything).not.toContain("CANARY");
    }
  });
});
