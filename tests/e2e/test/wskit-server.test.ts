// The generated twinwire client against a WS-Kit 0.10 server on Bun running the same chat
// protocol (wskit/server.ts): sending, receiving, RPC success, error and progress work as
// against twinwire's runtime. What WS-Kit does differently is tested next to what twinwire's
// runtime does with the same input: it drops bad input silently (a request then times out),
// and it refuses extra meta keys, which the runtime accepts.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  AuthSuccess,
  Authenticate,
  Calculate,
  ChatMessage,
  ConnectionClosedError,
  JoinRoom,
  LeaveRoom,
  RawSocket,
  RoomList,
  SendMessage,
  ServerError,
  TimeoutError,
  TypingStart,
  UserJoined,
  UserTyping,
  chatClient,
  connectedAs,
  refusedUpgrade,
  tokenFor,
} from "./support/chat.js";
import { type ServerProcess, startRustServer, startWskitServer } from "./support/processes.js";
import { Inbox, rejection, within } from "./support/wait.js";

let wskit: ServerProcess;
let twinwire: ServerProcess;

before(async () => {
  [wskit, twinwire] = await Promise.all([startWskitServer(), startRustServer()]);
});

after(async () => {
  await Promise.all([wskit.stop(), twinwire.stop()]);
});

test("messages both ways: WS-Kit's frames pass the generated guards", async (t) => {
  const roomId = `wskit-${process.pid}`;
  const alice = chatClient(t, wskit.url, { auth: { token: () => tokenFor("alice") } });
  const lists = new Inbox<RoomList>();
  alice.client.on(RoomList, lists.push);
  await within(alice.client.connect(), "alice to connect to WS-Kit");
  assert.ok(Array.isArray((await lists.next("ROOM_LIST on open")).rooms));
  const bob = await connectedAs(t, wskit.url, "bob");
  const aliceJoins = new Inbox<UserJoined>();
  const aliceTyping = new Inbox<UserTyping>();
  const bobChat = new Inbox<ChatMessage>();
  const aliceChat = new Inbox<ChatMessage>();
  alice.client.on(UserJoined, aliceJoins.push);
  alice.client.on(UserTyping, aliceTyping.push);
  alice.client.on(ChatMessage, aliceChat.push);
  bob.client.on(ChatMessage, bobChat.push);

  alice.client.send(JoinRoom, { roomId });
  await aliceJoins.next("alice's own USER_JOINED");
  bob.client.send(JoinRoom, { roomId });
  assert.deepEqual(await aliceJoins.next("bob joining"), { roomId, userId: "user-bob", userName: "bob" });

  const attachment = { url: "https://example.com/kit.png", name: "kit" };
  alice.client.send(SendMessage, { roomId, text: "hello from twinwire", attachment });
  const atBob = await bobChat.next("alice's message at bob");
  assert.equal(atBob.text, "hello from twinwire");
  assert.equal(atBob.userName, "alice");
  assert.deepEqual(atBob.attachment, attachment);
  assert.equal((await aliceChat.next("the echo to alice")).id, atBob.id);

  bob.client.send(TypingStart, { roomId });
  assert.deepEqual(await aliceTyping.next("bob typing"), { roomId, userId: "user-bob", userName: "bob", typing: true });

  const success = new Inbox<AuthSuccess>();
  alice.client.on(AuthSuccess, success.push);
  alice.client.send(Authenticate, { token: tokenFor("alice") });
  assert.deepEqual(await success.next("AUTH_SUCCESS"), { userId: "user-alice", userName: "alice" });
  assert.deepEqual(alice.errors.items, []);
  assert.deepEqual(bob.errors.items, []);
});

test("RPC: success, and progress read from `payload` where WS-Kit's server puts it", async (t) => {
  const h = await connectedAs(t, wskit.url, "calc");
  const progress: unknown[] = [];
  assert.deepEqual(await h.client.request(Calculate, { operation: "add", a: 2, b: 3 }, { onProgress: (v) => progress.push(v) }), { result: 5 });
  assert.deepEqual(progress, [{ result: 2 }]);
  const results = await within(
    Promise.all([1, 2, 3].map((a) => h.client.request(Calculate, { operation: "multiply", a, b: 10 }))),
    "three concurrent CALCULATE requests",
  );
  assert.deepEqual(
    results.map((r) => r.result),
    [10, 20, 30],
  );
  assert.deepEqual(h.errors.items, []);
});

test("errors: WS-Kit's RPC_ERROR and ERROR frames reach the caller and onError with code and details", async (t) => {
  const h = await connectedAs(t, wskit.url, "err");
  const overflow = await rejection(h.client.request(Calculate, { operation: "multiply", a: 1e308, b: 10 }), "an overflowing CALCULATE");
  assert.ok(overflow instanceof ServerError, String(overflow));
  assert.equal(overflow.code, "INVALID_ARGUMENT");
  assert.deepEqual(overflow.details, { operation: "multiply", a: 1e308, b: 10 });
  assert.equal(overflow.retryable, false);
  h.client.send(LeaveRoom, { roomId: "never-joined" });
  const error = await h.errors.next("the ERROR for leaving a room one is not in");
  assert.ok(error instanceof ServerError, String(error));
  assert.equal(error.code, "FAILED_PRECONDITION");
  assert.deepEqual(error.details, { roomId: "never-joined" });
});

test("auth: a valid access_token is accepted, an invalid one refused with 401", async (t) => {
  await connectedAs(t, wskit.url, "welcome");
  const h = chatClient(t, wskit.url, { auth: { token: () => "stolen" } });
  const error = await rejection(h.client.connect(), "connect() with an unknown token");
  assert.ok(error instanceof ConnectionClosedError, String(error));
  const refused = await refusedUpgrade(`${wskit.url}?access_token=stolen`);
  // WS-Kit answers a plain-text body; twinwire's runtime a JSON error.
  assert.deepEqual(refused, { status: 401, body: "Unauthorized" });
});

test("difference: extra meta keys make WS-Kit drop a request silently (it times out); the runtime serves it", async (t) => {
  const options = { meta: { traceId: "trace-1" }, timeoutMs: 300 } as const;
  const atWskit = await connectedAs(t, wskit.url, "tracer");
  const error = await rejection(atWskit.client.request(Calculate, { operation: "add", a: 1, b: 1 }, options), "a CALCULATE with meta.traceId at WS-Kit");
  assert.ok(error instanceof TimeoutError, String(error));
  // WS-Kit's message schemas declare meta strict: only timestamp, correlationId and the keys a
  // schema adds. The same request without the extra key is served.
  assert.deepEqual(await atWskit.client.request(Calculate, { operation: "add", a: 1, b: 1 }), { result: 2 });
  assert.deepEqual(atWskit.errors.items, []);

  const atTwinwire = await connectedAs(t, twinwire.url, "tracer");
  assert.deepEqual(await atTwinwire.client.request(Calculate, { operation: "add", a: 1, b: 1 }, options), { result: 2 });
});

test("difference: WS-Kit answers bad input with silence, the runtime with an error for each frame", async (t) => {
  const frames = [
    '{"type": "CALCULATE", ',
    { type: "DIVIDE", meta: { correlationId: "bad-type" }, payload: { a: 1, b: 0 } },
    { type: "CALCULATE", meta: { correlationId: "bad-payload" }, payload: { operation: "divide", a: 1, b: 0 } },
    // Not bad for WS-Kit: it serves the RPC, with uncorrelated progress and reply frames.
    { type: "CALCULATE", payload: { operation: "add", a: 1, b: 0 } },
  ];
  const good = { type: "CALCULATE", meta: { correlationId: "good" }, payload: { operation: "add", a: 20, b: 22 } };
  /** What `server` sent for `frames`, as `type code-or-result correlationId`. */
  const answers = async (server: ServerProcess): Promise<string[]> => {
    const raw = await RawSocket.open(t, `${server.url}?access_token=${tokenFor("raw")}`);
    await raw.frames.next("ROOM_LIST on open", (f) => f.type === "ROOM_LIST");
    for (const frame of frames) raw.send(frame);
    raw.send(good);
    const reply = await raw.frames.next("the good request's reply", (f) => f.type === "CALCULATE_RESULT" && f.meta?.["correlationId"] === "good");
    assert.deepEqual(reply.payload, { result: 42 });
    // The runtime refuses a bad frame as it reads it, before the good request's handler can
    // reply. WS-Kit only reports bad frames to its onError hooks (@ws-kit/core's
    // engine/dispatch.js), so no answer can come later either.
    return raw.frames.items
      .filter((f) => f.type !== "ROOM_LIST" && f.meta?.["correlationId"] !== "good")
      .map((f) => {
        const payload = f.payload as { code?: string; result?: number };
        return `${f.type} ${String(payload.code ?? payload.result)} ${String(f.meta?.["correlationId"] ?? "-")}`;
      });
  };
  assert.deepEqual(await answers(wskit), ["$ws:rpc-progress 1 -", "CALCULATE_RESULT 1 -"]);
  assert.deepEqual(await answers(twinwire), [
    "ERROR INVALID_ARGUMENT -",
    "RPC_ERROR UNIMPLEMENTED bad-type",
    "RPC_ERROR INVALID_ARGUMENT bad-payload",
    "ERROR INVALID_ARGUMENT -",
  ]);
});
