// RPC: correlation, replies, RPC_ERROR, progress in both shapes, timeout, abort, late and
// duplicate replies, wrong reply types, and what happens to requests when connections end.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  AbortedError,
  ConnectionClosedError,
  ProtocolError,
  ServerError,
  TimeoutError,
  ValidationError,
} from "../../codegen-cli/ts/twinwire-client.js";
import { Calculate, GetMessages, Logout, Messages, Ping } from "./fixtures/chat-protocol.js";
import { type WireFrame, until } from "./fake-server.js";
import { chatFrame, sentinel, setup } from "./harness.js";

const MESSAGES = { roomId: "general", messages: [] };

function correlationId(frame: WireFrame): string {
  const id = frame.meta?.["correlationId"];
  assert.equal(typeof id, "string", "a request carries a string correlation id");
  return id as string;
}

test("a request resolves with its validated response; ids are unique and replies match by id", async (t) => {
  const h = await setup(t);
  const conn = await h.open();
  const first = h.client.request(GetMessages, { roomId: "general", limit: 5 });
  const second = h.client.request(Calculate, { operation: "multiply", a: 6, b: 7 });
  const a = await conn.nextFrame();
  const b = await conn.nextFrame();
  assert.equal(a.type, "GET_MESSAGES");
  assert.deepEqual(a.payload, { roomId: "general", limit: 5 });
  assert.equal(typeof a.meta?.["timestamp"], "number");
  assert.notEqual(correlationId(a), correlationId(b));
  // Answer out of order: correlation, not order, decides.
  conn.reply(b, "CALCULATE_RESULT", { result: 42 });
  conn.reply(a, "MESSAGES", MESSAGES);
  assert.deepEqual(await second, { result: 42 });
  assert.deepEqual(await first, MESSAGES);
  assert.deepEqual(h.errors, []);
});

test("a payload-less RPC sends no payload and resolves with undefined", async (t) => {
  const h = await setup(t);
  const conn = await h.open();
  const pong = h.client.request(Ping);
  const frame = await conn.nextFrame();
  assert.equal("payload" in frame, false);
  conn.reply(frame, "PONG");
  assert.equal(await pong, undefined);
});

test("RPC_ERROR rejects with a ServerError carrying code, message, details and retry hints", async (t) => {
  const h = await setup(t);
  const conn = await h.open();
  const pending = h.client.request(GetMessages, { roomId: "nowhere" });
  const frame = await conn.nextFrame();
  const issues = [{ path: "/roomId", code: "too_long", message: "too long" }];
  conn.reply(frame, "RPC_ERROR", {
    code: "INVALID_ARGUMENT",
    message: "bad request",
    details: { issues },
    retryable: false,
  });
  const error = await pending.then(
    () => assert.fail("must reject"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ServerError);
  assert.equal(error.kind, "server");
  assert.deepEqual(
    [error.code, error.message, error.retryable, error.retryAfterMs, error.correlationId],
    ["INVALID_ARGUMENT", "bad request", false, undefined, correlationId(frame)],
  );
  assert.deepEqual(error.details, { issues });
  assert.deepEqual(error.issues, issues);

  const limited = h.client.request(GetMessages, { roomId: "general" });
  const frame2 = await conn.nextFrame();
  conn.reply(frame2, "RPC_ERROR", { code: "RESOURCE_EXHAUSTED", message: "slow down", retryAfterMs: 1500 });
  await assert.rejects(limited, (e: unknown) => {
    assert.ok(e instanceof ServerError);
    assert.deepEqual([e.code, e.retryable, e.retryAfterMs], ["RESOURCE_EXHAUSTED", true, 1500]);
    return true;
  });
  assert.deepEqual(h.errors, [], "an RPC error goes to its caller, not to onError");
});

test("a correlated ERROR frame (older WS-Kit) also rejects its request", async (t) => {
  const h = await setup(t);
  const conn = await h.open();
  const pending = h.client.request(GetMessages, { roomId: "general" });
  conn.reply(await conn.nextFrame(), "ERROR", { code: "NOT_FOUND", message: "no room" });
  await assert.rejects(pending, (e: unknown) => e instanceof ServerError && e.code === "NOT_FOUND");
  assert.deepEqual(h.errors, []);
});

test("progress values arrive in order from `payload` (servers) and from `data` (WS-Kit client shape)", async (t) => {
  const h = await setup(t);
  const conn = await h.open();
  const progress: unknown[] = [];
  const pending = h.client.request(
    Calculate,
    { operation: "add", a: 1, b: 2 },
    { onProgress: (value) => progress.push(value) },
  );
  const frame = await conn.nextFrame();
  const id = correlationId(frame);
  conn.send({ type: "$ws:rpc-progress", meta: { correlationId: id }, payload: { percent: 10 } });
  conn.send({ type: "$ws:rpc-progress", meta: { correlationId: id }, data: { percent: 50 } });
  conn.send({ type: "$ws:rpc-progress", meta: { correlationId: id }, payload: 0, data: "ignored: payload wins" });
  conn.send({ type: "$ws:rpc-progress", meta: { correlationId: "someone-else" }, payload: "not ours" });
  conn.reply(frame, "CALCULATE_RESULT", { result: 3 });
  conn.send({ type: "$ws:rpc-progress", meta: { correlationId: id }, payload: "after the end" });
  assert.deepEqual(await pending, { result: 3 });
  await sentinel(h.client, conn);
  assert.deepEqual(progress, [{ percent: 10 }, { percent: 50 }, 0]);
  assert.deepEqual(h.errors, []);
});

test("a request times out with a TimeoutError, sends $ws:abort, and its late reply is ignored", async (t) => {
  const h = await setup(t);
  const conn = await h.open();
  const handled: string[] = [];
  h.client.on(Messages, () => {
    handled.push("MESSAGES");
  });
  h.client.onUnhandled((e) => {
    handled.push(e.type);
  });
  const pending = h.client.request(GetMessages, { roomId: "general" }, { timeoutMs: 30 });
  const frame = await conn.nextFrame();
  await assert.rejects(pending, (e: unknown) => {
    assert.ok(e instanceof TimeoutError);
    assert.deepEqual([e.kind, e.messageType, e.timeoutMs], ["timeout", "GET_MESSAGES", 30]);
    return true;
  });
  const abort = await conn.nextFrame();
  assert.deepEqual(abort, { type: "$ws:abort", meta: { correlationId: correlationId(frame) } });
  conn.reply(frame, "MESSAGES", MESSAGES);
  conn.reply(frame, "RPC_ERROR", { code: "CANCELLED", message: "cancelled" });
  await sentinel(h.client, conn);
  assert.deepEqual(handled, [], "a late reply reaches no handler");
  assert.deepEqual(h.errors, [], "a late reply is not an error");
});

test("a duplicate reply is ignored; the first settles the request", async (t) => {
  const h = await setup(t);
  const conn = await h.open();
  const handled: string[] = [];
  h.client.on(Messages, () => {
    handled.push("MESSAGES");
  });
  const pending = h.client.request(GetMessages, { roomId: "general" });
  const frame = await conn.nextFrame();
  conn.reply(frame, "MESSAGES", MESSAGES);
  conn.reply(frame, "MESSAGES", { roomId: "second", messages: [] });
  conn.reply(frame, "RPC_ERROR", { code: "INTERNAL", message: "late error" });
  assert.deepEqual(await pending, MESSAGES);
  await sentinel(h.client, conn);
  assert.deepEqual(handled, []);
  assert.deepEqual(h.errors, []);
});

test("a reply of the wrong type rejects with a ProtocolError; an invalid reply with a ValidationError", async (t) => {
  const h = await setup(t);
  const conn = await h.open();
  const wrongType = h.client.request(GetMessages, { roomId: "general" });
  conn.reply(await conn.nextFrame(), "CALCULATE_RESULT", { result: 1 });
  await assert.rejects(wrongType, (e: unknown) => {
    assert.ok(e instanceof ProtocolError);
    assert.equal(e.reason, "unexpected_reply");
    assert.match(e.message, /GET_MESSAGES is answered by MESSAGES, but the server replied CALCULATE_RESULT/);
    return true;
  });
  const invalid = h.client.request(GetMessages, { roomId: "general" });
  conn.reply(await conn.nextFrame(), "MESSAGES", { roomId: "general", messages: [{ id: 1 }] });
  await assert.rejects(invalid, (e: unknown) => {
    assert.ok(e instanceof ValidationError);
    assert.equal(e.direction, "inbound");
    assert.equal(e.issues[0]?.path, "/messages/0/id");
    return true;
  });
});

test("an invalid request payload rejects with a ValidationError and sends nothing", async (t) => {
  const h = await setup(t);
  const conn = await h.open();
  await assert.rejects(h.client.request(GetMessages, { roomId: "general", limit: 0 }), (e: unknown) => {
    assert.ok(e instanceof ValidationError);
    assert.deepEqual(
      e.issues.map((i) => [i.path, i.code]),
      [["/limit", "too_small"]],
    );
    return true;
  });
  const next = h.client.request(Ping);
  const frame = await conn.nextFrame();
  assert.equal(frame.type, "PING", "the invalid request never reached the server");
  conn.reply(frame, "PONG");
  await next;
});

test("abort rejects with an AbortedError: before sending, while queued, and after sending ($ws:abort)", async (t) => {
  const h = await setup(t);
  const early = new AbortController();
  early.abort("changed my mind");
  await assert.rejects(h.client.request(Ping, undefined, { signal: early.signal }), (e: unknown) => {
    assert.ok(e instanceof AbortedError);
    assert.equal(e.reason, "changed my mind");
    return true;
  });

  // Queued while connecting, aborted before the connection opens: never sent.
  const queued = new AbortController();
  const connecting = h.client.connect();
  const whileQueued = h.client.request(GetMessages, { roomId: "queued" }, { signal: queued.signal });
  assert.equal(h.client.queued, 1);
  queued.abort();
  await assert.rejects(whileQueued, AbortedError);
  assert.equal(h.client.queued, 0);
  const conn = await h.server.nextConnection();
  await connecting;

  const sent = new AbortController();
  const inFlight = h.client.request(GetMessages, { roomId: "general" }, { signal: sent.signal });
  const frame = await conn.nextFrame();
  assert.deepEqual(frame.payload, { roomId: "general" }, "the aborted queued request was never sent");
  sent.abort();
  await assert.rejects(inFlight, (e: unknown) => e instanceof AbortedError && e.kind === "aborted");
  assert.deepEqual(await conn.nextFrame(), { type: "$ws:abort", meta: { correlationId: correlationId(frame) } });
  conn.reply(frame, "MESSAGES", MESSAGES);
  await sentinel(h.client, conn);
  assert.deepEqual(h.errors, []);
});

test("sendAbortFrames: false keeps timeouts and aborts local", async (t) => {
  const h = await setup(t, { sendAbortFrames: false });
  const conn = await h.open();
  const controller = new AbortController();
  const pending = h.client.request(Ping, undefined, { signal: controller.signal });
  await conn.nextFrame();
  controller.abort();
  await assert.rejects(pending, AbortedError);
  h.client.send(Logout);
  assert.equal((await conn.nextFrame()).type, "LOGOUT", "no $ws:abort went out before it");
});

test("close() rejects pending requests with ConnectionClosedError at once", async (t) => {
  const h = await setup(t);
  const conn = await h.open();
  const pending = h.client.request(GetMessages, { roomId: "general" });
  await conn.nextFrame();
  const closing = h.client.close();
  await assert.rejects(pending, (e: unknown) => {
    assert.ok(e instanceof ConnectionClosedError);
    assert.equal(e.kind, "connection_closed");
    return true;
  });
  await closing;
  assert.equal(h.client.state, "closed");
  await assert.rejects(h.client.request(Ping), ConnectionClosedError, "a closed client refuses requests");
});

test("a dropped connection rejects requests in flight but keeps queued ones for the next connection", async (t) => {
  const h = await setup(t);
  const conn = await h.open();
  const inFlight = h.client.request(GetMessages, { roomId: "in-flight" });
  await conn.nextFrame();
  await h.server.stop();
  await assert.rejects(inFlight, (e: unknown) => e instanceof ConnectionClosedError && e.code === 1001);
  await until(() => h.client.state === "reconnecting", "reconnecting");

  const queued = h.client.request(GetMessages, { roomId: "queued" });
  assert.equal(h.client.queued, 1);
  // Let attempts fail while the request waits in the queue: each failure is a drop too.
  const failures = h.states.filter((s) => s.state === "reconnecting").length;
  await until(() => h.states.filter((s) => s.state === "reconnecting").length >= failures + 2, "two failed attempts");
  assert.equal(h.client.queued, 1, "failed attempts keep the queued request");
  await h.server.restart();
  const conn2 = await h.server.nextConnection();
  const frame = await conn2.nextFrame();
  assert.deepEqual(frame.payload, { roomId: "queued" });
  conn2.reply(frame, "MESSAGES", { roomId: "queued", messages: [] });
  assert.deepEqual(await queued, { roomId: "queued", messages: [] });
  conn2.send(chatFrame("after"));
  await sentinel(h.client, conn2);
});
