// The frames WS-Kit's own browser client sends, and its way of reading replies, for the test
// that twinwire's runtime serves WS-Kit clients (wskit-client-frames.test.ts).
//
// WS-Kit's client (`@ws-kit/client`) is not published on the npm registry (`npm view
// @ws-kit/client` is a 404; the 0.10 release ships only core, zod, bun, plugins and pubsub),
// so it cannot be installed and driven directly. This module reproduces, on a plain `ws`
// socket, exactly what its source in github.com/kriasoft/ws-kit does:
//
// - packages/client/src/index.ts `send()` / `request()`: a frame is
//   `{type, meta, ...(payload !== undefined && {payload})}`, serialized with JSON.stringify;
//   the correlation id of a request is `opts.correlationId ?? crypto.randomUUID()`.
// - packages/client/src/normalize.ts `normalizeOutboundMeta()`: meta is
//   `{timestamp: Date.now(), ...userMeta}`, then `correlationId` when given, and never the
//   server-only keys `clientId` / `receivedAt` (nor a user-supplied `correlationId`).
// - packages/client/src/auth.ts: the token goes in the `access_token` query parameter
//   (`url.searchParams.set`) by default, or as a `bearer.<token>` subprotocol appended to the
//   app's protocols (`attach: "protocol"`).
// - packages/client/src/requests.ts `handleReply()`: a frame whose `meta.correlationId`
//   matches a pending request is `$ws:rpc-progress` (its value read from `data`, the request
//   stays pending), `RPC_ERROR` (rejects with code, message, details, retryable,
//   retryAfterMs), `ERROR` (rejects), another type than the expected reply (rejects), or the
//   reply (resolves with the whole message).
import type { TestContext } from "node:test";
import { WebSocket } from "ws";
import { frameText } from "./chat.js";
import { within } from "./wait.js";

/** A frame as WS-Kit's client sees it. */
export interface WsKitMessage {
  readonly type: string;
  readonly meta?: Record<string, unknown>;
  readonly payload?: unknown;
  readonly data?: unknown;
}

/** What WS-Kit's client rejects an RPC with for an `RPC_ERROR` (its `RpcError`). */
export class WsKitRpcError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly details: unknown,
    readonly retryable: boolean | undefined,
    readonly retryAfterMs: number | undefined,
    readonly correlationId: string,
  ) {
    super(message);
  }
}

/** Any other rejection of a WS-Kit request (`ERROR`, a wrong reply type, a closed socket). */
export class WsKitRequestError extends Error {}

interface Pending {
  readonly expectedType: string;
  readonly resolve: (message: WsKitMessage) => void;
  readonly reject: (error: Error) => void;
  readonly onProgress: ((data: unknown) => void) | undefined;
}

const SERVER_ONLY_META = ["clientId", "receivedAt"];

/** How the token reaches the server. */
export interface WsKitAuth {
  readonly token: string;
  /** `"query"` (WS-Kit's default): `access_token`; `"protocol"`: `bearer.<token>`. */
  readonly attach: "query" | "protocol";
}

/** A connection that speaks like WS-Kit's client. */
export class WsKitClientFrames {
  /** Every frame received, in order. */
  readonly received: WsKitMessage[] = [];
  readonly #socket: WebSocket;
  readonly #pending = new Map<string, Pending>();
  readonly #handlers = new Map<string, (message: WsKitMessage) => void>();

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.on("message", (data) => this.#onMessage(JSON.parse(frameText(data)) as WsKitMessage));
    socket.on("close", () => {
      for (const pending of this.#pending.values()) pending.reject(new WsKitRequestError("connection closed"));
      this.#pending.clear();
    });
  }

  /** Connects to `url` as WS-Kit's client does with `auth`; closed after the test. */
  static async connect(t: TestContext, url: string, auth: WsKitAuth, protocols: readonly string[] = []): Promise<WsKitClientFrames> {
    let target = url;
    let offered = [...protocols];
    if (auth.attach === "query") {
      const withToken = new URL(url);
      withToken.searchParams.set("access_token", auth.token);
      target = withToken.href;
    } else {
      offered = [...offered, `bearer.${auth.token}`].filter((p, i, all) => p !== "" && all.indexOf(p) === i);
    }
    const socket = new WebSocket(target, offered);
    t.after(() => socket.close());
    // Listening before the open event: a frame sent on open may arrive with the handshake.
    const client = new WsKitClientFrames(socket);
    await within(
      new Promise<void>((resolve, reject) => {
        socket.once("open", () => resolve());
        socket.once("error", reject);
      }),
      `a WS-Kit-style connection to ${url}`,
    );
    return client;
  }

  /** The subprotocol the server selected (WS-Kit's `client.protocol`). */
  get protocol(): string {
    return this.#socket.protocol;
  }

  /** Like WS-Kit's `client.on(schema, handler)`, keyed by wire type. */
  on(type: string, handler: (message: WsKitMessage) => void): void {
    this.#handlers.set(type, handler);
  }

  /** Like WS-Kit's `client.send(schema, payload, {meta})`. */
  send(type: string, payload: unknown, userMeta: Record<string, unknown> = {}): void {
    this.#socket.send(JSON.stringify(frame(type, payload, userMeta, undefined)));
  }

  /** Like WS-Kit's `client.request(schema, payload, reply, {meta, correlationId, onProgress})`. */
  request(
    type: string,
    payload: unknown,
    replyType: string,
    options: { meta?: Record<string, unknown>; correlationId?: string; onProgress?: (data: unknown) => void } = {},
  ): Promise<WsKitMessage> {
    const correlationId = options.correlationId ?? crypto.randomUUID();
    return within(
      new Promise<WsKitMessage>((resolve, reject) => {
        this.#pending.set(correlationId, { expectedType: replyType, resolve, reject, onProgress: options.onProgress });
        this.#socket.send(JSON.stringify(frame(type, payload, options.meta ?? {}, correlationId)));
      }),
      `the reply to ${type} ${correlationId}`,
    );
  }

  #onMessage(message: WsKitMessage): void {
    this.received.push(message);
    const correlationId = message.meta?.["correlationId"];
    if (typeof correlationId === "string") {
      const pending = this.#pending.get(correlationId);
      if (pending !== undefined) {
        this.#reply(correlationId, pending, message);
        return;
      }
    }
    this.#handlers.get(message.type)?.(message);
  }

  #reply(correlationId: string, pending: Pending, message: WsKitMessage): void {
    if (message.type === "$ws:rpc-progress") {
      // WS-Kit's client reads the progress value from `data`, never from `payload`.
      pending.onProgress?.(message.data);
      return;
    }
    this.#pending.delete(correlationId);
    const error = isRecord(message.payload) ? message.payload : {};
    if (message.type === "RPC_ERROR") {
      pending.reject(
        new WsKitRpcError(
          typeof error["message"] === "string" ? error["message"] : "RPC error",
          typeof error["code"] === "string" ? error["code"] : "INTERNAL",
          error["details"],
          typeof error["retryable"] === "boolean" ? error["retryable"] : undefined,
          typeof error["retryAfterMs"] === "number" ? error["retryAfterMs"] : undefined,
          correlationId,
        ),
      );
    } else if (message.type === "ERROR") {
      pending.reject(new WsKitRequestError(`ERROR ${String(error["code"])}: ${String(error["message"])}`));
    } else if (message.type !== pending.expectedType) {
      pending.reject(new WsKitRequestError(`Expected type ${pending.expectedType}, got ${message.type}`));
    } else {
      pending.resolve(message);
    }
  }
}

function frame(type: string, payload: unknown, userMeta: Record<string, unknown>, correlationId: string | undefined): object {
  const user = { ...userMeta };
  for (const key of [...SERVER_ONLY_META, "correlationId"]) Reflect.deleteProperty(user, key);
  const meta: Record<string, unknown> = { timestamp: Date.now(), ...user };
  if (correlationId !== undefined) meta["correlationId"] = correlationId;
  return { type, meta, ...(payload !== undefined && { payload }) };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
