// Type-level tests, checked by `tsc --noEmit` (run-tests.sh) and never run. Each
// `@ts-expect-error` line must be a compile error: if it compiles, tsc fails with
// "Unused '@ts-expect-error' directive". The lines without it must compile.
import { WebSocket } from "ws";
import type {
  ClientError,
  InboundEnvelope,
  MessageDescriptor,
  Meta,
  PayloadOf,
  ResponseOf,
  TwinwireClient,
} from "../../codegen-cli/ts/twinwire-client.js";
import {
  Calculate,
  CalculateResult,
  Chat,
  ChatMessage,
  GetMessages,
  Logout,
  Messages,
  Ping,
  SendMessage,
  SessionExpired,
  UserTyping,
  createChatClient,
} from "./fixtures/chat-protocol.js";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | undefined {
  return undefined;
}

const client: TwinwireClient<typeof Chat> = createChatClient({ url: "ws://127.0.0.1:1", WebSocket });

// ── payload inference from the descriptors' literal types ──
assertType<Equal<PayloadOf<typeof SendMessage>, SendMessage>>();
assertType<Equal<PayloadOf<typeof Logout>, undefined>>();
assertType<Equal<PayloadOf<typeof GetMessages>, GetMessages>>();
assertType<Equal<ResponseOf<typeof GetMessages>, Messages>>();
assertType<Equal<ResponseOf<typeof Ping>, undefined>>();

// ── send: client messages only, exact payload ──
client.send(SendMessage, { roomId: "general", text: "hi" });
client.send(SendMessage, { roomId: "general", text: "hi", attachment: null }, { meta: { trace: "t1" } });
client.send(Logout);
client.send(Logout, undefined, { meta: { reason: "bye" } });

// @ts-expect-error: sending a server message
client.send(ChatMessage, { id: "1", roomId: "r", userId: "u", text: "t", attachment: null, timestamp: 1 });
// @ts-expect-error: a wrong payload field
client.send(SendMessage, { roomId: "general", txt: "hi" });
// @ts-expect-error: a field of the wrong type
client.send(SendMessage, { roomId: "general", text: 42 });
// @ts-expect-error: the payload is missing
client.send(SendMessage);
// @ts-expect-error: a payload-less message given a payload
client.send(Logout, {});
// @ts-expect-error: an RPC request must go through request(), which awaits the reply
client.send(GetMessages, { roomId: "general" });

// ── on: server messages only, typed payload and meta ──
const off = client.on(ChatMessage, (message, meta) => {
  assertType<Equal<typeof message, ChatMessage>>();
  assertType<Equal<typeof meta, Meta>>();
  const text: string = message.text;
  return text;
});
off();
client.on(SessionExpired, (payload) => {
  assertType<Equal<typeof payload, undefined>>();
});
client.on(UserTyping, async (typing) => {
  const flag: boolean = typing.typing;
  await Promise.resolve(flag);
});

// @ts-expect-error: listening to a client message
client.on(SendMessage, () => {});
// @ts-expect-error: listening to an RPC request
client.on(GetMessages, () => {});
// @ts-expect-error: the handler's payload type is the message's
client.on(ChatMessage, (message: UserTyping) => message);

client.onUnhandled((envelope: InboundEnvelope<typeof Chat>) => {
  if (envelope.type === "CHAT_MESSAGE") {
    const text: string = envelope.payload.text;
    return text;
  }
  if (envelope.type === "SESSION_EXPIRED") {
    assertType<Equal<typeof envelope.payload, undefined>>();
  }
  // @ts-expect-error: only server messages arrive
  if (envelope.type === "SEND_MESSAGE") return;
  return undefined;
});

client.onError((error: ClientError) => {
  if (error.kind === "server") {
    const code: string = error.code;
    const retry: number | undefined = error.retryAfterMs;
    return [code, retry];
  }
  if (error.kind === "validation") return error.issues.map((i) => i.path);
  // @ts-expect-error: kinds are a closed set
  if (error.kind === "nonsense") return;
  return undefined;
});

client.onState((state) => {
  // @ts-expect-error: states are a closed set
  if (state === "disconnected") return;
});

// ── request: RPCs only, response typed by the RPC's response message ──
export async function requests(): Promise<void> {
  const messages: Messages = await client.request(GetMessages, { roomId: "general", limit: 10 });
  const sum: CalculateResult = await client.request(
    Calculate,
    { operation: "add", a: 1, b: 2 },
    { timeoutMs: 1000, signal: new AbortController().signal, onProgress: (value: unknown) => value },
  );
  const pong: undefined = await client.request(Ping);
  void [messages, sum, pong];

  // @ts-expect-error: awaiting the wrong response type
  const wrong: CalculateResult = await client.request(GetMessages, { roomId: "general" });
  // @ts-expect-error: request() with a non-RPC descriptor
  await client.request(SendMessage, { roomId: "general", text: "hi" });
  // @ts-expect-error: request() with a server message
  await client.request(Messages, { roomId: "general", messages: [] });
  // @ts-expect-error: a wrong request payload
  await client.request(Calculate, { operation: "divide", a: 1, b: 2 });
  // @ts-expect-error: the request payload is missing
  await client.request(GetMessages);
  // @ts-expect-error: an unknown request option
  await client.request(GetMessages, { roomId: "general" }, { timeout: 5 });
  void wrong;
}

// ── a descriptor from another protocol is rejected ──
declare const Foreign: MessageDescriptor<"FOREIGN", "client", { a: number }>;
// @ts-expect-error: not a message of Chat
client.send(Foreign, { a: 1 });
