// Messages both ways: outbound framing and validation, inbound validation and dispatch,
// error frames, heartbeats, and misuse from untyped code.
import assert from "node:assert/strict";
import { test } from "node:test";
import { HandlerError, ProtocolError, ServerError, ValidationError, type InboundEnvelope } from "../../codegen-cli/ts/twinwire-client.js";
import { type Chat, ChatMessage, GetMessages, Logout, SendMessage, SessionExpired, UserTyping } from "./fixtures/chat-protocol.js";
import { chatFrame, sentinel, setup } from "./harness.js";

test("send writes the envelope with a timestamp, the payload and extra meta", async (t) => {
  const h = await setup(t);
  const conn = await h.open();
  const before = Date.now();
  h.client.send(SendMessage, { roomId: "general", text: "hello" }, { meta: { trace: "t-1" } });
  const frame = await conn.nextFrame();
  assert.equal(frame.type, "SEND_MESSAGE");
  assert.deepEqual(frame.payload, { roomId: "general", text: "hello" });
  assert.equal(frame.meta?.["trace"], "t-1");
  assert.equal(typeof frame.meta?.["timestamp"], "number");
  assert.ok((frame.meta?.["timestamp"] as number) >= before);
  assert.equal(frame.meta?.["correlationId"], undefined, "plain messages carry no correlation id");
});

test("a payload-less message is sent without a payload key", async (t) => {
  const h = await setup(t);
  const conn = await h.open();
  h.client.send(Logout);
  const frame = await conn.nextFrame();
  assert.equal(frame.type, "LOGOUT");
  assert.equal("payload" in frame, false);
});

test("an invalid outbound payload throws a ValidationError with the server's paths and sends nothing", async (t) => {
  const h = await setup(t);
  const conn = await h.open();
  const bad = { roomId: "", text: "x".repeat(1001), attachment: { url: "not a url" } };
  assert.throws(
    () => h.client.send(SendMessage, bad),
    (error: unknown) => {
      assert.ok(error instanceof ValidationError);
      assert.equal(error.kind, "validation");
      assert.equal(error.direction, "outbound");
      assert.equal(error.target, "payload");
      assert.equal(error.messageType, "SEND_MESSAGE");
      assert.deepEqual(
        error.issues.map((i) => [i.path, i.code]),
        [
          ["/roomId", "too_short"],
          ["/text", "too_long"],
          ["/attachment/url", "url"],
        ],
      );
      return true;
    },
  );
  // Sent after the refused one: it must be the first frame the server sees.
  h.client.send(Logout);
  assert.equal((await conn.nextFrame()).type, "LOGOUT");
});

test("server messages reach their handlers with typed payload and meta; unsubscribing stops them", async (t) => {
  const h = await setup(t);
  const conn = await h.open();
  const got: { id: string; meta: unknown }[] = [];
  const off = h.client.on(ChatMessage, (message, meta) => {
    got.push({ id: message.id, meta });
  });
  const unhandled: InboundEnvelope<typeof Chat>[] = [];
  h.client.onUnhandled((envelope) => {
    unhandled.push(envelope);
  });
  conn.send(chatFrame("m1", { trace: "x" }));
  conn.send({ type: "SESSION_EXPIRED" });
  await sentinel(h.client, conn, "s1");
  assert.deepEqual(got, [{ id: "m1", meta: { timestamp: 1, trace: "x" } }]);
  assert.deepEqual(unhandled, [{ type: "SESSION_EXPIRED", meta: {}, payload: undefined }]);

  off();
  conn.send(chatFrame("m2"));
  conn.send({ type: "USER_TYPING", payload: { roomId: "general", userId: "u2", typing: true } });
  await sentinel(h.client, conn, "s2");
  assert.equal(got.length, 1, "an unsubscribed handler sees nothing");
  assert.deepEqual(
    unhandled.slice(1).map((e) => e.type),
    ["CHAT_MESSAGE", "USER_TYPING"],
  );
  assert.deepEqual(h.errors, []);
});

test("every handler of a type runs, and one that throws or rejects is reported, not fatal", async (t) => {
  const h = await setup(t);
  const conn = await h.open();
  const seen: string[] = [];
  h.client.on(UserTyping, () => {
    throw new Error("boom");
  });
  h.client.on(UserTyping, async () => {
    seen.push("async");
    throw new Error("async boom");
  });
  h.client.on(UserTyping, (typing) => {
    seen.push(typing.userId);
  });
  conn.send({ type: "USER_TYPING", payload: { roomId: "general", userId: "u2", typing: false } });
  await sentinel(h.client, conn);
  await new Promise((resolve) => setImmediate(resolve)); // let the rejected promise settle
  assert.deepEqual(seen, ["async", "u2"]);
  assert.equal(h.errors.length, 2);
  for (const error of h.errors) {
    assert.ok(error instanceof HandlerError);
    assert.equal(error.messageType, "USER_TYPING");
  }
  assert.deepEqual(
    h.errors.map((e) => (e.cause as Error).message),
    ["boom", "async boom"],
  );
});

test("invalid inbound frames go to onError and never to a handler (strict)", async (t) => {
  const h = await setup(t, { strict: true });
  const conn = await h.open();
  const handled: unknown[] = [];
  h.client.on(ChatMessage, (message) => {
    handled.push(message);
  });
  h.client.on(SessionExpired, (payload) => {
    handled.push(payload);
  });
  h.client.onUnhandled((envelope) => {
    handled.push(envelope);
  });

  conn.send("{not json");
  conn.send("[1, 2]");
  conn.send({ payload: {} });
  conn.send({ type: "CHAT_MESSAGE", meta: "nope", payload: {} });
  conn.send({ type: "CHAT_MESSAGE", meta: { correlationId: 7 } });
  const valid = chatFrame("x") as { payload: Record<string, unknown> };
  conn.send({ ...valid, payload: { ...valid.payload, text: 5, attachment: { url: "u" }, extra: true } });
  conn.send({ type: "CHAT_MESSAGE" });
  conn.send({ type: "SESSION_EXPIRED", payload: {} });
  conn.send({ type: "NO_SUCH_TYPE", payload: {} });
  conn.send({ type: "SEND_MESSAGE", payload: { roomId: "general", text: "hi" } });
  await sentinel(h.client, conn);

  assert.deepEqual(handled, [], "no handler saw an invalid frame");
  const summary = h.errors.map((e) => {
    if (e instanceof ProtocolError) return `protocol:${e.reason}`;
    if (e instanceof ValidationError) return `validation:${e.messageType}:${e.issues.map((i) => `${i.path}=${i.code}`).join(",")}`;
    return `other:${e.kind}`;
  });
  assert.deepEqual(summary, [
    "protocol:malformed_json",
    "protocol:invalid_envelope",
    "protocol:invalid_envelope",
    "protocol:invalid_envelope",
    "protocol:invalid_envelope",
    "validation:CHAT_MESSAGE:/text=invalid,/attachment/url=url,/attachment/name=required,/extra=unknown_field",
    "validation:CHAT_MESSAGE:/payload=required",
    "validation:SESSION_EXPIRED:/payload=unexpected",
    "protocol:unknown_type",
    "protocol:wrong_direction",
  ]);
  assert.deepEqual(
    h.errors.flatMap((e) => (e instanceof ValidationError ? [`${e.direction}:${e.target}`] : [])),
    ["inbound:payload", "inbound:frame", "inbound:frame"],
    "presence is a frame-level issue, as the server reports it",
  );
});

test("binary frames holding UTF-8 JSON are accepted, invalid UTF-8 is reported", async (t) => {
  const h = await setup(t);
  const conn = await h.open();
  const ids: string[] = [];
  h.client.on(ChatMessage, (message) => {
    ids.push(message.id);
  });
  conn.socket.send(Buffer.from(JSON.stringify(chatFrame("bin-ü"))), { binary: true });
  conn.socket.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: true });
  await sentinel(h.client, conn);
  assert.deepEqual(ids, ["bin-ü"]);
  assert.deepEqual(
    h.errors.map((e) => (e instanceof ProtocolError ? e.reason : e.kind)),
    ["undecodable_frame"],
  );
});

test("ERROR frames go to onError as ServerErrors with the code's retry default", async (t) => {
  const h = await setup(t);
  const conn = await h.open();
  conn.send({ type: "ERROR", payload: { code: "UNAUTHENTICATED", message: "log in first" } });
  conn.send({ type: "ERROR", payload: { code: "UNAVAILABLE", message: "busy", retryAfterMs: 250 } });
  conn.send({ type: "ERROR", payload: { code: "UNAVAILABLE", message: "down", retryable: false } });
  conn.send({ type: "ERROR", payload: { message: "no code" } });
  await sentinel(h.client, conn);
  const [unauth, busy, down, broken] = h.errors;
  assert.ok(unauth instanceof ServerError && busy instanceof ServerError && down instanceof ServerError);
  assert.equal(unauth.kind, "server");
  assert.deepEqual([unauth.code, unauth.message, unauth.retryable], ["UNAUTHENTICATED", "log in first", false]);
  assert.deepEqual([busy.code, busy.retryable, busy.retryAfterMs], ["UNAVAILABLE", true, 250]);
  assert.equal(down.retryable, false, "the server's word beats the code's default");
  assert.ok(broken instanceof ProtocolError);
  assert.equal(broken.reason, "invalid_error_payload");
  assert.equal(h.errors.length, 4);
});

test("__heartbeat_ack is handled silently and __heartbeat is answered", async (t) => {
  const h = await setup(t);
  const conn = await h.open();
  const unhandled: unknown[] = [];
  h.client.onUnhandled((e) => {
    unhandled.push(e);
  });
  conn.send({ type: "__heartbeat_ack" });
  conn.send({ type: "__heartbeat" });
  await sentinel(h.client, conn);
  assert.deepEqual(unhandled, []);
  assert.deepEqual(h.errors, []);
  assert.deepEqual(await conn.nextFrame(), { type: "__heartbeat_ack" });
});

test("with heartbeat on, the client sends __heartbeat and stays open while the server answers", async (t) => {
  const h = await setup(t, { heartbeat: { intervalMs: 20, timeoutMs: 2000 } });
  const conn = await h.open();
  for (let i = 0; i < 3; i++) {
    const frame = await conn.nextFrame();
    assert.deepEqual(frame, { type: "__heartbeat" });
    conn.send({ type: "__heartbeat_ack" });
  }
  assert.equal(h.client.state, "open");
  assert.deepEqual(h.errors, []);
});

test("untyped misuse is refused at run time with a TypeError", async (t) => {
  const h = await setup(t);
  await h.open();
  // Casts stand in for plain-JavaScript callers, whom the types cannot stop.
  const loose = h.client as unknown as {
    send(desc: unknown, payload?: unknown, options?: unknown): void;
    on(desc: unknown, handler: () => void): () => void;
    request(desc: unknown, payload?: unknown): Promise<unknown>;
  };
  assert.throws(() => loose.send(ChatMessage, {}), TypeError);
  assert.throws(() => loose.send(GetMessages, { roomId: "general" }), /use request\(\)/);
  assert.throws(() => loose.send({ type: "FOREIGN", direction: "client", hasPayload: false, validate: () => [] }), TypeError);
  assert.throws(() => loose.on(SendMessage, () => {}), TypeError);
  await assert.rejects(loose.request(SendMessage, { roomId: "general", text: "hi" }), TypeError);
  assert.throws(() => loose.send(SendMessage, { roomId: "general", text: "hi" }, { meta: { correlationId: "x" } }), /reserved/);
  // Payload presence fails like the server's check: frame-level, at /payload.
  for (const [desc, payload, code] of [
    [Logout, {}, "unexpected"],
    [SendMessage, undefined, "required"],
  ] as const) {
    assert.throws(
      () => loose.send(desc, payload),
      (e: unknown) =>
        e instanceof ValidationError &&
        e.target === "frame" &&
        e.issues.length === 1 &&
        e.issues[0]?.path === "/payload" &&
        e.issues[0]?.code === code,
    );
  }
});

test("by default the client reads tolerantly: unknown fields are ignored, unknown types go to onUnknown", async (t) => {
  const h = await setup(t);
  const conn = await h.open();
  const texts: string[] = [];
  const unknown: string[] = [];
  const unhandled: string[] = [];
  h.client.on(ChatMessage, (message) => {
    texts.push(message.text);
  });
  h.client.onUnknown((frame) => {
    unknown.push(`${frame.type}:${JSON.stringify(frame.payload)}`);
  });
  h.client.onUnhandled((envelope) => {
    unhandled.push(envelope.type);
  });
  const valid = chatFrame("x") as { payload: Record<string, unknown> };
  // A newer server added fields (top level and nested) and a message type.
  conn.send({ ...valid, payload: { ...valid.payload, text: "newer", edited: true, attachment: null, reactions: { up: 1 } } });
  conn.send({ type: "NO_SUCH_TYPE", payload: { a: 1 } });
  conn.send({ type: "SEND_MESSAGE", payload: { roomId: "general", text: "hi" } });
  // Still checked: a declared field with a wrong value, and a missing one.
  conn.send({ ...valid, payload: { ...valid.payload, text: 5, extra: true } });
  conn.send({ ...valid, payload: { ...valid.payload, attachment: { url: "https://x/y", more: 1 } } });
  await sentinel(h.client, conn);

  assert.deepEqual(texts, ["newer"]);
  assert.deepEqual(unknown, ['NO_SUCH_TYPE:{"a":1}', 'SEND_MESSAGE:{"roomId":"general","text":"hi"}']);
  assert.deepEqual(unhandled, [], "unknown types are not typed envelopes");
  const summary = h.errors.map((e) =>
    e instanceof ValidationError ? `${e.messageType}:${e.issues.map((i) => `${i.path}=${i.code}`).join(",")}` : e.kind,
  );
  assert.deepEqual(summary, ["CHAT_MESSAGE:/text=invalid", "CHAT_MESSAGE:/attachment/name=required"]);
});
