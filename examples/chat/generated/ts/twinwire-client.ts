/**
 * twinwire's TypeScript client: one protocol-independent WebSocket client, typed by the
 * message descriptors of a generated `protocol.ts`.
 *
 * The twinwire generator copies this file byte for byte beside `protocol.ts`. Edit the
 * original (`codegen-cli/ts/twinwire-client.ts` in twinwire's repository), never a copy.
 * It has no dependencies and runs in browsers and in Node 20+ (which has no global
 * `WebSocket`: pass one, e.g. `WebSocket` from the `ws` package, as `options.WebSocket`).
 * It type-checks under `strict` with or without the DOM and Node type libraries.
 *
 * Wire protocol: `docs/wire-protocol.md` in twinwire's repository, compatible with WS-Kit 0.10.
 * Behaviour in brief:
 *
 * - **Outbound**: `send` and `request` check the payload with the descriptor's `validate`
 *   before anything is written; a bad payload fails at the caller with a
 *   {@link ValidationError} carrying the same JSON-pointer paths the server would report.
 * - **Inbound**: every frame is parsed, envelope-checked and validated before a handler sees
 *   it. A frame that fails any step goes to `onError` and is dropped, never to a handler.
 *   Server `ERROR` frames go to `onError` as {@link ServerError}s.
 * - **Tolerant reader** (the default; `strict: true` turns it off): so that a newer server
 *   can talk to this client, a server frame whose wire type this protocol does not declare
 *   as a server message goes to `onUnknown` listeners instead of `onError`, and fields a
 *   payload's type does not declare are ignored (left in the object handed to handlers, where
 *   the payload's type does not show them). Everything declared is still validated, and an
 *   enum variant this client does not know is still an error. See "Evolving a protocol" in
 *   twinwire's README.
 * - **RPC**: a request carries `meta.correlationId`; exactly one terminal frame (the
 *   response message, or `RPC_ERROR`) settles it. Progress frames (`$ws:rpc-progress`) carry
 *   their value in `payload` (what twinwire's and WS-Kit's servers send); a frame without
 *   `payload` falls back to `data` (what WS-Kit's own client reads), so either server works.
 *   Frames for a correlation id nobody waits for (late after a timeout or abort, or a
 *   duplicate) are ignored. On timeout or abort of a request already sent, the client sends
 *   WS-Kit's cancellation frame `{"type":"$ws:abort","meta":{"correlationId"}}` (turn off with
 *   `sendAbortFrames: false`).
 * - **Connection**: explicit `connect()` / `close()`; states `closed | connecting | open |
 *   closing | reconnecting`. After an unexpected close the client reconnects with
 *   exponential backoff and full jitter ({@link DEFAULT_RECONNECT}). Requests already sent
 *   are rejected with {@link ConnectionClosedError} when their connection drops (the server
 *   forgets them with the connection, so a reply can never come); requests and messages
 *   still queued survive the drop and are sent on the next connection.
 * - **Queue**: while `connecting` or `reconnecting`, `send` and `request` queue their frames
 *   (bounded, {@link DEFAULT_QUEUE}) and the queue is flushed in order on open, before any
 *   `onState` listener runs. In `closed` or `closing` state both fail at once with
 *   {@link ConnectionClosedError}: call `connect()` first. `close()` and giving up on
 *   reconnecting discard the queue (queued requests reject, the number of discarded
 *   messages is reported to `onState`).
 * - **Delivery** is at most once: a frame written just before a connection dies may be lost,
 *   and is never re-sent (a request in flight then rejects with `ConnectionClosedError`).
 *
 * @module
 */

// ───────────────────────── Contract C: descriptors written by the generator ─────────────────────────

/** One failed check: same paths and codes as the Rust `Validate` implementation. */
export interface Issue {
  /** JSON pointer to the failing value, with wire names (`/attachment/url`); `""` is the payload. */
  path: string;
  /** Stable machine-readable code: `too_short`, `too_long`, `too_small`, `too_large`, `pattern`, … */
  code: string;
  /** Human-readable explanation. */
  message: string;
}

/** Who sends a message: `"client"` messages go to the server, `"server"` messages come from it. */
export type Direction = "client" | "server";

/** Envelope meta: the standard keys plus any per-message extras. */
export interface Meta {
  /** Milliseconds since the Unix epoch, set by the sender. */
  timestamp?: number;
  /** Marks an RPC request and its terminal reply. */
  correlationId?: string;
  /** Per-message extras. */
  [key: string]: unknown;
}

/**
 * A message of a protocol, as the generator describes it: wire type, direction, validator,
 * and `Mt`, the type of its typed meta (`unknown` when it declares none).
 */
export interface MessageDescriptor<T extends string = string, D extends Direction = Direction, P = unknown, Mt = unknown> {
  /** The wire `type`, e.g. `"SEND_MESSAGE"`. */
  readonly type: T;
  /** Who sends it. */
  readonly direction: D;
  /** `false` when frames carry no `payload` key; `P` is then `undefined`. */
  readonly hasPayload: boolean;
  /** Shape and constraint check of a payload; `[]` when valid. JSON-pointer paths like the server's. */
  readonly validate: (payload: unknown) => Issue[];
  /**
   * Check of the typed meta (the whole `meta` object; keys it does not declare are allowed),
   * with paths relative to `meta`; absent when the message declares no typed meta.
   */
  readonly validateMeta?: (meta: unknown) => Issue[];
  /** Phantom, for type inference only; never set. */
  readonly __payload?: P;
  /** Phantom, for type inference only; never set. */
  readonly __meta?: Mt;
}

/** A client message answered by exactly one `response` message (or an `RPC_ERROR`). */
export interface RpcDescriptor<
  T extends string = string,
  P = unknown,
  R extends MessageDescriptor<string, "server", unknown> = MessageDescriptor<string, "server", unknown>,
  Mt = unknown,
> extends MessageDescriptor<T, "client", P, Mt> {
  /** The message that answers this request. */
  readonly response: R;
}

/** A protocol: its name and every message of both directions (RPC requests and responses included). */
export interface ProtocolDescriptor {
  /** The protocol's name, e.g. `"Chat"`. */
  readonly name: string;
  /**
   * The fingerprint of the manifest this descriptor was generated from (a content hash, see
   * `docs/wire-protocol.md`, "Transport and upgrade"), sent as `twinwire_fp` when connecting.
   */
  readonly fingerprint?: string;
  /** Every message; wire types are unique. */
  readonly messages: readonly MessageDescriptor[];
}

// ───────────────────────── Types derived from the descriptors ─────────────────────────

/** The payload type of a descriptor (`undefined` for a payload-less message). */
export type PayloadOf<M> = M extends MessageDescriptor<string, Direction, infer P> ? P : never;

/** The typed meta of a descriptor (`unknown` when it declares none). */
export type MetaOf<M> = M extends MessageDescriptor<string, Direction, unknown, infer Mt> ? Mt : never;

/** The `meta` of a validated inbound frame of message `M`: the standard keys and its typed meta. */
export type InboundMetaOf<M> = unknown extends MetaOf<M> ? Meta : Meta & MetaOf<M>;

/** The `meta` option of a send of message `M`: its typed meta (when declared) plus any extras. */
export type MetaArg<M> = unknown extends MetaOf<M>
  ? Readonly<Record<string, unknown>>
  : Readonly<MetaOf<M> & Record<string, unknown>>;

/** The payload type of an RPC's response message. */
export type ResponseOf<R> = R extends { readonly response: infer Res } ? PayloadOf<Res> : never;

/** Every message descriptor of a protocol. */
export type MessageOf<P extends ProtocolDescriptor> = P["messages"][number];

/** Messages the client may `send`: client messages that are not RPC requests. */
export type ClientMessageOf<P extends ProtocolDescriptor> = Exclude<
  Extract<MessageOf<P>, { readonly direction: "client" }>,
  { readonly response: unknown }
>;

/** Messages the client may listen to with `on`. */
export type ServerMessageOf<P extends ProtocolDescriptor> = Extract<MessageOf<P>, { readonly direction: "server" }>;

/** RPC requests the client may `request`. */
export type RpcOf<P extends ProtocolDescriptor> = Extract<
  MessageOf<P>,
  { readonly direction: "client"; readonly response: unknown }
>;

/** A validated inbound frame of message `M`. */
export type EnvelopeOf<M> =
  M extends MessageDescriptor<infer T, Direction, infer Pl>
    ? { readonly type: T; readonly meta: InboundMetaOf<M>; readonly payload: Pl }
    : never;

/** Any validated server message of protocol `P`, discriminated by `type`. */
export type InboundEnvelope<P extends ProtocolDescriptor> = EnvelopeOf<ServerMessageOf<P>>;

/** Options of one `send`. */
export interface SendOptions {
  /** Extra meta keys. `correlationId`, `clientId` and `receivedAt` are reserved. */
  readonly meta?: Readonly<Record<string, unknown>>;
}

/** Options of one `request`. */
export interface RequestOptions extends SendOptions {
  /** Deadline from the call, queued time included. Default `requestTimeoutMs`; `Infinity` waits forever. */
  readonly timeoutMs?: number;
  /** Aborts the request: it rejects with {@link AbortedError}. */
  readonly signal?: AbortSignalLike;
  /** Called with each progress value, in order, until the request settles. */
  readonly onProgress?: (value: unknown) => void;
}

/**
 * Whether the options of a send of `M` are required: its typed meta has a required key. Then
 * `options.meta` is required too, and type-checked against the typed meta.
 */
type MetaRequired<M> = unknown extends MetaOf<M> ? false : {} extends MetaOf<M> ? false : true;

/** The options type `O` of a send of `M`, with `meta` typed by its typed meta. */
type OptionsOf<M, O> = unknown extends MetaOf<M>
  ? O
  : MetaRequired<M> extends true
    ? O & { readonly meta: MetaArg<M> }
    : O & { readonly meta?: MetaArg<M> };

/** A send's arguments after the descriptor: the payload (omitted when there is none) and options. */
type ArgsOf<M, O> = [PayloadOf<M>] extends [undefined]
  ? MetaRequired<M> extends true
    ? [payload: undefined, options: OptionsOf<M, O>]
    : [payload?: undefined, options?: OptionsOf<M, O>]
  : MetaRequired<M> extends true
    ? [payload: PayloadOf<M>, options: OptionsOf<M, O>]
    : [payload: PayloadOf<M>, options?: OptionsOf<M, O>];

/** `send`'s arguments after the descriptor: the payload (omitted when there is none) and options. */
export type SendArgs<M> = ArgsOf<M, SendOptions>;

/** `request`'s arguments after the descriptor. */
export type RequestArgs<R> = ArgsOf<R, RequestOptions>;

// ──────────── Wire constants (twinwire's docs/wire-protocol.md, "Reserved types") ────────────

/** Wire types of the protocol's own frames. */
export const WIRE = {
  /** Uncorrelated error from the server. */
  ERROR: "ERROR",
  /** Terminal error answering an RPC request. */
  RPC_ERROR: "RPC_ERROR",
  /** Non-terminal RPC progress. */
  RPC_PROGRESS: "$ws:rpc-progress",
  /** Client-initiated RPC cancellation (WS-Kit). */
  RPC_ABORT: "$ws:abort",
  /** Application heartbeat sent by the client. */
  HEARTBEAT: "__heartbeat",
  /** The server's answer to a heartbeat. */
  HEARTBEAT_ACK: "__heartbeat_ack",
} as const;

/** Meta keys the caller may not set: the client sets `correlationId`, the server the others. */
const RESERVED_META_KEYS: readonly string[] = ["correlationId", "clientId", "receivedAt"];

/** Close code used when the client drops a connection whose heartbeat went unanswered. */
export const HEARTBEAT_TIMEOUT_CLOSE_CODE = 4000;

// ───────────────────────── Errors ─────────────────────────

/** Error codes as gRPC names them; servers may add their own. */
export type ErrorCode =
  | "UNAUTHENTICATED"
  | "PERMISSION_DENIED"
  | "INVALID_ARGUMENT"
  | "FAILED_PRECONDITION"
  | "NOT_FOUND"
  | "ALREADY_EXISTS"
  | "UNIMPLEMENTED"
  | "CANCELLED"
  | "DEADLINE_EXCEEDED"
  | "RESOURCE_EXHAUSTED"
  | "UNAVAILABLE"
  | "ABORTED"
  | "INTERNAL";

// Same defaults as the Rust `ErrorCode::is_retryable`, used when the server omits `retryable`.
const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  "DEADLINE_EXCEEDED",
  "RESOURCE_EXHAUSTED",
  "UNAVAILABLE",
  "ABORTED",
]);

/** Base class of every error this client produces; narrow with `kind`. */
export abstract class TwinwireError extends Error {
  /** Discriminates the error classes. */
  abstract readonly kind: ClientError["kind"];
}

function formatIssues(issues: readonly Issue[]): string {
  return issues.map((i) => `${i.path === "" ? "/" : i.path}: ${i.message}`).join("; ");
}

/**
 * A payload failed its descriptor's checks: outbound (nothing was sent) or inbound (frame
 * dropped). Like the server's `details.target`, `target` says what the issue paths point
 * into: `"payload"` (the descriptor's `validate`), or `"frame"` for a payload missing or
 * present against the message's declaration (path `/payload`, code `required` / `unexpected`)
 * and for a typed meta that fails the descriptor's `validateMeta` (paths under `/meta`).
 */
export class ValidationError extends TwinwireError {
  /** Discriminant. */
  readonly kind = "validation" as const;
  override readonly name = "ValidationError";
  /** Wire type of the message. */
  readonly messageType: string;
  /** `"outbound"`: the caller's payload; `"inbound"`: a frame from the server. */
  readonly direction: "outbound" | "inbound";
  /** What the issue paths point into. */
  readonly target: "payload" | "frame";
  /** Every failed check. */
  readonly issues: readonly Issue[];

  /** An error listing `issues` of a `messageType` payload (or frame). */
  constructor(
    messageType: string,
    direction: "outbound" | "inbound",
    issues: readonly Issue[],
    target: "payload" | "frame" = "payload",
  ) {
    const what = direction === "outbound" ? "invalid payload for" : "received an invalid";
    super(`${what} ${messageType}: ${formatIssues(issues)}`);
    this.messageType = messageType;
    this.direction = direction;
    this.target = target;
    this.issues = issues;
  }
}

/** An `ERROR` or `RPC_ERROR` frame from the server. */
export class ServerError extends TwinwireError {
  /** Discriminant. */
  readonly kind = "server" as const;
  override readonly name = "ServerError";
  /** The error code, e.g. `"NOT_FOUND"`. */
  readonly code: ErrorCode | (string & {});
  /** Structured detail, e.g. `{ issues: [...] }` for `INVALID_ARGUMENT`. */
  readonly details: unknown;
  /** Whether retrying may succeed: the server's word, else the code's default. */
  readonly retryable: boolean;
  /** How long to wait before retrying, when the server says. */
  readonly retryAfterMs: number | undefined;
  /** The request's correlation id, for `RPC_ERROR`. */
  readonly correlationId: string | undefined;

  /** An error from a validated error payload. */
  constructor(payload: ErrorPayload, correlationId?: string) {
    super(payload.message);
    this.code = payload.code;
    this.details = payload.details;
    this.retryable = payload.retryable ?? RETRYABLE_CODES.has(payload.code);
    this.retryAfterMs = payload.retryAfterMs;
    this.correlationId = correlationId;
  }

  /** The validation issues of an `INVALID_ARGUMENT` error (`details.issues`), if any. */
  get issues(): readonly Issue[] | undefined {
    const issues = isRecord(this.details) ? this.details["issues"] : undefined;
    return Array.isArray(issues) && issues.every(isIssue) ? issues : undefined;
  }
}

/** A request's deadline passed before its reply. */
export class TimeoutError extends TwinwireError {
  /** Discriminant. */
  readonly kind = "timeout" as const;
  override readonly name = "TimeoutError";
  /** Wire type of the request. */
  readonly messageType: string;
  /** The deadline that passed. */
  readonly timeoutMs: number;

  /** A timeout of a `messageType` request after `timeoutMs`. */
  constructor(messageType: string, timeoutMs: number) {
    super(`${messageType} got no reply within ${timeoutMs} ms`);
    this.messageType = messageType;
    this.timeoutMs = timeoutMs;
  }
}

/** The connection closed (or was never open) while a request waited, or the client is closed. */
export class ConnectionClosedError extends TwinwireError {
  /** Discriminant. */
  readonly kind = "connection_closed" as const;
  override readonly name = "ConnectionClosedError";
  /** The WebSocket close code, when a connection closed. */
  readonly code: number | undefined;
  /** The close reason, when one was given. */
  readonly reason: string;

  /** An error explained by `message`, for a connection closed with `code`/`reason`. */
  constructor(message: string, code?: number, reason = "") {
    super(message);
    this.code = code;
    this.reason = reason;
  }
}

/**
 * The server refused the connection with a terminal close code (see {@link refusalKind}): the
 * client does not reconnect, `connect()` rejects with this error and `onError` hears it.
 */
export class RefusedError extends TwinwireError {
  /** Discriminant: `unauthenticated` (4401), `forbidden` (4403) or `refused` (another 44xx). */
  readonly kind: "unauthenticated" | "forbidden" | "refused";
  override readonly name = "RefusedError";
  /** The WebSocket close code. */
  readonly code: number;
  /** The close reason: the server's message. */
  readonly reason: string;

  /** A refusal with close `code` and `reason`. */
  constructor(code: number, reason: string) {
    super(`the server refused the connection (${code}${reason === "" ? "" : `: ${reason}`})`);
    this.kind = refusalKind(code) ?? "refused";
    this.code = code;
    this.reason = reason;
  }
}

/**
 * The kind of a terminal refusal close code, or `undefined` for a code after which the client
 * may reconnect. Terminal: 4400–4499 (the twinwire runtime's 4000 + HTTP 4xx status of an
 * `authenticate` refusal), except 4408 (timeout) and 4429 (too many requests), which are
 * worth retrying.
 */
export function refusalKind(code: number): RefusedError["kind"] | undefined {
  if (code < 4400 || code > 4499 || code === 4408 || code === 4429) return undefined;
  if (code === 4401) return "unauthenticated";
  if (code === 4403) return "forbidden";
  return "refused";
}

/** The caller's `AbortSignal` aborted the request. */
export class AbortedError extends TwinwireError {
  /** Discriminant. */
  readonly kind = "aborted" as const;
  override readonly name = "AbortedError";
  /** Wire type of the request. */
  readonly messageType: string;
  /** `signal.reason`. */
  readonly reason: unknown;

  /** An abort of a `messageType` request for `reason`. */
  constructor(messageType: string, reason: unknown) {
    super(`${messageType} was aborted`);
    this.messageType = messageType;
    this.reason = reason;
  }
}

/** What a {@link ProtocolError} found wrong with a frame. */
export type ProtocolErrorReason =
  | "malformed_json"
  | "invalid_envelope"
  | "undecodable_frame"
  | "unknown_type"
  | "wrong_direction"
  | "unexpected_reply"
  | "invalid_error_payload";

/** An inbound frame that breaks the wire protocol (not JSON, no envelope, unknown type, wrong reply…). */
export class ProtocolError extends TwinwireError {
  /** Discriminant. */
  readonly kind = "protocol" as const;
  override readonly name = "ProtocolError";
  /** What is wrong. */
  readonly reason: ProtocolErrorReason;
  /** The frame's wire type, when it had one. */
  readonly messageType: string | undefined;

  /** A protocol violation for `reason`, explained by `message`. */
  constructor(reason: ProtocolErrorReason, message: string, messageType?: string) {
    super(message);
    this.reason = reason;
    this.messageType = messageType;
  }
}

/** The outbound queue was full: with `drop-newest` the new frame, with `drop-oldest` the oldest. */
export class QueueFullError extends TwinwireError {
  /** Discriminant. */
  readonly kind = "queue_full" as const;
  override readonly name = "QueueFullError";
  /** Wire type of the dropped frame. */
  readonly messageType: string;
  /** Which frame was dropped. */
  readonly dropped: "newest" | "oldest";

  /** A `messageType` frame dropped from a queue of `maxSize`. */
  constructor(messageType: string, maxSize: number, dropped: "newest" | "oldest") {
    super(`the outbound queue (max ${maxSize}) is full: dropped the ${dropped} frame, a ${messageType}`);
    this.messageType = messageType;
    this.dropped = dropped;
  }
}

/** A connection attempt could not start: the token provider or the WebSocket constructor failed. */
export class ConnectionError extends TwinwireError {
  /** Discriminant. */
  readonly kind = "connection" as const;
  override readonly name = "ConnectionError";

  /** An error explained by `message`, caused by `cause`. */
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
  }
}

/** An application handler or listener threw (or its promise rejected); `cause` is what it threw. */
export class HandlerError extends TwinwireError {
  /** Discriminant. */
  readonly kind = "handler" as const;
  override readonly name = "HandlerError";
  /** The wire type being handled, or the listener's name (`"onState"`, `"onProgress"`). */
  readonly messageType: string;

  /** An error thrown by the handler of `messageType`. */
  constructor(messageType: string, cause: unknown) {
    super(`the handler of ${messageType} threw: ${String(cause)}`, { cause });
    this.messageType = messageType;
  }
}

/** Every error the client reports or rejects with; narrow with `kind`. */
export type ClientError =
  | ValidationError
  | ServerError
  | TimeoutError
  | ConnectionClosedError
  | AbortedError
  | ProtocolError
  | QueueFullError
  | ConnectionError
  | RefusedError
  | HandlerError;

/** The payload of `ERROR` and `RPC_ERROR` frames. */
export interface ErrorPayload {
  /** Error code. */
  code: ErrorCode | (string & {});
  /** Human-readable explanation. */
  message: string;
  /** Structured detail. */
  details?: unknown;
  /** Whether retrying may succeed; omitted when the code's default applies. */
  retryable?: boolean;
  /** How long to wait before retrying, in milliseconds. */
  retryAfterMs?: number;
}

// ───────────────────────── Environment (structural, so no DOM or Node types are needed) ─────────────────────────

// Method-derived function types are bivariant in their parameter, so both the DOM's and the
// `ws` package's handler properties (with their richer event types) fit these slots.
type Listener<E> = { bivarianceHack(event: E): void }["bivarianceHack"];

/** What the client needs of a WebSocket: the browser's and the `ws` package's both fit. */
export interface WebSocketLike {
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  /** Set to `"arraybuffer"` so binary frames can be decoded as UTF-8 JSON. */
  binaryType?: string;
  /** Open handler. */
  onopen: Listener<unknown> | null;
  /** Frame handler. */
  onmessage: Listener<{ readonly data: unknown }> | null;
  /** Close handler. */
  onclose: Listener<{ readonly code: number; readonly reason: string }> | null;
  /** Error handler (a close event always follows). */
  onerror: Listener<unknown> | null;
  /** Sends a text frame. */
  send(data: string): void;
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void;
}

/** A WebSocket constructor: `globalThis.WebSocket`, or `WebSocket` from the `ws` package. */
export type WebSocketConstructorLike = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** What the client needs of an `AbortSignal`. */
export interface AbortSignalLike {
  /** Whether it has aborted. */
  readonly aborted: boolean;
  /** Why. */
  readonly reason?: unknown;
  /** Registers an abort listener. */
  addEventListener(type: "abort", listener: () => void): void;
  /** Removes an abort listener. */
  removeEventListener(type: "abort", listener: () => void): void;
}

interface Host {
  readonly WebSocket?: WebSocketConstructorLike;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  readonly TextDecoder?: new (label: string, options: { fatal: boolean }) => { decode(input: unknown): string };
  readonly console?: { error(...data: unknown[]): void };
}

// Read through `globalThis` so the module type-checks without the DOM or Node libraries.
const host = globalThis as unknown as Host;

// setTimeout overflows above 2^31 − 1 ms and would fire at once.
const MAX_TIMER_MS = 2_147_483_647;

// ───────────────────────── Options ─────────────────────────

/** Reconnect policy after an unexpected close or a failed attempt. */
export interface ReconnectOptions {
  /** Ceiling of the first delay, in ms. */
  readonly initialDelayMs?: number;
  /** Largest ceiling of any delay, in ms. */
  readonly maxDelayMs?: number;
  /** Growth of the ceiling per attempt (≥ 1). */
  readonly factor?: number;
  /** Attempts after a drop before giving up (state `closed`); `Infinity` never gives up. */
  readonly maxAttempts?: number;
  /** Veto per close, e.g. to stop on a code the app uses for "logged out". Default: always. */
  readonly shouldReconnect?: (close: { readonly code: number; readonly reason: string }) => boolean;
}

/**
 * Reconnect defaults: delays drawn uniformly from `[0, min(maxDelayMs, initialDelayMs · factor^n))`
 * for the n-th attempt (full jitter), never giving up.
 */
export const DEFAULT_RECONNECT = {
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  factor: 2,
  maxAttempts: Number.POSITIVE_INFINITY,
} as const;

/** Outbound queue used while connecting or reconnecting. */
export interface QueueOptions {
  /** Most frames held; `0` disables queueing. */
  readonly maxSize?: number;
  /**
   * When full: `"drop-newest"` refuses the new frame (`send` throws, `request` rejects, with a
   * {@link QueueFullError}); `"drop-oldest"` evicts the oldest frame (its request rejects, a
   * plain message is reported to `onError`) and queues the new one.
   */
  readonly overflow?: "drop-newest" | "drop-oldest";
}

/** Queue defaults: 1000 frames, refusing new frames when full. */
export const DEFAULT_QUEUE = { maxSize: 1000, overflow: "drop-newest" } as const;

/** Default request deadline, in ms (WS-Kit's). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** Application heartbeat: `__heartbeat` every `intervalMs`; no frame within `timeoutMs` drops the connection. */
export interface HeartbeatOptions {
  /** Time between heartbeats, in ms. */
  readonly intervalMs: number;
  /** How long to wait for any inbound frame after a heartbeat; default `intervalMs`. */
  readonly timeoutMs?: number;
}

/** How the client authenticates at the upgrade. */
export interface AuthOptions {
  /** Called before every connection attempt; `""` connects without a token. */
  readonly token: () => string | Promise<string>;
  /**
   * `"query"` (default): appended as `access_token=<token>` (works with any token, but URLs
   * may be logged). `"subprotocol"`: offered as `bearer.<token>` after `protocols` (keeps the
   * token out of URLs; the token must consist of characters allowed in a subprotocol).
   */
  readonly via?: "query" | "subprotocol";
}

/** Options of a {@link TwinwireClient}. */
export interface ClientOptions {
  /** `ws://` or `wss://` URL of the server. */
  readonly url: string;
  /** WebSocket constructor; default `globalThis.WebSocket` (absent in Node 20: pass `ws`'s). */
  readonly WebSocket?: WebSocketConstructorLike;
  /** Subprotocols to offer. */
  readonly protocols?: string | readonly string[];
  /** Token provider. */
  readonly auth?: AuthOptions;
  /** Reconnect policy; `false` never reconnects. Default {@link DEFAULT_RECONNECT}. */
  readonly reconnect?: boolean | ReconnectOptions;
  /** Outbound queue. Default {@link DEFAULT_QUEUE}. */
  readonly queue?: QueueOptions;
  /** Default deadline of `request`; default {@link DEFAULT_REQUEST_TIMEOUT_MS}. */
  readonly requestTimeoutMs?: number;
  /** Application heartbeat; default off (servers ping at the WebSocket level). */
  readonly heartbeat?: HeartbeatOptions | false;
  /** Send `$ws:abort` when a sent request times out or is aborted; default `true`. */
  readonly sendAbortFrames?: boolean;
  /** Source of jitter in `[0, 1)`; default `Math.random`. */
  readonly random?: () => number;
  /**
   * Reject server frames with fields or wire types this protocol does not declare (to
   * `onError`, as {@link ValidationError} `unknown_field` and {@link ProtocolError}
   * `unknown_type` / `wrong_direction`). Default `false`: a tolerant reader, which keeps this
   * client working against a newer server.
   */
  readonly strict?: boolean;
  /**
   * Send the protocol's fingerprint as the query parameter `twinwire_fp` when connecting, so
   * the server can tell which version of the protocol this client was generated from.
   * Default `true` (when the protocol descriptor has a fingerprint).
   */
  readonly sendFingerprint?: boolean;
  /**
   * How long after `open` `connect()` waits for a refusal close (4401, 4403...) before it
   * resolves, in ms; a frame from the server ends the wait early. A browser reports `open`
   * before it reads a refusing server's close frame, which follows at once. Default
   * {@link DEFAULT_REFUSAL_WINDOW_MS}; `0` resolves at `open`.
   */
  readonly refusalWindowMs?: number;
}

/** A server frame of a wire type this client does not know as a server message (see `onUnknown`). */
export interface UnknownFrame {
  /** Its wire type. */
  readonly type: string;
  /** Its meta. */
  readonly meta: Meta;
  /** Its payload, unchecked; `undefined` when the frame has none. */
  readonly payload: unknown;
}

/** Default {@link ClientOptions.refusalWindowMs}. */
export const DEFAULT_REFUSAL_WINDOW_MS = 50;

/** Connection state. */
export type ConnectionState = "closed" | "connecting" | "open" | "closing" | "reconnecting";

/** What accompanies a state change. */
export interface StateDetail {
  /** Reconnect attempt number, from 1 (`reconnecting`). */
  readonly attempt?: number;
  /** Delay before that attempt, in ms (`reconnecting`). */
  readonly delayMs?: number;
  /** Close code of the connection that ended (`reconnecting`, `closed`). */
  readonly code?: number;
  /** Its close reason. */
  readonly reason?: string;
  /** Queued frames discarded on entering `closed`. */
  readonly discarded?: number;
}

/**
 * The ceiling-capped, fully jittered delay before reconnect attempt `attempt` (0-based):
 * uniform in `[0, min(maxDelayMs, initialDelayMs · factor^attempt))`.
 */
export function backoffDelay(
  attempt: number,
  policy: { readonly initialDelayMs: number; readonly maxDelayMs: number; readonly factor: number },
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** attempt);
  return Math.floor(random() * ceiling);
}

interface Resolved {
  readonly url: string;
  readonly WebSocket: WebSocketConstructorLike;
  readonly protocols: readonly string[];
  readonly auth: { readonly token: () => string | Promise<string>; readonly via: "query" | "subprotocol" } | undefined;
  readonly reconnect: Required<Omit<ReconnectOptions, "shouldReconnect">> & {
    readonly shouldReconnect: ReconnectOptions["shouldReconnect"] | undefined;
  };
  readonly reconnectEnabled: boolean;
  readonly maxQueue: number;
  readonly overflow: "drop-newest" | "drop-oldest";
  readonly requestTimeoutMs: number;
  readonly heartbeat: { readonly intervalMs: number; readonly timeoutMs: number } | undefined;
  readonly sendAbortFrames: boolean;
  readonly random: () => number;
  readonly strict: boolean;
  readonly sendFingerprint: boolean;
  readonly refusalWindowMs: number;
}

function positive(name: string, value: number, allowInfinity = false): number {
  if (!(value > 0) || (!allowInfinity && !Number.isFinite(value))) {
    throw new RangeError(`twinwire: ${name} must be a positive${allowInfinity ? "" : " finite"} number, got ${value}`);
  }
  return value;
}

function resolveOptions(options: ClientOptions): Resolved {
  // A URL no attempt can use would otherwise fail every reconnect attempt forever.
  if (typeof options.url !== "string" || !/^(wss?|https?):\/\/[^/?#\s]/i.test(options.url)) {
    throw new TypeError(`twinwire: options.url must be a ws:// or wss:// URL, got ${JSON.stringify(options.url)}`);
  }
  const WebSocket = options.WebSocket ?? host.WebSocket;
  if (WebSocket === undefined) {
    throw new TypeError(
      "twinwire: no global WebSocket here (Node 20 has none); pass options.WebSocket, e.g. `import { WebSocket } from \"ws\"`",
    );
  }
  const r = typeof options.reconnect === "object" ? options.reconnect : {};
  const reconnect = {
    initialDelayMs: positive("reconnect.initialDelayMs", r.initialDelayMs ?? DEFAULT_RECONNECT.initialDelayMs),
    maxDelayMs: positive("reconnect.maxDelayMs", r.maxDelayMs ?? DEFAULT_RECONNECT.maxDelayMs),
    factor: r.factor ?? DEFAULT_RECONNECT.factor,
    maxAttempts: r.maxAttempts ?? DEFAULT_RECONNECT.maxAttempts,
    shouldReconnect: r.shouldReconnect,
  };
  if (!(reconnect.factor >= 1) || !Number.isFinite(reconnect.factor)) {
    throw new RangeError(`twinwire: reconnect.factor must be a finite number ≥ 1, got ${reconnect.factor}`);
  }
  if (!(reconnect.maxAttempts >= 0)) {
    throw new RangeError(`twinwire: reconnect.maxAttempts must be ≥ 0, got ${reconnect.maxAttempts}`);
  }
  const maxQueue = options.queue?.maxSize ?? DEFAULT_QUEUE.maxSize;
  if (!Number.isInteger(maxQueue) || maxQueue < 0) {
    throw new RangeError(`twinwire: queue.maxSize must be an integer ≥ 0, got ${maxQueue}`);
  }
  const hb = options.heartbeat;
  const heartbeat =
    hb === undefined || hb === false
      ? undefined
      : {
          intervalMs: positive("heartbeat.intervalMs", hb.intervalMs),
          timeoutMs: positive("heartbeat.timeoutMs", hb.timeoutMs ?? hb.intervalMs),
        };
  const protocols =
    options.protocols === undefined
      ? []
      : typeof options.protocols === "string"
        ? [options.protocols]
        : [...options.protocols];
  return {
    url: options.url,
    WebSocket,
    protocols,
    auth: options.auth === undefined ? undefined : { token: options.auth.token, via: options.auth.via ?? "query" },
    reconnect,
    reconnectEnabled: options.reconnect !== false,
    maxQueue,
    overflow: options.queue?.overflow ?? DEFAULT_QUEUE.overflow,
    requestTimeoutMs: positive("requestTimeoutMs", options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, true),
    heartbeat,
    sendAbortFrames: options.sendAbortFrames ?? true,
    random: options.random ?? Math.random,
    strict: options.strict ?? false,
    sendFingerprint: options.sendFingerprint ?? true,
    refusalWindowMs: options.refusalWindowMs ?? DEFAULT_REFUSAL_WINDOW_MS,
  };
}

// ───────────────────────── Frame helpers ─────────────────────────

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isIssue(value: unknown): value is Issue {
  return (
    isRecord(value) &&
    typeof value["path"] === "string" &&
    typeof value["code"] === "string" &&
    typeof value["message"] === "string"
  );
}

function hasOwn(object: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, key);
}

/** A parsed frame whose envelope is well-formed. */
interface Frame {
  readonly type: string;
  readonly meta: Meta;
  readonly hasPayload: boolean;
  readonly payload: unknown;
  readonly raw: Record<string, unknown>;
}

/** The envelope of `value`, or why it is not one. */
function parseEnvelope(value: unknown): Frame | string {
  if (!isRecord(value)) return "a frame must be a JSON object";
  const type = value["type"];
  if (typeof type !== "string" || type === "") return "`type` must be a non-empty string";
  const meta = value["meta"];
  if (meta !== undefined && !isRecord(meta)) return `${type}: \`meta\` must be an object`;
  if (meta !== undefined && meta["correlationId"] !== undefined && typeof meta["correlationId"] !== "string") {
    return `${type}: \`meta.correlationId\` must be a string`;
  }
  if (meta !== undefined && meta["timestamp"] !== undefined && typeof meta["timestamp"] !== "number") {
    return `${type}: \`meta.timestamp\` must be a number`;
  }
  const hasPayload = hasOwn(value, "payload") && value["payload"] !== undefined;
  return { type, meta: meta === undefined ? {} : (meta as Meta), hasPayload, payload: value["payload"], raw: value };
}

// Generated validators do not throw, but a hand-written descriptor might; a throw on network
// input must become an issue, not an exception in the socket's event handler.
function runValidate(desc: MessageDescriptor, payload: unknown): Issue[] {
  try {
    return desc.validate(payload);
  } catch (cause) {
    return [{ path: "", code: "invalid", message: `the validator threw: ${String(cause)}` }];
  }
}

/**
 * The validation error of a frame's typed meta, if any: the issues of the descriptor's
 * `validateMeta` under `/meta`, the paths the server reports (`target: "frame"`).
 */
function checkMeta(desc: MessageDescriptor, direction: "outbound" | "inbound", meta: unknown): ValidationError | undefined {
  const validateMeta = desc.validateMeta;
  if (validateMeta === undefined) return undefined;
  let issues: Issue[];
  try {
    issues = validateMeta(meta === undefined ? {} : meta);
  } catch (cause) {
    issues = [{ path: "", code: "invalid", message: `the meta validator threw: ${String(cause)}` }];
  }
  if (issues.length === 0) return undefined;
  const framed = issues.map((issue) => ({ ...issue, path: `/meta${issue.path}` }));
  return new ValidationError(desc.type, direction, framed, "frame");
}

/** The validation error of a payload (present or not) against its descriptor, if any. */
function checkPayload(
  desc: MessageDescriptor,
  direction: "outbound" | "inbound",
  present: boolean,
  payload: unknown,
  tolerant = false,
): ValidationError | undefined {
  // Presence is checked here, as the server does, with its frame-level paths and codes.
  if (present !== desc.hasPayload) {
    const issue: Issue = present
      ? { path: "/payload", code: "unexpected", message: `\`${desc.type}\` carries no payload` }
      : { path: "/payload", code: "required", message: `\`${desc.type}\` needs a payload` };
    return new ValidationError(desc.type, direction, [issue], "frame");
  }
  let issues = present ? runValidate(desc, payload) : [];
  // A tolerant reader ignores fields it does not know: a newer sender may have added them.
  if (tolerant) issues = issues.filter((issue) => issue.code !== "unknown_field");
  return issues.length > 0 ? new ValidationError(desc.type, direction, issues, "payload") : undefined;
}

function parseErrorPayload(frame: Frame): ErrorPayload | undefined {
  const p = frame.payload;
  if (!isRecord(p) || typeof p["code"] !== "string" || typeof p["message"] !== "string") return undefined;
  const retryable = p["retryable"];
  const retryAfterMs = p["retryAfterMs"];
  if (retryable !== undefined && typeof retryable !== "boolean") return undefined;
  if (retryAfterMs !== undefined && (typeof retryAfterMs !== "number" || !(retryAfterMs >= 0))) return undefined;
  const out: ErrorPayload = { code: p["code"], message: p["message"], details: p["details"] };
  if (retryable !== undefined) out.retryable = retryable;
  if (retryAfterMs !== undefined) out.retryAfterMs = retryAfterMs;
  return out;
}

/** Text of a frame: text frames as is, binary frames as strict UTF-8; undefined if undecodable. */
function frameText(data: unknown): string | undefined {
  if (typeof data === "string") return data;
  const isBinary = data instanceof ArrayBuffer || ArrayBuffer.isView(data);
  if (!isBinary || host.TextDecoder === undefined) return undefined;
  try {
    return new host.TextDecoder("utf-8", { fatal: true }).decode(data);
  } catch {
    return undefined;
  }
}

/** A descriptor's type for messages about misuse from untyped code, whatever was passed. */
function describe(desc: unknown): string {
  return isRecord(desc) && typeof desc["type"] === "string" ? desc["type"] : String(desc);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

// RFC 6455 `token` characters: what a `bearer.<token>` subprotocol may contain.
const SUBPROTOCOL_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function withQueryParam(url: string, name: string, value: string): string {
  const hash = url.indexOf("#");
  const base = hash === -1 ? url : url.slice(0, hash);
  const fragment = hash === -1 ? "" : url.slice(hash);
  const sep = base.includes("?") ? (base.endsWith("?") || base.endsWith("&") ? "" : "&") : "?";
  return `${base}${sep}${name}=${encodeURIComponent(value)}${fragment}`;
}

/** The query parameter carrying the protocol's fingerprint (`docs/wire-protocol.md`, "Transport and upgrade"). */
export const FINGERPRINT_PARAM = "twinwire_fp";

// ───────────────────────── The client ─────────────────────────

interface PendingRequest {
  readonly id: string;
  readonly type: string;
  readonly response: MessageDescriptor;
  readonly resolve: (payload: unknown) => void;
  readonly reject: (error: unknown) => void;
  readonly onProgress: ((value: unknown) => void) | undefined;
  readonly signal: AbortSignalLike | undefined;
  abortListener: (() => void) | undefined;
  timer: unknown;
  /** Written to a socket; only then can a reply (or progress) arrive, or a drop lose it. */
  sent: boolean;
}

interface Outbound {
  readonly type: string;
  readonly text: string;
  readonly request: PendingRequest | undefined;
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

type AnyHandler = (payload: unknown, meta: Meta) => unknown;

const OPEN = 1;

/**
 * A typed WebSocket client for protocol `P`. Generated code wraps it (`createChatClient`);
 * every method's types come from the descriptors' literal types.
 */
export class TwinwireClient<P extends ProtocolDescriptor> {
  /** The protocol this client speaks. */
  readonly protocol: P;

  readonly #options: Resolved;
  readonly #serverTypes = new Map<string, MessageDescriptor>();
  readonly #clientTypes = new Map<string, MessageDescriptor>();
  readonly #handlers = new Map<string, Set<{ readonly fn: AnyHandler }>>();
  readonly #unhandled = new Set<{ readonly fn: (envelope: InboundEnvelope<P>) => unknown }>();
  readonly #unknown = new Set<{ readonly fn: (frame: UnknownFrame) => unknown }>();
  readonly #errorListeners = new Set<{ readonly fn: (error: ClientError) => unknown }>();
  readonly #stateListeners = new Set<{ readonly fn: (state: ConnectionState, detail: StateDetail) => unknown }>();
  readonly #pending = new Map<string, PendingRequest>();
  readonly #idPrefix = Math.random().toString(36).slice(2, 10);
  #nextId = 0;
  #queue: Outbound[] = [];
  #state: ConnectionState = "closed";
  #socket: WebSocketLike | null = null;
  /** Whether the app wants a connection (after `connect()`, until `close()` or giving up). */
  #wantOpen = false;
  /** Set while `close()` waits for the socket's close event: what `onState` reports then. */
  #closing: { readonly code: number; readonly reason: string; readonly discarded: number } | undefined;
  /** Failed attempts since the last open, for the backoff. */
  #attempt = 0;
  /** Bumped per attempt and by `close()`, so a token fetched too late is not used. */
  #generation = 0;
  #reconnectTimer: unknown = undefined;
  #heartbeatTimer: unknown = undefined;
  #heartbeatDeadline: unknown = undefined;
  #openWaiters: Waiter[] = [];
  /** Set from `open` until `connect()` may resolve (see `refusalWindowMs`). */
  #confirmTimer: unknown = undefined;
  #closeWaiters: (() => void)[] = [];

  /** A client for `protocol`; nothing connects until {@link connect}. */
  constructor(protocol: P, options: ClientOptions) {
    this.protocol = protocol;
    this.#options = resolveOptions(options);
    for (const desc of protocol.messages) {
      const byDirection = desc.direction === "server" ? this.#serverTypes : this.#clientTypes;
      if (this.#serverTypes.has(desc.type) || this.#clientTypes.has(desc.type)) {
        throw new TypeError(`twinwire: protocol ${protocol.name} declares ${desc.type} twice`);
      }
      byDirection.set(desc.type, desc);
    }
  }

  /** The connection state. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** Frames waiting in the outbound queue. */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Opens the connection (reconnecting as configured). Resolves once open (and past the
   * `refusalWindowMs`); rejects with a {@link RefusedError} if the server refuses the
   * connection, or a {@link ConnectionClosedError} if `close()` is called or the client gives
   * up first.
   * During a reconnect delay it skips the wait and tries at once.
   */
  connect(): Promise<void> {
    if (this.#state === "open" && this.#confirmTimer === undefined) return Promise.resolve();
    const opened = new Promise<void>((resolve, reject) => this.#openWaiters.push({ resolve, reject }));
    if (this.#state === "open") return opened;
    this.#wantOpen = true;
    if (this.#state === "closed") {
      this.#attempt = 0;
      this.#setState("connecting", {});
      this.#startAttempt();
    } else if (this.#state === "reconnecting" && this.#reconnectTimer !== undefined) {
      host.clearTimeout(this.#reconnectTimer);
      this.#reconnectTimer = undefined;
      this.#startAttempt();
    }
    // `connecting`/`reconnecting` with an attempt under way: it settles the promise.
    // `closing`: the close event starts a new attempt because #wantOpen is set again.
    return opened;
  }

  /**
   * Closes the connection and stops reconnecting. Pending requests reject at once with a
   * {@link ConnectionClosedError}; the queue is discarded. Resolves once closed.
   */
  close(code = 1000, reason = ""): Promise<void> {
    if (code !== 1000 && !(code >= 3000 && code <= 4999)) {
      throw new RangeError(`twinwire: close code must be 1000 or in 3000–4999, got ${code}`);
    }
    this.#wantOpen = false;
    this.#generation += 1;
    this.#clearReconnectTimer();
    this.#stopHeartbeat();
    const error = new ConnectionClosedError("the client was closed", code, reason);
    const discarded = this.#discardAll(error);
    this.#rejectOpenWaiters(error);
    const socket = this.#socket;
    if (socket === null) {
      this.#setState("closed", { code, reason, discarded });
      return Promise.resolve();
    }
    const closed = new Promise<void>((resolve) => this.#closeWaiters.push(resolve));
    if (this.#closing === undefined) {
      this.#closing = { code, reason, discarded };
      this.#setState("closing", { code, reason });
      try {
        socket.close(code, reason);
      } catch {
        // The socket is already failing; its close event completes this.
      }
    }
    return closed;
  }

  /**
   * Sends a client message. Its typed meta (if the message declares one) and its payload are
   * validated first: a bad one throws a {@link ValidationError} and nothing is sent. Queued while (re)connecting; throws a
   * {@link ConnectionClosedError} when closed and a {@link QueueFullError} per the queue policy.
   */
  send<M extends ClientMessageOf<P>>(desc: M, ...args: SendArgs<M>): void {
    const [payload, options] = args as [unknown, SendOptions | undefined];
    this.#checkOutbound(desc, "client message");
    if (hasOwn(desc, "response")) {
      throw new TypeError(`twinwire: ${desc.type} is an RPC request: use request(), which awaits its reply`);
    }
    const text = this.#encode(desc, payload, options?.meta, undefined);
    this.#dispatch({ type: desc.type, text, request: undefined });
  }

  /**
   * Sends an RPC request and resolves with its validated response payload. Never throws:
   * every failure is a rejection with a {@link ClientError} (or a `TypeError` for misuse).
   */
  request<R extends RpcOf<P>>(rpc: R, ...args: RequestArgs<R>): Promise<ResponseOf<R>> {
    const [payload, options = {}] = args as [unknown, RequestOptions | undefined];
    return new Promise<ResponseOf<R>>((resolve, reject) => {
      this.#checkOutbound(rpc, "RPC request");
      const response = (rpc as { readonly response?: unknown }).response;
      if (!isRecord(response) || typeof response["type"] !== "string" || !this.#serverTypes.has(response["type"])) {
        throw new TypeError(`twinwire: ${rpc.type} is not an RPC of ${this.protocol.name}: use send()`);
      }
      const signal = options.signal;
      if (signal?.aborted === true) throw new AbortedError(rpc.type, signal.reason);
      if (this.#state === "closed" || this.#state === "closing") {
        throw new ConnectionClosedError(`cannot send ${rpc.type}: the client is ${this.#state}; call connect() first`);
      }
      const timeoutMs = positive("timeoutMs", options.timeoutMs ?? this.#options.requestTimeoutMs, true);
      const id = `${this.#idPrefix}-${++this.#nextId}`;
      const text = this.#encode(rpc, payload, options.meta, id);
      const pending: PendingRequest = {
        id,
        type: rpc.type,
        response: response as unknown as MessageDescriptor,
        resolve: resolve as (payload: unknown) => void,
        reject,
        onProgress: options.onProgress,
        signal,
        abortListener: undefined,
        timer: undefined,
        sent: false,
      };
      this.#pending.set(id, pending);
      if (Number.isFinite(timeoutMs)) {
        const expire = (): void => this.#cancel(pending, new TimeoutError(rpc.type, timeoutMs));
        pending.timer = host.setTimeout(expire, Math.min(timeoutMs, MAX_TIMER_MS));
      }
      if (signal !== undefined) {
        pending.abortListener = () => this.#cancel(pending, new AbortedError(rpc.type, signal.reason));
        signal.addEventListener("abort", pending.abortListener);
      }
      try {
        this.#dispatch({ type: rpc.type, text, request: pending });
      } catch (error) {
        this.#settle(pending, error, undefined);
      }
    });
  }

  /**
   * Calls `handler` with each validated `desc` message from the server (uncorrelated frames;
   * RPC replies go to their request). Returns a function that unsubscribes.
   */
  on<M extends ServerMessageOf<P>>(desc: M, handler: (payload: PayloadOf<M>, meta: InboundMetaOf<M>) => unknown): () => void {
    if (!isRecord(desc) || !this.#serverTypes.has(desc.type)) {
      throw new TypeError(`twinwire: ${describe(desc)} is not a server message of ${this.protocol.name}`);
    }
    let set = this.#handlers.get(desc.type);
    if (set === undefined) {
      set = new Set();
      this.#handlers.set(desc.type, set);
    }
    const entry = { fn: handler as AnyHandler };
    set.add(entry);
    return () => {
      this.#handlers.get(desc.type)?.delete(entry);
    };
  }

  /** Calls `listener` with each validated server message that has no `on` handler. */
  onUnhandled(listener: (envelope: InboundEnvelope<P>) => unknown): () => void {
    return subscribe(this.#unhandled, listener);
  }

  /**
   * Calls `listener` with each server frame whose wire type this protocol does not declare
   * as a server message: sent by a newer server (tolerant reader, the default). Such frames
   * are not errors; with `strict: true` they go to `onError` instead and never here.
   */
  onUnknown(listener: (frame: UnknownFrame) => unknown): () => void {
    return subscribe(this.#unknown, listener);
  }

  /**
   * Calls `listener` with every error not delivered to a caller: invalid or unknown inbound
   * frames, server `ERROR` frames, failed connection attempts, frames evicted by `drop-oldest`,
   * handlers that threw. Without any listener these are logged with `console.error`.
   */
  onError(listener: (error: ClientError) => unknown): () => void {
    return subscribe(this.#errorListeners, listener);
  }

  /** Calls `listener` on every state change (and on every reconnect attempt). */
  onState(listener: (state: ConnectionState, detail: StateDetail) => unknown): () => void {
    return subscribe(this.#stateListeners, listener);
  }

  // ── outbound ──

  #checkOutbound(desc: MessageDescriptor, what: string): void {
    if (!isRecord(desc) || !this.#clientTypes.has(desc.type)) {
      throw new TypeError(`twinwire: ${describe(desc)} is not a ${what} of ${this.protocol.name}`);
    }
  }

  /** Validates and serializes a frame; throws a {@link ValidationError} for a bad typed meta or payload. */
  #encode(
    desc: MessageDescriptor,
    payload: unknown,
    extra: Readonly<Record<string, unknown>> | undefined,
    correlationId: string | undefined,
  ): string {
    const meta: Meta = {};
    if (extra !== undefined) {
      for (const key of Object.keys(extra)) {
        if (RESERVED_META_KEYS.includes(key)) {
          throw new TypeError(`twinwire: meta.${key} is reserved and set by the client or the server`);
        }
        meta[key] = extra[key];
      }
    }
    if (meta.timestamp === undefined) meta.timestamp = Date.now();
    if (correlationId !== undefined) meta.correlationId = correlationId;
    // In the server's order: the envelope's meta, then the payload.
    const invalid = checkMeta(desc, "outbound", meta) ?? checkPayload(desc, "outbound", payload !== undefined, payload);
    if (invalid !== undefined) throw invalid;
    return JSON.stringify(desc.hasPayload ? { type: desc.type, meta, payload } : { type: desc.type, meta });
  }

  /** Writes now when open, else queues (or refuses when closed / full). */
  #dispatch(out: Outbound): void {
    if (this.#state === "open" && this.#write(out)) return;
    if (this.#state === "closed" || this.#state === "closing") {
      throw new ConnectionClosedError(`cannot send ${out.type}: the client is ${this.#state}; call connect() first`);
    }
    const max = this.#options.maxQueue;
    if (this.#queue.length >= max) {
      const evicted = this.#options.overflow === "drop-oldest" ? this.#queue.shift() : undefined;
      if (evicted === undefined) throw new QueueFullError(out.type, max, "newest");
      const error = new QueueFullError(evicted.type, max, "oldest");
      if (evicted.request !== undefined) this.#settle(evicted.request, error, undefined);
      else this.#report(error);
    }
    this.#queue.push(out);
  }

  #write(out: Outbound): boolean {
    const socket = this.#socket;
    if (socket === null || socket.readyState !== OPEN) return false;
    try {
      socket.send(out.text);
    } catch {
      return false; // the socket is closing; its close event follows and the frame stays queued
    }
    if (out.request !== undefined) out.request.sent = true;
    return true;
  }

  #writeControl(frame: { type: string; meta?: Meta }): void {
    const socket = this.#socket;
    if (socket === null || socket.readyState !== OPEN) return;
    try {
      socket.send(JSON.stringify(frame));
    } catch {
      // best effort: control frames are never queued
    }
  }

  #flush(): void {
    while (this.#queue.length > 0) {
      const next = this.#queue[0];
      if (next === undefined || !this.#write(next)) return;
      this.#queue.shift();
    }
  }

  // ── requests ──

  /** Timeout or abort: settles, and tells the server when the request had been sent. */
  #cancel(pending: PendingRequest, error: TimeoutError | AbortedError): void {
    if (this.#pending.get(pending.id) !== pending) return;
    const wasSent = pending.sent;
    this.#settle(pending, error, undefined);
    if (wasSent && this.#options.sendAbortFrames) {
      this.#writeControl({ type: WIRE.RPC_ABORT, meta: { correlationId: pending.id } });
    }
  }

  /** Settles a pending request once: rejects with `error`, or resolves with `value`. */
  #settle(pending: PendingRequest, error: unknown, value: unknown): void {
    if (this.#pending.get(pending.id) !== pending) return;
    this.#pending.delete(pending.id);
    if (pending.timer !== undefined) host.clearTimeout(pending.timer);
    if (pending.signal !== undefined && pending.abortListener !== undefined) {
      pending.signal.removeEventListener("abort", pending.abortListener);
    }
    if (!pending.sent) this.#queue = this.#queue.filter((out) => out.request !== pending);
    if (error !== undefined) pending.reject(error);
    else pending.resolve(value);
  }

  /** Rejects every pending request and empties the queue; returns how many frames were queued. */
  #discardAll(error: ConnectionClosedError | RefusedError): number {
    const discarded = this.#queue.length;
    this.#queue = [];
    for (const pending of [...this.#pending.values()]) this.#settle(pending, error, undefined);
    return discarded;
  }

  // ── connection ──

  #startAttempt(): void {
    const generation = ++this.#generation;
    void this.#open(generation);
  }

  async #open(generation: number): Promise<void> {
    const { auth } = this.#options;
    let url = this.#options.url;
    const fingerprint = this.protocol.fingerprint;
    if (this.#options.sendFingerprint && typeof fingerprint === "string" && fingerprint !== "") {
      url = withQueryParam(url, FINGERPRINT_PARAM, fingerprint);
    }
    const protocols = [...this.#options.protocols];
    if (auth !== undefined) {
      let token: unknown;
      try {
        token = await auth.token();
      } catch (cause) {
        if (generation === this.#generation) {
          this.#attemptFailed(new ConnectionError("the auth token provider failed", cause));
        }
        return;
      }
      if (generation !== this.#generation) return;
      if (typeof token !== "string") {
        this.#attemptFailed(new ConnectionError(`the auth token provider returned ${typeof token}, not a string`));
        return;
      }
      if (token !== "" && auth.via === "query") url = withQueryParam(url, "access_token", token);
      if (token !== "" && auth.via === "subprotocol") {
        if (!SUBPROTOCOL_TOKEN.test(token)) {
          const hint = 'the auth token has characters a WebSocket subprotocol cannot carry; use auth.via = "query"';
          this.#attemptFailed(new ConnectionError(hint));
          return;
        }
        protocols.push(`bearer.${token}`);
      }
    }
    if (generation !== this.#generation) return;
    let socket: WebSocketLike;
    try {
      socket = protocols.length > 0 ? new this.#options.WebSocket(url, protocols) : new this.#options.WebSocket(url);
    } catch (cause) {
      this.#attemptFailed(new ConnectionError(`cannot open a WebSocket to ${this.#options.url}`, cause));
      return;
    }
    this.#socket = socket;
    try {
      socket.binaryType = "arraybuffer";
    } catch {
      // an implementation without binaryType hands binary frames over as it likes
    }
    socket.onopen = () => {
      if (this.#socket === socket) this.#onOpen();
    };
    socket.onmessage = (event) => {
      if (this.#socket === socket) this.#onFrame(event.data);
    };
    // The close event that follows every error carries the outcome; the handler must exist
    // all the same, since the `ws` package throws on an unhandled `error` event.
    socket.onerror = () => {};
    socket.onclose = (event) => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      const code = typeof event.code === "number" ? event.code : 1006;
      this.#onClosed(code, typeof event.reason === "string" ? event.reason : "");
    };
  }

  #attemptFailed(error: ConnectionError): void {
    this.#report(error);
    this.#onClosed(1006, error.message);
  }

  #onOpen(): void {
    this.#attempt = 0;
    this.#state = "open";
    // Queued frames go first, so a frame sent by an `open` listener cannot overtake them.
    this.#flush();
    this.#startHeartbeat();
    this.#emitState("open", {});
    if (this.#options.refusalWindowMs > 0) {
      this.#confirmTimer = host.setTimeout(() => this.#confirmOpen(), this.#options.refusalWindowMs);
    } else {
      this.#confirmOpen();
    }
  }

  /** The server did not refuse the connection: `connect()` resolves. */
  #confirmOpen(): void {
    if (this.#confirmTimer !== undefined) host.clearTimeout(this.#confirmTimer);
    this.#confirmTimer = undefined;
    const waiters = this.#openWaiters;
    this.#openWaiters = [];
    for (const w of waiters) w.resolve();
  }

  /** The socket is gone (closed, failed to open, or abandoned by the heartbeat). */
  #onClosed(code: number, reason: string): void {
    this.#stopHeartbeat();
    if (this.#confirmTimer !== undefined) host.clearTimeout(this.#confirmTimer);
    this.#confirmTimer = undefined;
    const lost = new ConnectionClosedError(
      `the connection closed (${code}${reason === "" ? "" : `: ${reason}`}) before the reply`,
      code,
      reason,
    );
    for (const pending of [...this.#pending.values()]) if (pending.sent) this.#settle(pending, lost, undefined);
    const requested = this.#closing;
    if (requested !== undefined) {
      // Report the close the app asked for: an attempt still handshaking ends with 1006.
      this.#closing = undefined;
      this.#setState("closed", requested);
      const waiters = this.#closeWaiters;
      this.#closeWaiters = [];
      for (const resolve of waiters) resolve();
      if (this.#wantOpen) {
        this.#attempt = 0;
        this.#setState("connecting", {});
        this.#startAttempt();
      }
      return;
    }
    if (!this.#wantOpen) {
      // Nothing wants this connection (close() already discarded the queue): just settle.
      this.#setState("closed", { code, reason, discarded: 0 });
      return;
    }
    if (refusalKind(code) !== undefined) {
      // A refusal is the server's answer, not an outage: retrying would only repeat it.
      this.#wantOpen = false;
      const error = new RefusedError(code, reason);
      const discarded = this.#discardAll(error);
      this.#setState("closed", { code, reason, discarded });
      this.#rejectOpenWaiters(error);
      // Last, so a listener sees the client closed and may connect() again (e.g. as a guest).
      this.#report(error);
      return;
    }
    const policy = this.#options.reconnect;
    const giveUp =
      !this.#options.reconnectEnabled ||
      this.#attempt >= policy.maxAttempts ||
      (policy.shouldReconnect !== undefined && !this.#vetoSafe(policy.shouldReconnect, code, reason));
    if (giveUp) {
      this.#wantOpen = false;
      const message = `gave up connecting to ${this.#options.url} (last close ${code})`;
      const error = new ConnectionClosedError(message, code, reason);
      const discarded = this.#discardAll(error);
      this.#setState("closed", { code, reason, discarded });
      this.#rejectOpenWaiters(error);
      return;
    }
    const delayMs = backoffDelay(this.#attempt, policy, this.#options.random);
    this.#attempt += 1;
    this.#setState("reconnecting", { attempt: this.#attempt, delayMs, code, reason });
    this.#reconnectTimer = host.setTimeout(() => {
      this.#reconnectTimer = undefined;
      if (this.#wantOpen) this.#startAttempt();
    }, delayMs);
  }

  #vetoSafe(veto: NonNullable<ReconnectOptions["shouldReconnect"]>, code: number, reason: string): boolean {
    try {
      return veto({ code, reason });
    } catch (cause) {
      this.#report(new HandlerError("shouldReconnect", cause));
      return true;
    }
  }

  #clearReconnectTimer(): void {
    if (this.#reconnectTimer !== undefined) host.clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
  }

  #rejectOpenWaiters(error: ConnectionClosedError | RefusedError): void {
    const waiters = this.#openWaiters;
    this.#openWaiters = [];
    for (const w of waiters) w.reject(error);
  }

  #setState(state: ConnectionState, detail: StateDetail): void {
    if (state === this.#state && state !== "reconnecting") return;
    this.#state = state;
    this.#emitState(state, detail);
  }

  #emitState(state: ConnectionState, detail: StateDetail): void {
    for (const { fn } of [...this.#stateListeners]) this.#invoke("onState", () => fn(state, detail));
  }

  // ── heartbeat ──

  #startHeartbeat(): void {
    const hb = this.#options.heartbeat;
    if (hb === undefined) return;
    this.#heartbeatTimer = host.setTimeout(() => this.#beat(), hb.intervalMs);
  }

  #beat(): void {
    const hb = this.#options.heartbeat;
    this.#heartbeatTimer = undefined;
    if (hb === undefined || this.#state !== "open") return;
    this.#writeControl({ type: WIRE.HEARTBEAT });
    // One deadline at a time: later beats must not push an unanswered one further out.
    if (this.#heartbeatDeadline === undefined) {
      this.#heartbeatDeadline = host.setTimeout(() => this.#heartbeatExpired(), hb.timeoutMs);
    }
    this.#heartbeatTimer = host.setTimeout(() => this.#beat(), hb.intervalMs);
  }

  #heartbeatExpired(): void {
    this.#heartbeatDeadline = undefined;
    const socket = this.#socket;
    if (socket === null) return;
    // A dead network may never complete the closing handshake: drop the socket now.
    this.#socket = null;
    try {
      socket.close(HEARTBEAT_TIMEOUT_CLOSE_CODE, "heartbeat timeout");
    } catch {
      // already closing
    }
    this.#onClosed(HEARTBEAT_TIMEOUT_CLOSE_CODE, "heartbeat timeout");
  }

  #stopHeartbeat(): void {
    if (this.#heartbeatTimer !== undefined) host.clearTimeout(this.#heartbeatTimer);
    if (this.#heartbeatDeadline !== undefined) host.clearTimeout(this.#heartbeatDeadline);
    this.#heartbeatTimer = undefined;
    this.#heartbeatDeadline = undefined;
  }

  // ── inbound ──

  #onFrame(data: unknown): void {
    // A frame proves the server accepted the connection.
    if (this.#confirmTimer !== undefined) this.#confirmOpen();
    // Any frame proves the connection alive.
    if (this.#heartbeatDeadline !== undefined) {
      host.clearTimeout(this.#heartbeatDeadline);
      this.#heartbeatDeadline = undefined;
    }
    const text = frameText(data);
    if (text === undefined) {
      this.#report(new ProtocolError("undecodable_frame", "received a frame that is not UTF-8 text"));
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.#report(new ProtocolError("malformed_json", `received a frame that is not JSON: ${text.slice(0, 120)}`));
      return;
    }
    const frame = parseEnvelope(value);
    if (typeof frame === "string") {
      this.#report(new ProtocolError("invalid_envelope", `received an invalid envelope: ${frame}`));
      return;
    }
    const correlationId = frame.meta.correlationId;
    const pending = correlationId === undefined ? undefined : this.#pending.get(correlationId);
    const waiting = pending?.sent === true ? pending : undefined;
    switch (frame.type) {
      case WIRE.HEARTBEAT_ACK:
        return;
      case WIRE.HEARTBEAT:
        this.#writeControl({ type: WIRE.HEARTBEAT_ACK });
        return;
      case WIRE.RPC_PROGRESS:
        if (waiting?.onProgress !== undefined) {
          const progress = waiting.onProgress;
          // twinwire and WS-Kit servers put the value in `payload`; WS-Kit's client reads `data`.
          const progressValue = frame.hasPayload ? frame.payload : frame.raw["data"];
          this.#invoke("onProgress", () => progress(progressValue));
        }
        return;
      case WIRE.RPC_ERROR:
      case WIRE.ERROR: {
        const payload = parseErrorPayload(frame);
        const error =
          payload === undefined
            ? new ProtocolError("invalid_error_payload", `${frame.type} without a {code, message} payload`, frame.type)
            : new ServerError(payload, correlationId);
        if (waiting !== undefined) this.#settle(waiting, error, undefined);
        // An RPC_ERROR nobody waits for is late or duplicate; an ERROR is news in any case.
        else if (frame.type === WIRE.ERROR || correlationId === undefined) this.#report(error);
        return;
      }
    }
    if (correlationId !== undefined) {
      // A reply: to a request that waits, or late (after timeout/abort) or duplicate: ignored.
      if (waiting !== undefined) this.#reply(waiting, frame);
      return;
    }
    const desc = this.#serverTypes.get(frame.type);
    if (desc === undefined && !this.#options.strict) {
      const unknown: UnknownFrame = { type: frame.type, meta: frame.meta, payload: frame.hasPayload ? frame.payload : undefined };
      for (const { fn } of [...this.#unknown]) this.#invoke(frame.type, () => fn(unknown));
      return;
    }
    if (desc === undefined) {
      const wrongWay = this.#clientTypes.has(frame.type);
      this.#report(
        new ProtocolError(
          wrongWay ? "wrong_direction" : "unknown_type",
          wrongWay
            ? `received ${frame.type}, a client-to-server message, from the server`
            : `received ${frame.type}, which ${this.protocol.name} does not declare`,
          frame.type,
        ),
      );
      return;
    }
    const invalid =
      checkMeta(desc, "inbound", frame.meta) ??
      checkPayload(desc, "inbound", frame.hasPayload, frame.payload, !this.#options.strict);
    if (invalid !== undefined) {
      this.#report(invalid);
      return;
    }
    const payload = desc.hasPayload ? frame.payload : undefined;
    const handlers = this.#handlers.get(frame.type);
    if (handlers !== undefined && handlers.size > 0) {
      for (const { fn } of [...handlers]) this.#invoke(frame.type, () => fn(payload, frame.meta));
      return;
    }
    const envelope = { type: frame.type, meta: frame.meta, payload } as InboundEnvelope<P>;
    for (const { fn } of [...this.#unhandled]) this.#invoke(frame.type, () => fn(envelope));
  }

  #reply(pending: PendingRequest, frame: Frame): void {
    if (frame.type !== pending.response.type) {
      const error = new ProtocolError(
        "unexpected_reply",
        `${pending.type} is answered by ${pending.response.type}, but the server replied ${frame.type}`,
        frame.type,
      );
      this.#settle(pending, error, undefined);
      return;
    }
    const invalid =
      checkMeta(pending.response, "inbound", frame.meta) ??
      checkPayload(pending.response, "inbound", frame.hasPayload, frame.payload, !this.#options.strict);
    if (invalid !== undefined) {
      this.#settle(pending, invalid, undefined);
      return;
    }
    this.#settle(pending, undefined, pending.response.hasPayload ? frame.payload : undefined);
  }

  // ── reporting ──

  /** Runs app code; a throw or a rejected promise becomes a {@link HandlerError} on `onError`. */
  #invoke(name: string, run: () => unknown): void {
    try {
      const result = run();
      if (isThenable(result)) result.then(undefined, (cause: unknown) => this.#report(new HandlerError(name, cause)));
    } catch (cause) {
      this.#report(new HandlerError(name, cause));
    }
  }

  #report(error: ClientError): void {
    if (this.#errorListeners.size === 0) {
      host.console?.error(`twinwire (${this.protocol.name}):`, error);
      return;
    }
    for (const { fn } of [...this.#errorListeners]) {
      try {
        const result = fn(error);
        if (isThenable(result)) result.then(undefined, () => {});
      } catch {
        // An error listener that throws has nowhere left to report to.
      }
    }
  }
}

function subscribe<F>(set: Set<{ readonly fn: F }>, fn: F): () => void {
  const entry = { fn };
  set.add(entry);
  return () => {
    set.delete(entry);
  };
}
