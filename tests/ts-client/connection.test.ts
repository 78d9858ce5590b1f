// The connection: states, explicit connect/close, reconnect with backoff after a server
// restart, the bounded outbound queue and its drop policies, the auth token provider.
import assert from "node:assert/strict";
import { type AddressInfo, type Socket, createServer } from "node:net";
import { test } from "node:test";
import {
  ConnectionClosedError,
  ConnectionError,
  DEFAULT_RECONNECT,
  QueueFullError,
  TwinwireClient,
  RefusedError,
  backoffDelay,
  refusalKind,
} from "../../codegen-cli/ts/twinwire-client.js";
import { Chat, GetMessages, Logout, SendMessage, createChatClient } from "./fixtures/chat-protocol.js";
import { FakeServer, WebSocket, until } from "./fake-server.js";
import { chatFrame, setup } from "./harness.js";

const say = (text: string) => ({ roomId: "general", text });

test("backoffDelay: full jitter under an exponentially growing, capped ceiling", () => {
  const policy = { initialDelayMs: 100, maxDelayMs: 1000, factor: 2 };
  const almostOne = () => 0.999999;
  assert.deepEqual(
    [0, 1, 2, 3, 4, 10].map((n) => backoffDelay(n, policy, almostOne)),
    [99, 199, 399, 799, 999, 999],
  );
  assert.equal(backoffDelay(3, policy, () => 0), 0, "full jitter reaches down to zero");
  assert.equal(backoffDelay(2, policy, () => 0.5), 200);
  assert.equal(backoffDelay(5000, policy, almostOne), 999, "a huge attempt count cannot overflow the cap");
  assert.deepEqual(DEFAULT_RECONNECT, {
    initialDelayMs: 500,
    maxDelayMs: 30_000,
    factor: 2,
    maxAttempts: Number.POSITIVE_INFINITY,
  });
});

test("connect() and close() walk the states closed → connecting → open → closing → closed", async (t) => {
  const h = await setup(t);
  assert.equal(h.client.state, "closed");
  const conn = await h.open();
  assert.equal(h.client.state, "open");
  await h.client.connect(); // already open: resolves at once
  await h.client.close(4001, "bye");
  assert.equal(h.client.state, "closed");
  assert.equal(await conn.closed, 4001);
  assert.deepEqual(
    h.states.map((s) => s.state),
    ["connecting", "open", "closing", "closed"],
  );
  assert.deepEqual(h.states.at(-1)?.detail, { code: 4001, reason: "bye", discarded: 0 });
  assert.throws(() => h.client.close(1006), RangeError, "reserved close codes are refused");
});

test("connect() while closing reopens once the close completes", async (t) => {
  const h = await setup(t);
  await h.open();
  const closing = h.client.close();
  const reopening = h.client.connect();
  await closing;
  await Promise.all([h.server.nextConnection(), reopening]);
  assert.equal(h.client.state, "open");
  assert.deepEqual(
    h.states.map((s) => s.state),
    ["connecting", "open", "closing", "closed", "connecting", "open"],
  );
});

test("send and request fail fast while closed, instead of queueing forever", async (t) => {
  const h = await setup(t);
  assert.throws(() => h.client.send(Logout), ConnectionClosedError);
  await assert.rejects(h.client.request(GetMessages, { roomId: "general" }), ConnectionClosedError);
  assert.equal(h.client.queued, 0);
});

test("after a server restart the client reconnects with backoff and delivers queued messages in order", async (t) => {
  const h = await setup(t);
  const conn = await h.open();
  h.client.send(SendMessage, say("before"));
  assert.deepEqual((await conn.nextFrame()).payload, say("before"));

  await h.server.stop(1012);
  await until(() => h.client.state === "reconnecting", "reconnecting");
  for (const text of ["one", "two", "three"]) h.client.send(SendMessage, say(text));
  h.client.send(Logout);
  assert.equal(h.client.queued, 4);
  // Let a few attempts fail against the stopped server before it comes back.
  await until(() => h.states.filter((s) => s.state === "reconnecting").length >= 3, "three reconnect attempts");

  await h.server.restart();
  const conn2 = await h.server.nextConnection();
  const frames = [await conn2.nextFrame(), await conn2.nextFrame(), await conn2.nextFrame(), await conn2.nextFrame()];
  assert.deepEqual(
    frames.map((f) => (f.type === "LOGOUT" ? "LOGOUT" : (f.payload as { text: string }).text)),
    ["one", "two", "three", "LOGOUT"],
  );
  await until(() => h.client.state === "open", "open");
  assert.equal(h.client.queued, 0);

  const reconnecting = h.states.filter((s) => s.state === "reconnecting");
  assert.equal(reconnecting[0]?.detail.code, 1012, "the first attempt reports the close that caused it");
  reconnecting.forEach((s, i) => {
    assert.equal(s.detail.attempt, i + 1, "attempts are numbered from 1");
    const ceiling = Math.min(50, 10 * 2 ** i);
    const delay = s.detail.delayMs ?? -1;
    assert.ok(delay >= 0 && delay < ceiling, `attempt ${i + 1}: delay ${delay} within [0, ${ceiling})`);
  });
  assert.equal(h.states.at(-1)?.state, "open");
  assert.deepEqual(
    h.errors.map((e) => e.kind),
    [],
    "failed attempts are state changes, not errors",
  );
});

test("a frame sent by an open listener goes after the queued ones", async (t) => {
  const h = await setup(t);
  h.client.onState((state) => {
    if (state === "open") h.client.send(SendMessage, say("from listener"));
  });
  const connecting = h.client.connect();
  h.client.send(SendMessage, say("queued"));
  const conn = await h.server.nextConnection();
  await connecting;
  assert.deepEqual(
    [(await conn.nextFrame()).payload, (await conn.nextFrame()).payload],
    [say("queued"), say("from listener")],
  );
});

test("queue bound, drop-newest: the frame over the bound is refused with a QueueFullError", async (t) => {
  const h = await setup(t, { queue: { maxSize: 2 } });
  const connecting = h.client.connect();
  h.client.send(SendMessage, say("1"));
  h.client.send(SendMessage, say("2"));
  assert.throws(
    () => h.client.send(SendMessage, say("3")),
    (e: unknown) => e instanceof QueueFullError && e.dropped === "newest" && e.messageType === "SEND_MESSAGE",
  );
  await assert.rejects(h.client.request(GetMessages, { roomId: "general" }), QueueFullError);
  const conn = await h.server.nextConnection();
  await connecting;
  h.client.send(SendMessage, say("after open"));
  assert.deepEqual(
    [await conn.nextFrame(), await conn.nextFrame(), await conn.nextFrame()].map((f) => f.payload),
    [say("1"), say("2"), say("after open")],
  );
  assert.deepEqual(h.errors, []);
});

test("queue bound, drop-oldest: the oldest frame is evicted, reported or rejected", async (t) => {
  const h = await setup(t, { queue: { maxSize: 2, overflow: "drop-oldest" } });
  const connecting = h.client.connect();
  const evictedRequest = h.client.request(GetMessages, { roomId: "evicted" });
  h.client.send(SendMessage, say("evicted too"));
  h.client.send(SendMessage, say("kept 1"));
  h.client.send(SendMessage, say("kept 2"));
  await assert.rejects(evictedRequest, (e: unknown) => e instanceof QueueFullError && e.dropped === "oldest");
  assert.equal(h.errors.length, 1);
  const [reported] = h.errors;
  assert.ok(reported instanceof QueueFullError);
  assert.equal(reported.dropped, "oldest");
  const conn = await h.server.nextConnection();
  await connecting;
  assert.deepEqual(
    [await conn.nextFrame(), await conn.nextFrame()].map((f) => f.payload),
    [say("kept 1"), say("kept 2")],
  );
});

test("maxSize 0 disables queueing", async (t) => {
  const h = await setup(t, { queue: { maxSize: 0, overflow: "drop-oldest" } });
  const connecting = h.client.connect();
  assert.throws(() => h.client.send(Logout), QueueFullError);
  await connecting;
});

test("close() while reconnecting stops retrying, discards the queue and rejects queued requests", async (t) => {
  const h = await setup(t);
  await h.open();
  await h.server.stop();
  await until(() => h.client.state === "reconnecting", "reconnecting");
  h.client.send(Logout);
  const queued = h.client.request(GetMessages, { roomId: "general" });
  await h.client.close();
  await assert.rejects(queued, ConnectionClosedError);
  assert.equal(h.client.state, "closed");
  assert.equal(h.client.queued, 0);
  assert.deepEqual(h.states.at(-1), { state: "closed", detail: { code: 1000, reason: "", discarded: 2 } });
  const attempts = h.server.upgrades.length;
  await h.server.restart();
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(h.server.upgrades.length, attempts, "no attempt after close()");
});

test("close() during a handshake settles with the requested close and what it discarded", async (t) => {
  // Accepts TCP and never answers the upgrade: the attempt stays in its handshake.
  const sockets: Socket[] = [];
  const silent = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    silent.close();
  });
  const { port } = silent.address() as AddressInfo;
  const client = createChatClient({ url: `ws://127.0.0.1:${port}/ws`, WebSocket });
  const states: { state: string; detail: object }[] = [];
  client.onState((state, detail) => states.push({ state, detail }));
  const connecting = client.connect();
  client.send(Logout);
  const queuedRequest = client.request(GetMessages, { roomId: "general" });
  await until(() => sockets.length === 1, "the handshake to start");
  await client.close(4001, "never mind");
  await assert.rejects(connecting, ConnectionClosedError);
  await assert.rejects(queuedRequest, ConnectionClosedError);
  assert.deepEqual(states, [
    { state: "connecting", detail: {} },
    { state: "closing", detail: { code: 4001, reason: "never mind" } },
    { state: "closed", detail: { code: 4001, reason: "never mind", discarded: 2 } },
  ]);
});

test("the client gives up after maxAttempts and connect() rejects", async (t) => {
  const probe = await FakeServer.start();
  const url = probe.url;
  await probe.stop(); // nothing listens on this port now
  const client = createChatClient({ url, WebSocket, reconnect: { initialDelayMs: 5, maxDelayMs: 10, maxAttempts: 2 } });
  const states: string[] = [];
  client.onState((state) => states.push(state));
  client.onError(() => {});
  t.after(() => client.close());
  await assert.rejects(client.connect(), (e: unknown) => e instanceof ConnectionClosedError && /gave up/.test(e.message));
  assert.deepEqual(states, ["connecting", "reconnecting", "reconnecting", "closed"]);
  assert.equal(client.state, "closed");
});

test("reconnect: false closes on the first drop; shouldReconnect can veto", async (t) => {
  const h = await setup(t, { reconnect: false });
  await h.open();
  await h.server.stop(4003);
  await until(() => h.client.state === "closed", "closed");
  assert.deepEqual(
    h.states.map((s) => s.state),
    ["connecting", "open", "closed"],
  );

  const vetoed = await setup(t, { reconnect: { shouldReconnect: (close) => close.code !== 4401 } });
  const conn = await vetoed.open();
  conn.socket.close(4401, "logged out");
  await until(() => vetoed.client.state === "closed", "closed after veto");
  assert.deepEqual(vetoed.states.at(-1)?.detail, { code: 4401, reason: "logged out", discarded: 0 });
});

test("connect() during a reconnect delay tries at once", async (t) => {
  const h = await setup(t, { reconnect: { initialDelayMs: 60_000, maxDelayMs: 60_000 } });
  await h.open();
  await h.server.stop();
  await h.server.restart();
  await until(() => h.client.state === "reconnecting", "reconnecting");
  // The drawn delay may be up to a minute; connect() must not wait for it.
  await Promise.all([h.server.nextConnection(), h.client.connect()]);
  assert.equal(h.client.state, "open");
});

test("the token provider is called before every connect: query parameter", async (t) => {
  let calls = 0;
  const h = await setup(t, { auth: { token: async () => `tok/${++calls}+=` } });
  await h.open();
  await h.server.stop();
  await h.server.restart();
  await h.server.nextConnection();
  await until(() => h.client.state === "open", "reopen");
  const accepted = h.server.connections.map((c) => new URL(c.upgrade.url, "ws://x").searchParams.get("access_token"));
  assert.deepEqual(accepted, ["tok/1+=", `tok/${calls}+=`]);
  assert.ok(calls >= 2);
  assert.equal(h.server.connections[0]?.upgrade.protocols.length, 0, "query mode offers no subprotocol");
});

test("the token provider is called before every connect: bearer subprotocol, after the app's", async (t) => {
  let calls = 0;
  const h = await setup(t, { protocols: "chat.v1", auth: { token: () => `t${++calls}`, via: "subprotocol" } });
  const conn = await h.open();
  assert.deepEqual(conn.upgrade.protocols, ["chat.v1", "bearer.t1"]);
  assert.equal(conn.upgrade.url, "/ws", "subprotocol mode keeps the token out of the URL");
  conn.socket.close(1012);
  const conn2 = await h.server.nextConnection();
  assert.deepEqual(conn2.upgrade.protocols, ["chat.v1", `bearer.t${calls}`]);
  assert.equal(calls, 2);
});

test("a rejected upgrade (401) and a failing token provider lead to retries, reported as they should", async (t) => {
  let calls = 0;
  const h = await setup(
    t,
    {
      auth: {
        token: () => {
          calls += 1;
          if (calls === 1) throw new Error("token service down");
          return calls === 2 ? "bad" : "good";
        },
      },
    },
    { authorize: (upgrade) => upgrade.url.includes("access_token=good") },
  );
  const conn = await h.open();
  assert.match(conn.upgrade.url, /access_token=good/);
  assert.deepEqual(
    h.server.upgrades.map((u) => new URL(u.url, "ws://x").searchParams.get("access_token")),
    ["bad", "good"],
    "the failing provider opened no connection",
  );
  assert.equal(h.errors.length, 1);
  const [error] = h.errors;
  assert.ok(error instanceof ConnectionError);
  assert.equal((error.cause as Error).message, "token service down");
});

test("a subprotocol-mode token with characters a subprotocol cannot carry is reported", async (t) => {
  const h = await setup(t, { auth: { token: () => "a b", via: "subprotocol" }, reconnect: false });
  await assert.rejects(h.client.connect(), ConnectionClosedError);
  assert.match(h.errors[0]?.message ?? "", /use auth.via = "query"/);
  assert.equal(h.server.upgrades.length, 0);
});

test("an unanswered heartbeat drops the connection and the client reconnects", async (t) => {
  const h = await setup(t, { heartbeat: { intervalMs: 20, timeoutMs: 40 } });
  const conn = await h.open();
  assert.deepEqual(await conn.nextFrame(), { type: "__heartbeat" });
  // No answer: the client gives the connection up and opens a new one.
  const conn2 = await h.server.nextConnection();
  const heartbeatDrop = h.states.find((s) => s.state === "reconnecting");
  assert.deepEqual([heartbeatDrop?.detail.code, heartbeatDrop?.detail.reason], [4000, "heartbeat timeout"]);
  assert.equal(await conn.closed, 4000, "the client told the server why");
  assert.equal(conn2.upgrade.url, "/ws");
});

test("options are checked when the client is built", () => {
  const base = { url: "ws://127.0.0.1:1", WebSocket };
  assert.throws(() => createChatClient({ ...base, reconnect: { factor: 0.5 } }), RangeError);
  assert.throws(() => createChatClient({ ...base, queue: { maxSize: -1 } }), RangeError);
  assert.throws(() => createChatClient({ ...base, requestTimeoutMs: 0 }), RangeError);
  assert.throws(() => createChatClient({ ...base, heartbeat: { intervalMs: Number.NaN } }), RangeError);
  assert.throws(() => createChatClient({ url: "ws://127.0.0.1:1" }), /pass options.WebSocket/);
  for (const url of ["", "127.0.0.1:8080/ws", "ws:/x", "ftp://host/ws"]) {
    assert.throws(() => createChatClient({ ...base, url }), /options.url must be a ws:\/\/ or wss:\/\/ URL/);
  }
});

test("the protocol's fingerprint is sent as twinwire_fp beside the token, unless turned off", async (t) => {
  const server = await FakeServer.start();
  t.after(() => server.stop());
  const protocol = { ...Chat, fingerprint: "0123456789abcdef0123456789abcdef" };
  const url = `${server.url}?room=a`;
  const withFp = new TwinwireClient(protocol, { url, WebSocket, reconnect: false, auth: { token: () => "t k" } });
  await withFp.connect();
  await withFp.close();
  const without = new TwinwireClient(protocol, { url, WebSocket, reconnect: false, sendFingerprint: false });
  await without.connect();
  await without.close();
  const params = server.upgrades.map((u) => new URL(u.url, "ws://x").searchParams);
  assert.deepEqual(
    params.map((p) => [p.get("room"), p.get("twinwire_fp"), p.get("access_token")]),
    [
      ["a", "0123456789abcdef0123456789abcdef", "t k"],
      ["a", null, null],
    ],
  );
});

test("refusalKind: 4400–4499 are terminal refusals except 4408 and 4429", () => {
  assert.equal(refusalKind(4401), "unauthenticated");
  assert.equal(refusalKind(4403), "forbidden");
  assert.equal(refusalKind(4400), "refused");
  assert.equal(refusalKind(4499), "refused");
  for (const code of [1000, 1006, 1008, 4000, 4408, 4429, 4500, 4503]) assert.equal(refusalKind(code), undefined, String(code));
});

for (const [code, kind] of [
  [4401, "unauthenticated"],
  [4403, "forbidden"],
] as const) {
  test(`a ${code} close right after open rejects connect() with kind ${kind}, reports it and never reconnects`, async (t) => {
    const h = await setup(t);
    void h.server.nextConnection().then((c) => c.socket.close(code, "no entry"));
    const error = await h.client.connect().then(
      () => assert.fail("connect() resolved on a refused connection"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof RefusedError, String(error));
    assert.equal(error.kind, kind);
    assert.equal(error.code, code);
    assert.equal(error.reason, "no entry");
    assert.equal(h.client.state, "closed");
    assert.ok(h.errors.includes(error), "onError hears the refusal");
    // Longer than the fast backoff's ceiling: a reconnect would have shown up by now.
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(h.server.upgrades.length, 1);
    assert.deepEqual(h.states.at(-1), { state: "closed", detail: { code, reason: "no entry", discarded: 0 } });
  });
}

test("a refusal close while open (a later 4403) stops reconnecting and is reported", async (t) => {
  const h = await setup(t);
  const conn = await h.open();
  conn.socket.close(4403, "banned");
  await until(() => h.client.state === "closed", "the client to close");
  const error = h.errors.find((e) => e instanceof RefusedError);
  assert.equal(error?.kind, "forbidden");
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(h.server.upgrades.length, 1);
});

test("4429 is not a refusal: the client reconnects", async (t) => {
  const h = await setup(t);
  const conn = await h.open();
  conn.socket.close(4429, "slow down");
  await h.server.nextConnection();
  await until(() => h.client.state === "open", "the client to reopen");
  assert.ok(!h.errors.some((e) => e instanceof RefusedError));
});

test("a frame from the server confirms the connection before the refusal window ends", async (t) => {
  const h = await setup(t, { refusalWindowMs: 60_000 });
  void h.server.nextConnection().then((c) => c.send(chatFrame("hello")));
  // With a 60 s window only the frame can settle connect() within the test's time.
  await h.client.connect();
  assert.equal(h.client.state, "open");
});
