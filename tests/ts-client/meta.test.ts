// Typed meta: outbound meta validated like the payload (the server's `/meta/...` paths,
// `target: "frame"`), inbound meta validated before a handler or a request sees it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ValidationError } from "../../codegen-cli/ts/twinwire-client.js";
import { Audited, Lookup, Tagged, Traced } from "./fixtures/chat-protocol.js";
import { sentinel, setup } from "./harness.js";

test("typed meta is sent beside the standard keys and untyped extras", async (t) => {
  const h = await setup(t);
  const conn = await h.open();
  h.client.send(Traced, { n: 1 }, { meta: { traceId: "t-1", priority: 2, extra: true } });
  const frame = await conn.nextFrame();
  assert.equal(frame.type, "TRACED");
  assert.equal(frame.meta?.["traceId"], "t-1");
  assert.equal(frame.meta?.["priority"], 2);
  assert.equal(frame.meta?.["extra"], true);
  assert.equal(typeof frame.meta?.["timestamp"], "number");
});

test("a bad typed meta throws a ValidationError at /meta/... and sends nothing", async (t) => {
  const h = await setup(t);
  const conn = await h.open();
  const untyped = h.client as unknown as { send(desc: unknown, payload?: unknown, options?: unknown): void };
  for (const [meta, expected] of [
    [undefined, [["/meta/traceId", "required"]]],
    [{ traceId: "" }, [["/meta/traceId", "too_short"]]],
    [{ traceId: "t", priority: 11 }, [["/meta/priority", "too_large"]]],
    [{ traceId: 5 }, [["/meta/traceId", "invalid"]]],
  ] as const) {
    assert.throws(
      () => untyped.send(Traced, { n: 1 }, meta === undefined ? undefined : { meta }),
      (error: unknown) => {
        assert.ok(error instanceof ValidationError);
        assert.equal(error.direction, "outbound");
        assert.equal(error.target, "frame");
        assert.equal(error.messageType, "TRACED");
        assert.deepEqual(
          error.issues.map((i) => [i.path, i.code]),
          expected.map((e) => [...e]),
        );
        return true;
      },
    );
  }
  // An all-optional typed meta may be left out, but what is given is checked.
  h.client.send(Tagged);
  assert.equal((await conn.nextFrame()).type, "TAGGED");
  assert.throws(() => untyped.send(Tagged, undefined, { meta: { tag: "" } }), ValidationError);
  // Nothing refused reached the server: the next frame is the one sent after them.
  h.client.send(Traced, { n: 2 }, { meta: { traceId: "ok" } });
  assert.deepEqual((await conn.nextFrame()).payload, { n: 2 });
});

test("a request with a bad typed meta rejects with the ValidationError", async (t) => {
  const h = await setup(t);
  await h.open();
  const untyped = h.client as unknown as { request(desc: unknown, payload?: unknown, options?: unknown): Promise<unknown> };
  await assert.rejects(untyped.request(Lookup, undefined, { meta: {} }), (error: unknown) => {
    assert.ok(error instanceof ValidationError);
    assert.deepEqual(error.issues.map((i) => [i.path, i.code]), [["/meta/traceId", "required"]]);
    return true;
  });
});

test("inbound typed meta is validated before a handler or a waiting request sees it", async (t) => {
  const h = await setup(t);
  const conn = await h.open();
  const seen: string[] = [];
  h.client.on(Audited, (_payload, meta) => {
    seen.push(meta.region);
  });
  conn.send({ type: "AUDITED", meta: { timestamp: 1, region: "eu" } });
  conn.send({ type: "AUDITED", meta: { timestamp: 2 } });
  conn.send({ type: "AUDITED", meta: { timestamp: 3, region: 5 } });
  await sentinel(h.client, conn);
  assert.deepEqual(seen, ["eu"]);
  const refused = h.errors.filter((e): e is ValidationError => e instanceof ValidationError);
  assert.deepEqual(
    refused.map((e) => [e.direction, e.target, e.issues.map((i) => [i.path, i.code])]),
    [
      ["inbound", "frame", [["/meta/region", "required"]]],
      ["inbound", "frame", [["/meta/region", "invalid"]]],
    ],
  );

  // A reply whose typed meta is bad fails the request.
  const reply = h.client.request(Lookup, undefined, { meta: { traceId: "t" } });
  const request = await conn.nextFrame();
  assert.equal(request.meta?.["traceId"], "t");
  conn.send({ type: "AUDITED", meta: { correlationId: request.meta?.["correlationId"] } });
  await assert.rejects(reply, (error: unknown) => {
    assert.ok(error instanceof ValidationError);
    assert.deepEqual(error.issues.map((i) => [i.path, i.code]), [["/meta/region", "required"]]);
    return true;
  });
  const ok = h.client.request(Lookup, undefined, { meta: { traceId: "t" } });
  const second = await conn.nextFrame();
  conn.send({ type: "AUDITED", meta: { correlationId: second.meta?.["correlationId"], region: "us" } });
  assert.equal(await ok, undefined);
});
