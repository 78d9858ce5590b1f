// Twinwire's runtime serves WS-Kit's own client: frames shaped exactly as @ws-kit/client
// sends them (envelope, meta.timestamp, meta.correlationId, access_token or bearer.<token>;
// see support/wskit-client.ts) reach the Rust e2e server's handlers, and the replies read the
// way that client reads them, progress (from `data`) included.
import assert from "node:assert/strict";
import { type TestContext, after, before, test } from "node:test";
import { message } from "@ws-kit/zod";
import { z } from "zod";
import { tokenFor } from "./support/chat.js";
import { type ServerProcess, startRustServer } from "./support/processes.js";
import { Inbox, rejection } from "./support/wait.js";
import { type WsKitMessage, WsKitRpcError, WsKitClientFrames } from "./support/wskit-client.js";

/** A server as configured for WS-Kit clients: progress values under `data` too. */
let forWsKit: ServerProcess;
/** A server with the default configuration: progress values under `payload` only. */
let plain: ServerProcess;

before(async () => {
  [forWsKit, plain] = await Promise.all([startRustServer(), startRustServer({ progressDataField: false })]);
});

after(async () => {
  await Promise.all([forWsKit.stop(), plain.stop()]);
});

test("messages: WS-Kit client frames reach the handlers; the pushes it gets are plain envelopes", async (t) => {
  const roomId = `wskit-room-${process.pid}`;
  const client = await WsKitClientFrames.connect(t, forWsKit.url, { token: tokenFor("kit"), attach: "query" });
  const joined = new Inbox<WsKitMessage>();
  const chat = new Inbox<WsKitMessage>();
  client.on("USER_JOINED", joined.push);
  client.on("CHAT_MESSAGE", chat.push);
  client.send("JOIN_ROOM", { roomId });
  const join = await joined.next("USER_JOINED");
  assert.deepEqual(join.payload, { roomId, userId: "user-kit", userName: "kit" });
  assert.equal(typeof join.meta?.["timestamp"], "number");
  // Extra meta keys, as WS-Kit apps pass them, are accepted.
  client.send("SEND_MESSAGE", { roomId, text: "from a WS-Kit client" }, { traceId: "t-1", clientId: "forged" });
  const message = await chat.next("CHAT_MESSAGE");
  assert.equal((message.payload as { text: string }).text, "from a WS-Kit client");
  assert.equal((message.payload as { userName: string }).userName, "kit");
  assert.deepEqual(
    client.received.filter((m) => m.type === "ERROR" || m.type === "RPC_ERROR"),
    [],
  );
});

test("auth: the bearer.<token> subprotocol is accepted and echoed, as WS-Kit's client expects", async (t) => {
  const client = await WsKitClientFrames.connect(t, forWsKit.url, { token: tokenFor("proto"), attach: "protocol" });
  assert.equal(client.protocol, `bearer.${tokenFor("proto")}`);
  const success = new Inbox<WsKitMessage>();
  client.on("AUTH_SUCCESS", success.push);
  client.send("AUTHENTICATE", { token: tokenFor("proto") });
  assert.deepEqual((await success.next("AUTH_SUCCESS")).payload, { userId: "user-proto", userName: "proto" });
  // With an app protocol offered first, that one is echoed.
  const withApp = await WsKitClientFrames.connect(t, forWsKit.url, { token: tokenFor("proto"), attach: "protocol" }, ["chat.v1"]);
  assert.equal(withApp.protocol, "chat.v1");
});

test("RPC: a request with a UUID correlation id resolves with the whole reply message", async (t) => {
  const client = await WsKitClientFrames.connect(t, forWsKit.url, { token: tokenFor("kit"), attach: "query" });
  const reply = await client.request("CALCULATE", { operation: "multiply", a: 6, b: 7 }, "CALCULATE_RESULT");
  assert.equal(reply.type, "CALCULATE_RESULT");
  assert.deepEqual(reply.payload, { result: 42 });
  assert.match(String(reply.meta?.["correlationId"]), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  // An app-chosen correlation id, as `request(..., {correlationId})` allows.
  const chosen = await client.request("CALCULATE", { operation: "add", a: 1, b: 2 }, "CALCULATE_RESULT", { correlationId: "mine-1" });
  assert.equal(chosen.meta?.["correlationId"], "mine-1");
});

test("RPC errors: WS-Kit's client reads code, message and details from RPC_ERROR", async (t) => {
  const client = await WsKitClientFrames.connect(t, forWsKit.url, { token: tokenFor("kit"), attach: "query" });
  const roomId = `wskit-missing-${process.pid}`;
  const missing = await rejection(client.request("GET_MESSAGES", { roomId, limit: 5 }, "MESSAGES"), "GET_MESSAGES of an unknown room");
  assert.ok(missing instanceof WsKitRpcError, String(missing));
  assert.equal(missing.code, "NOT_FOUND");
  assert.equal(missing.message, `no room \`${roomId}\``);
  assert.deepEqual(missing.details, { roomId });
  // Bad input is answered at once (WS-Kit's server would drop it), so the request settles.
  const invalid = await rejection(client.request("GET_MESSAGES", { roomId, limit: 0 }, "MESSAGES"), "GET_MESSAGES with limit 0");
  assert.ok(invalid instanceof WsKitRpcError, String(invalid));
  assert.equal(invalid.code, "INVALID_ARGUMENT");
  assert.deepEqual((invalid.details as { issues: { path: string; code: string }[] }).issues.map((i) => [i.path, i.code]), [["/limit", "too_small"]]);
});

/** What WS-Kit's client got from a GET_MESSAGES with progress. */
interface ProgressSeen {
  /** The values its `onProgress` was called with. */
  readonly values: unknown[];
  /** The progress frames as they came off the wire. */
  readonly frames: WsKitMessage[];
}

/** Posts two messages to a fresh room and asks for its history with WS-Kit's client. */
async function progressSeenByWsKitClient(t: TestContext, server: ServerProcess, name: string): Promise<ProgressSeen> {
  const client = await WsKitClientFrames.connect(t, server.url, { token: tokenFor(name), attach: "query" });
  const roomId = `wskit-progress-${name}-${process.pid}`;
  const chat = new Inbox<WsKitMessage>();
  client.on("CHAT_MESSAGE", chat.push);
  for (const text of ["a", "b"]) {
    client.send("SEND_MESSAGE", { roomId, text });
    await chat.next(`the echo of ${text}`);
  }
  const values: unknown[] = [];
  const reply = await client.request("GET_MESSAGES", { roomId, limit: 10 }, "MESSAGES", { onProgress: (data) => values.push(data) });
  assert.deepEqual(
    (reply.payload as { messages: { text: string }[] }).messages.map((m) => m.text),
    ["a", "b"],
  );
  return { values, frames: client.received.filter((m) => m.type === "$ws:rpc-progress") };
}

const PROGRESS = [{ phase: "lookup" }, { phase: "collect", count: 2 }];

test("RPC progress: by default WS-Kit's client reads the values from `data`", async (t) => {
  const seen = await progressSeenByWsKitClient(t, forWsKit, "data");
  assert.deepEqual(seen.values, PROGRESS);
  // The value is in `payload` too, where twinwire's client and WS-Kit's server put it.
  assert.deepEqual(
    seen.frames.map((f) => f.payload),
    PROGRESS,
  );
});

test("RPC progress: with progress_data_field(false) the runtime writes `payload` only, which WS-Kit's client cannot read", async (t) => {
  const seen = await progressSeenByWsKitClient(t, plain, "payload");
  assert.deepEqual(seen.values, [undefined, undefined]);
  assert.deepEqual(
    seen.frames.map((f) => f.payload),
    PROGRESS,
  );
  assert.ok(seen.frames.every((f) => !("data" in f)));
});

// The chat's server → client messages as a WS-Kit app declares them by hand, the usual way: an
// `Option` field is `.optional()` (WS-Kit's tutorial writes it so), not `.nullable()`.
const wsKitAttachment = z.object({ url: z.string(), name: z.string().optional() });
const wsKitChatMessage = z.object({
  id: z.string(),
  roomId: z.string(),
  userId: z.string(),
  userName: z.string(),
  text: z.string(),
  attachment: wsKitAttachment.optional(),
  timestamp: z.number(),
});
// Whole frames, as WS-Kit validates them (envelope and meta included).
const WS_KIT_SCHEMAS: Record<string, z.ZodType> = {
  AUTH_SUCCESS: message("AUTH_SUCCESS", { userId: z.string(), userName: z.string() }),
  ROOM_LIST: message("ROOM_LIST", {
    rooms: z.array(z.object({ id: z.string(), name: z.string(), userCount: z.number() })),
  }),
  USER_JOINED: message("USER_JOINED", { roomId: z.string(), userId: z.string(), userName: z.string() }),
  USER_LEFT: message("USER_LEFT", { roomId: z.string(), userId: z.string() }),
  CHAT_MESSAGE: message("CHAT_MESSAGE", wsKitChatMessage.shape),
  MESSAGES: message("MESSAGES", { roomId: z.string(), messages: z.array(wsKitChatMessage) }),
};

test("Option on the wire: WS-Kit schemas written with .optional() accept every frame the server sends", async (t) => {
  const roomId = `wskit-optional-${process.pid}`;
  const client = await WsKitClientFrames.connect(t, forWsKit.url, { token: tokenFor("opt"), attach: "query" });
  const chat = new Inbox<WsKitMessage>();
  client.on("CHAT_MESSAGE", chat.push);
  client.send("AUTHENTICATE", { token: tokenFor("opt") });
  client.send("JOIN_ROOM", { roomId });
  // `None` at each level: no attachment, an attachment without a name (left out and sent as
  // null by the client), and everything set.
  const sent = [
    { roomId, text: "no attachment" },
    { roomId, text: "no name", attachment: { url: "https://example.com/a.png" } },
    { roomId, text: "null name", attachment: { url: "https://example.com/b.png", name: null } },
    { roomId, text: "named", attachment: { url: "https://example.com/c.png", name: "c" } },
  ];
  for (const payload of sent) {
    client.send("SEND_MESSAGE", payload);
    await chat.next(`the echo of ${payload.text}`);
  }
  await client.request("GET_MESSAGES", { roomId, limit: 10 }, "MESSAGES");
  const seen = new Set<string>();
  for (const frame of client.received) {
    const schema = WS_KIT_SCHEMAS[frame.type];
    if (schema === undefined) continue;
    seen.add(frame.type);
    const result = schema.safeParse(frame);
    assert.ok(result.success, `${frame.type} ${JSON.stringify(frame)}: ${result.error?.message ?? ""}`);
  }
  assert.deepEqual([...seen].sort(), ["AUTH_SUCCESS", "CHAT_MESSAGE", "MESSAGES", "ROOM_LIST", "USER_JOINED"]);
  const echoed = client.received.filter((f) => f.type === "CHAT_MESSAGE").map((f) => f.payload);
  assert.deepEqual(
    echoed.map((p) => (p as { attachment?: unknown }).attachment),
    [undefined, { url: "https://example.com/a.png" }, { url: "https://example.com/b.png" }, { url: "https://example.com/c.png", name: "c" }],
  );
  assert.ok(echoed.every((p) => !Object.values(p as object).includes(null)), "no null on the wire");
});
