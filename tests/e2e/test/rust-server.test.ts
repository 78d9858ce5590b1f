// The generated chat client against the Rust e2e server (twinwire-runtime) on 127.0.0.1:
// messages both ways, RPC success, error, progress, timeout and abort, auth at the upgrade,
// an invalid inbound frame, and outbound validation that agrees with the server's.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  AbortedError,
  AuthSuccess,
  Authenticate,
  Calculate,
  type ChatHarness,
  ChatMessage,
  ConnectionClosedError,
  GetMessages,
  type Issue,
  JoinRoom,
  LeaveRoom,
  RawSocket,
  RoomList,
  SendMessage,
  ServerError,
  TRIGGER,
  TimeoutError,
  TypingStart,
  TypingStop,
  UserJoined,
  UserLeft,
  UserTyping,
  ValidationError,
  chatClient,
  connectedAs,
  RefusedError,
  refusedByClose,
  tokenFor,
} from "./support/chat.js";
import { type ServerProcess, startRustServer } from "./support/processes.js";
import { Inbox, rejection, within } from "./support/wait.js";

let server: ServerProcess;

before(async () => {
  server = await startRustServer();
});

after(async () => {
  await server.stop();
});

let rooms = 0;
/** A room no other test uses. */
function uniqueRoom(name: string): string {
  rooms += 1;
  return `${name}-${rooms}-${process.pid}`;
}

/** Fails with the server's log when a client reported errors it should not have. */
function assertNoErrors(...harnesses: ChatHarness[]): void {
  for (const { errors } of harnesses) {
    assert.deepEqual(errors.items, [], `unexpected client errors; server log:\n${server.output()}`);
  }
}

/** `path code` of each issue, sorted: what the client and the server must agree on. */
function issueKeys(issues: readonly Issue[]): string[] {
  return issues.map((i) => `${i.path} ${i.code}`).sort();
}

test("messages flow both ways: joins, chat messages, typing and leaves reach the room", async (t) => {
  const roomId = uniqueRoom("lobby");
  const alice = await connectedAs(t, server.url, "alice");
  const bob = await connectedAs(t, server.url, "bob");
  const aliceJoins = new Inbox<UserJoined>();
  const aliceChat = new Inbox<ChatMessage>();
  const aliceTyping = new Inbox<UserTyping>();
  const aliceLeaves = new Inbox<UserLeft>();
  const bobJoins = new Inbox<UserJoined>();
  const bobChat = new Inbox<ChatMessage>();
  alice.client.on(UserJoined, aliceJoins.push);
  alice.client.on(ChatMessage, aliceChat.push);
  alice.client.on(UserTyping, aliceTyping.push);
  alice.client.on(UserLeft, aliceLeaves.push);
  bob.client.on(UserJoined, bobJoins.push);
  bob.client.on(ChatMessage, bobChat.push);

  alice.client.send(JoinRoom, { roomId });
  await aliceJoins.next("alice's own USER_JOINED", (j) => j.userName === "alice");
  bob.client.send(JoinRoom, { roomId });
  assert.deepEqual(await aliceJoins.next("bob joining, seen by alice"), { roomId, userId: "user-bob", userName: "bob" });
  await bobJoins.next("bob's own USER_JOINED", (j) => j.userName === "bob");

  const attachment = { url: "https://example.com/cat.png", name: "a cat" };
  alice.client.send(SendMessage, { roomId, text: "hello, bob", attachment });
  const atBob = await bobChat.next("alice's message at bob");
  assert.equal(atBob.roomId, roomId);
  assert.equal(atBob.userId, "user-alice");
  assert.equal(atBob.userName, "alice");
  assert.equal(atBob.text, "hello, bob");
  assert.deepEqual(atBob.attachment, attachment);
  assert.equal(typeof atBob.timestamp, "number");
  const echo = await aliceChat.next("alice's message echoed to her");
  assert.equal(echo.id, atBob.id);

  // No attachment on the way in; the server leaves the field out (Option on the wire).
  bob.client.send(SendMessage, { roomId, text: "hi, alice" });
  const reply = await aliceChat.next("bob's message at alice", (m) => m.userName === "bob");
  assert.equal(reply.text, "hi, alice");
  assert.equal("attachment" in reply, false);

  bob.client.send(TypingStart, { roomId });
  assert.deepEqual(await aliceTyping.next("bob typing"), { roomId, userId: "user-bob", userName: "bob", typing: true });
  bob.client.send(TypingStop, { roomId });
  assert.deepEqual(await aliceTyping.next("bob no longer typing"), { roomId, userId: "user-bob", userName: "bob", typing: false });

  bob.client.send(LeaveRoom, { roomId });
  assert.deepEqual(await aliceLeaves.next("bob leaving"), { roomId, userId: "user-bob" });

  // A server message pushed on open: ROOM_LIST, counting alice (bob left).
  const carol = chatClient(t, server.url, { auth: { token: () => tokenFor("carol") } });
  const lists = new Inbox<RoomList>();
  carol.client.on(RoomList, lists.push);
  await within(carol.client.connect(), "carol to connect");
  const { rooms: listed } = await lists.next("ROOM_LIST on open");
  assert.deepEqual(
    listed.find((r) => r.id === roomId),
    { id: roomId, name: roomId, userCount: 1 },
  );
  assertNoErrors(alice, bob, carol);
});

test("RPC success: each request resolves with its own typed response", async (t) => {
  const h = await connectedAs(t, server.url, "calc");
  assert.deepEqual(await h.client.request(Calculate, { operation: "add", a: 2, b: 3 }), { result: 5 });
  assert.deepEqual(await h.client.request(Calculate, { operation: "multiply", a: 1.5, b: 4 }), { result: 6 });
  // Many in flight at once: correlation ids keep the replies apart.
  const operands = Array.from({ length: 20 }, (_, i) => i);
  const results = await within(
    Promise.all(operands.map((a) => h.client.request(Calculate, { operation: "multiply", a, b: 3 }))),
    "20 concurrent CALCULATE requests",
  );
  assert.deepEqual(
    results.map((r) => r.result),
    operands.map((a) => a * 3),
  );
  assertNoErrors(h);
});

test("RPC error: the request rejects with the server's code, message and details", async (t) => {
  const h = await connectedAs(t, server.url, "err");
  const roomId = uniqueRoom("never-joined");
  const missing = await rejection(h.client.request(GetMessages, { roomId, limit: 10 }), "GET_MESSAGES of an unknown room");
  assert.ok(missing instanceof ServerError, String(missing));
  assert.equal(missing.kind, "server");
  assert.equal(missing.code, "NOT_FOUND");
  assert.equal(missing.message, `no room \`${roomId}\``);
  assert.deepEqual(missing.details, { roomId });
  assert.equal(missing.retryable, false);
  assert.equal(missing.retryAfterMs, undefined);
  assert.equal(typeof missing.correlationId, "string");

  const overflow = await rejection(
    h.client.request(Calculate, { operation: "multiply", a: 1e308, b: 10 }),
    "CALCULATE with an infinite result",
  );
  assert.ok(overflow instanceof ServerError, String(overflow));
  assert.equal(overflow.code, "INVALID_ARGUMENT");
  assert.deepEqual(overflow.details, { operation: "multiply", a: 1e308, b: 10 });

  // The connection survives its errors, and RPC errors go to the caller, not to onError.
  assert.deepEqual(await h.client.request(Calculate, { operation: "add", a: 1, b: 1 }), { result: 2 });
  assertNoErrors(h);
});

test("RPC progress: values arrive in order, before the reply", async (t) => {
  const h = await connectedAs(t, server.url, "progress");
  const roomId = uniqueRoom("history");
  const echoes = new Inbox<ChatMessage>();
  h.client.on(ChatMessage, echoes.push);
  // One at a time: the server runs a connection's handlers concurrently.
  for (const text of ["one", "two", "three"]) {
    h.client.send(SendMessage, { roomId, text });
    await echoes.next(`the echo of ${text}`);
  }
  const events: unknown[] = [];
  const history = await h.client.request(GetMessages, { roomId, limit: 2 }, { onProgress: (value) => events.push(value) });
  events.push("reply");
  assert.deepEqual(events, [{ phase: "lookup" }, { phase: "collect", count: 2 }, "reply"]);
  assert.equal(history.roomId, roomId);
  assert.deepEqual(
    history.messages.map((m) => m.text),
    ["two", "three"],
  );
  assertNoErrors(h);
});

/** Registers for the marker the e2e server sends right after a held request's late reply. */
function heldReplyMarker(h: ChatHarness): Inbox<UserLeft> {
  const markers = new Inbox<UserLeft>();
  h.client.on(UserLeft, (left) => {
    if (left.roomId === TRIGGER.hold) markers.push(left);
  });
  return markers;
}

/** Releases the held request; resolves once its late reply has reached the client. */
async function releaseHeld(h: ChatHarness, markers: Inbox<UserLeft>): Promise<void> {
  h.client.send(TypingStart, { roomId: TRIGGER.release });
  await markers.next("the marker that follows the late reply");
}

/** The late reply went nowhere: no handler, no onUnhandled, no error. */
function assertLateReplyIgnored(h: ChatHarness): void {
  assert.deepEqual(
    h.unhandled.items.filter((e) => e.type === "MESSAGES"),
    [],
  );
  assertNoErrors(h);
}

// The late-reply tests keep the server from hearing of the timeout or abort
// (`sendAbortFrames: false`), so that it does reply, late.

test("RPC timeout: rejects with TimeoutError; the late reply is ignored", async (t) => {
  const h = await connectedAs(t, server.url, "slow", { sendAbortFrames: false });
  const markers = heldReplyMarker(h);
  const error = await rejection(
    h.client.request(GetMessages, { roomId: TRIGGER.hold, limit: 1 }, { timeoutMs: 200 }),
    "a held GET_MESSAGES with a 200 ms deadline",
  );
  assert.ok(error instanceof TimeoutError, String(error));
  assert.equal(error.kind, "timeout");
  assert.equal(error.messageType, "GET_MESSAGES");
  assert.equal(error.timeoutMs, 200);
  await releaseHeld(h, markers);
  assertLateReplyIgnored(h);
  // The connection is still usable.
  assert.deepEqual(await h.client.request(Calculate, { operation: "add", a: 2, b: 2 }), { result: 4 });
});

test("RPC abort: rejects with AbortedError carrying the signal's reason; the late reply is ignored", async (t) => {
  const h = await connectedAs(t, server.url, "impatient", { sendAbortFrames: false });
  const markers = heldReplyMarker(h);
  const controller = new AbortController();
  const progress = new Inbox<unknown>();
  const pending = h.client.request(
    GetMessages,
    { roomId: TRIGGER.hold, limit: 1 },
    { signal: controller.signal, onProgress: progress.push },
  );
  // The server's progress proves it holds the request before it is aborted.
  assert.deepEqual(await progress.next("the held request's progress"), { held: true });
  const reason = new Error("the user navigated away");
  controller.abort(reason);
  const error = await rejection(pending, "the aborted GET_MESSAGES");
  assert.ok(error instanceof AbortedError, String(error));
  assert.equal(error.kind, "aborted");
  assert.equal(error.messageType, "GET_MESSAGES");
  assert.equal(error.reason, reason);
  await releaseHeld(h, markers);
  assertLateReplyIgnored(h);
  assert.deepEqual(progress.items, [{ held: true }]);
});

/**
 * Proves the server cancelled the connection's held request: a release sent now finds no
 * held handler to let go (a cancelled handler never runs again), so its permit is still
 * there for the next held request, which then completes at once. Had the first handler
 * survived, it would take the permit and the second request would hang (and fail the wait).
 */
async function assertHeldRequestCancelled(h: ChatHarness): Promise<void> {
  h.client.send(TypingStart, { roomId: TRIGGER.release });
  const next = await h.client.request(GetMessages, { roomId: TRIGGER.hold, limit: 1 });
  assert.deepEqual(next, { roomId: TRIGGER.hold, messages: [] });
  // The server answered the abort with RPC_ERROR CANCELLED for an id the client no longer
  // waits for: ignored, like a late reply.
  assertLateReplyIgnored(h);
}

test("RPC timeout sends `$ws:abort`, which cancels the request's handler on the server", async (t) => {
  const h = await connectedAs(t, server.url, "canceller");
  const error = await rejection(
    h.client.request(GetMessages, { roomId: TRIGGER.hold, limit: 1 }, { timeoutMs: 100 }),
    "a held GET_MESSAGES with a 100 ms deadline",
  );
  assert.ok(error instanceof TimeoutError, String(error));
  await assertHeldRequestCancelled(h);
});

test("RPC abort sends `$ws:abort`, which cancels the request's handler on the server", async (t) => {
  const h = await connectedAs(t, server.url, "aborter");
  const controller = new AbortController();
  const held = new Inbox<unknown>();
  const pending = rejection(
    h.client.request(GetMessages, { roomId: TRIGGER.hold, limit: 1 }, { signal: controller.signal, onProgress: held.push }),
    "the aborted GET_MESSAGES",
  );
  await held.next("the held request's progress");
  controller.abort();
  assert.ok((await pending) instanceof AbortedError);
  await assertHeldRequestCancelled(h);
});

test("auth accepted: the upgrade's user, by access_token query parameter or bearer subprotocol", async (t) => {
  const viaQuery = await connectedAs(t, server.url, "alice");
  const viaProtocol = await connectedAs(t, server.url, "carol", { auth: { token: () => tokenFor("carol"), via: "subprotocol" } });
  for (const [h, name] of [
    [viaQuery, "alice"],
    [viaProtocol, "carol"],
  ] as const) {
    const success = new Inbox<AuthSuccess>();
    h.client.on(AuthSuccess, success.push);
    h.client.send(Authenticate, { token: tokenFor(name) });
    assert.deepEqual(await success.next(`AUTH_SUCCESS for ${name}`), { userId: `user-${name}`, userName: name });
  }
  // A token that is not the connection's: an uncorrelated ERROR, reported to onError.
  viaQuery.client.send(Authenticate, { token: tokenFor("mallory") });
  const error = await viaQuery.errors.next("the ERROR for a foreign token");
  assert.ok(error instanceof ServerError, String(error));
  assert.equal(error.code, "UNAUTHENTICATED");
  assert.equal(error.correlationId, undefined);
  assertNoErrors(viaProtocol);
});

test("auth rejected: the upgrade is closed with 4401 and connect() rejects with an unauthenticated RefusedError", async (t) => {
  for (const [what, options] of [
    ["an unknown token", { auth: { token: () => "stolen" } }],
    ["no token", {}],
  ] as const) {
    const h = chatClient(t, server.url, options);
    const error = await rejection(h.client.connect(), `connect() with ${what}`);
    assert.ok(error instanceof RefusedError, `${what}: ${String(error)}`);
    assert.equal(error.kind, "unauthenticated");
    assert.equal(error.code, 4401);
    assert.equal(h.client.state, "closed");
  }
  // What a browser sees too: the close code, with the server's message as the reason.
  for (const url of [`${server.url}?access_token=stolen`, server.url]) {
    const refused = await refusedByClose(url);
    assert.equal(refused.code, 4401, url);
    assert.ok(refused.reason.length > 0, url);
  }
  const byProtocol = await refusedByClose(server.url, ["bearer.stolen"]);
  assert.equal(byProtocol.code, 4401);
});

test("an uncorrelated ERROR frame goes to onError with its code and details", async (t) => {
  const h = await connectedAs(t, server.url, "lost");
  const roomId = uniqueRoom("not-joined");
  h.client.send(LeaveRoom, { roomId });
  const error = await h.errors.next("the ERROR for leaving a room one is not in");
  assert.ok(error instanceof ServerError, String(error));
  assert.equal(error.code, "FAILED_PRECONDITION");
  assert.deepEqual(error.details, { roomId });
  assert.equal(error.correlationId, undefined);
});

test("an invalid inbound frame is reported to onError and never reaches a handler", async (t) => {
  const h = await connectedAs(t, server.url, "dora");
  const chat = new Inbox<ChatMessage>();
  h.client.on(ChatMessage, chat.push);
  h.client.send(TypingStart, { roomId: TRIGGER.invalidFrame });
  // The valid frame follows the invalid one on the wire, so once it is handled the invalid
  // one has been dealt with.
  const valid = await chat.next("the valid CHAT_MESSAGE after the invalid one");
  assert.equal(valid.id, TRIGGER.afterInvalidId);
  assert.equal(chat.items.length, 1, "the invalid CHAT_MESSAGE reached the handler");
  assert.deepEqual(
    h.unhandled.items.filter((e) => e.type === "CHAT_MESSAGE"),
    [],
  );
  assert.equal(h.errors.items.length, 1, `expected one error, got ${h.errors.items.map(String).join("; ")}`);
  const error = h.errors.items[0];
  assert.ok(error instanceof ValidationError, String(error));
  assert.equal(error.direction, "inbound");
  assert.equal(error.messageType, "CHAT_MESSAGE");
  assert.deepEqual(issueKeys(error.issues), ["/userName required"]);
});

/** A payload the typed API would not accept: the cases below bypass the compiler on purpose. */
function untyped<T>(payload: unknown): T {
  return payload as T;
}

const INVALID_MESSAGES: readonly { readonly name: string; readonly payload: SendMessage }[] = [
  { name: "empty strings", payload: { roomId: "", text: "" } },
  {
    name: "too long, a bad URL and an empty name",
    payload: { roomId: "r", text: "x".repeat(1001), attachment: { url: "not a url", name: "" } },
  },
  { name: "a missing field", payload: untyped({ roomId: "r" }) },
  { name: "an unknown field", payload: untyped({ roomId: "r", text: "hi", mood: "happy" }) },
  { name: "a wrong type", payload: untyped({ roomId: 42, text: "hi" }) },
  { name: "text counted in Unicode scalar values", payload: { roomId: "r", text: "😀".repeat(1001) } },
];

const INVALID_REQUESTS: readonly { readonly name: string; readonly payload: GetMessages }[] = [
  { name: "limit below the range", payload: { roomId: "r", limit: 0 } },
  { name: "limit above the range and an empty room", payload: { roomId: "", limit: 101 } },
  { name: "a fractional limit", payload: { roomId: "r", limit: 1.5 } },
];

test("outbound validation fails at the caller with the same paths and codes the server reports", async (t) => {
  const h = await connectedAs(t, server.url, "strict");
  const raw = await RawSocket.open(t, `${server.url}?access_token=${tokenFor("raw")}`);
  await raw.frames.next("ROOM_LIST on open", (f) => f.type === "ROOM_LIST");
  for (const { name, payload } of INVALID_MESSAGES) {
    let thrown: unknown;
    try {
      h.client.send(SendMessage, payload);
    } catch (error) {
      thrown = error;
    }
    assert.ok(thrown instanceof ValidationError, `${name}: send() did not throw a ValidationError: ${String(thrown)}`);
    assert.equal(thrown.direction, "outbound");
    raw.send({ type: "SEND_MESSAGE", meta: { timestamp: Date.now() }, payload });
    const answer = await raw.frames.next(`the server's answer to ${name}`);
    assert.equal(answer.type, "ERROR", name);
    const serverError = answer.payload as { code: string; details: { issues: Issue[] } };
    assert.equal(serverError.code, "INVALID_ARGUMENT", name);
    assert.deepEqual(issueKeys(thrown.issues), issueKeys(serverError.details.issues), name);
  }
  for (const [index, { name, payload }] of INVALID_REQUESTS.entries()) {
    const thrown = await rejection(h.client.request(GetMessages, payload), name);
    assert.ok(thrown instanceof ValidationError, `${name}: ${String(thrown)}`);
    const id = `invalid-${index}`;
    raw.send({ type: "GET_MESSAGES", meta: { timestamp: Date.now(), correlationId: id }, payload });
    const answer = await raw.reply(id);
    assert.equal(answer.type, "RPC_ERROR", name);
    const serverError = answer.payload as { code: string; details: { issues: Issue[] } };
    assert.equal(serverError.code, "INVALID_ARGUMENT", name);
    assert.deepEqual(issueKeys(thrown.issues), issueKeys(serverError.details.issues), name);
  }
  // Nothing invalid left the client: the server would have answered each with an ERROR
  // before this reply (refusals are queued at once, replies after the handler ran).
  assert.deepEqual(await h.client.request(Calculate, { operation: "add", a: 0.5, b: 0.25 }), { result: 0.75 });
  assertNoErrors(h);
});
