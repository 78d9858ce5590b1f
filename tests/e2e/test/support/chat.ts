// The GENERATED chat client (examples/chat/generated/ts), exactly as an app imports it, with
// the `ws` package injected as its WebSocket (Node 20 has none), plus a raw socket for
// frames the typed client refuses to send.
import type { TestContext } from "node:test";
import { type RawData, WebSocket } from "ws";
import {
  type ClientError,
  type ClientOptions,
  type ConnectionState,
  type InboundEnvelope,
  type Chat,
  type StateDetail,
  type TwinwireClient,
  createChatClient,
} from "../../../../examples/chat/generated/ts/protocol.js";
import { Inbox, WAIT_MS, within } from "./wait.js";

export * from "../../../../examples/chat/generated/ts/protocol.js";

/** The room ids that trigger the e2e server's test behaviours (server/src/main.rs). */
export const TRIGGER = {
  /** `GET_MESSAGES` of this room is held until released. */
  hold: "e2e:hold",
  /** `TYPING_START` of this room releases a held `GET_MESSAGES` of the same connection. */
  release: "e2e:release",
  /** `TYPING_START` of this room gets an invalid `CHAT_MESSAGE`, then a valid one. */
  invalidFrame: "e2e:invalid-chat-message",
  /** Id of the valid `CHAT_MESSAGE` sent after the invalid one. */
  afterInvalidId: "e2e:after-invalid",
} as const;

/** A generated chat client and everything it reported. */
export interface ChatHarness {
  readonly client: TwinwireClient<typeof Chat>;
  readonly errors: Inbox<ClientError>;
  readonly states: Inbox<{ state: ConnectionState; detail: StateDetail }>;
  readonly unhandled: Inbox<InboundEnvelope<typeof Chat>>;
}

/**
 * A generated client for `url`, closed after the test. No reconnects and a request deadline
 * of the tests' wait ceiling unless `options` say otherwise.
 */
export function chatClient(t: TestContext, url: string, options: Partial<ClientOptions> = {}): ChatHarness {
  const client = createChatClient({ url, WebSocket, reconnect: false, requestTimeoutMs: WAIT_MS, ...options });
  const harness: ChatHarness = { client, errors: new Inbox(), states: new Inbox(), unhandled: new Inbox() };
  client.onError(harness.errors.push);
  client.onState((state, detail) => harness.states.push({ state, detail }));
  client.onUnhandled(harness.unhandled.push);
  t.after(() => client.close());
  return harness;
}

/** A token the e2e server (and the WS-Kit server) accept for `name`. */
export function tokenFor(name: string): string {
  return `valid.${name}`;
}

/** A connected client signed in as `name` (token in the `access_token` query parameter). */
export async function connectedAs(t: TestContext, url: string, name: string, options: Partial<ClientOptions> = {}): Promise<ChatHarness> {
  const harness = chatClient(t, url, { auth: { token: () => tokenFor(name) }, ...options });
  await within(harness.client.connect(), `${name} to connect`);
  return harness;
}

/** A frame as it came off the wire. */
export interface WireFrame {
  readonly type: string;
  readonly meta?: Record<string, unknown>;
  readonly payload?: unknown;
  readonly data?: unknown;
}

/** The text of a received WebSocket message, however `ws` delivered it. */
export function frameText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data).toString("utf8");
}

/** A plain `ws` socket: sends whatever it is given, records every frame it receives. */
export class RawSocket {
  readonly frames = new Inbox<WireFrame>();
  readonly #socket: WebSocket;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.on("message", (data) => this.frames.push(JSON.parse(frameText(data)) as WireFrame));
  }

  /** Opens a socket to `url`, offering `protocols`; closed after the test. */
  static async open(t: TestContext, url: string, protocols: readonly string[] = []): Promise<RawSocket> {
    const socket = new WebSocket(url, [...protocols]);
    t.after(() => socket.close());
    // Listening before the open event: a frame sent on open may arrive with the handshake.
    const raw = new RawSocket(socket);
    await within(
      new Promise<void>((resolve, reject) => {
        socket.once("open", () => resolve());
        socket.once("error", reject);
      }),
      `a raw socket to open ${url}`,
    );
    return raw;
  }

  /** The subprotocol the server echoed (`""` for none). */
  get protocol(): string {
    return this.#socket.protocol;
  }

  /** Sends `frame` as JSON, or as is when it is a string. */
  send(frame: object | string): void {
    this.#socket.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** The next frame whose `meta.correlationId` is `id`. */
  reply(id: string): Promise<WireFrame> {
    return this.frames.next(`a frame correlated to ${id}`, (f) => f.meta?.["correlationId"] === id);
  }
}

/** How the server answered an upgrade it refused. */
export interface RefusedUpgrade {
  readonly status: number;
  readonly body: string;
}

/** Connects a raw socket the server accepts and then closes; resolves with the close code and reason. */
export function refusedByClose(url: string, protocols: readonly string[] = []): Promise<{ code: number; reason: string }> {
  const socket = new WebSocket(url, [...protocols]);
  return within(
    new Promise((resolve, reject) => {
      socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() }));
      socket.once("error", reject);
    }),
    `the server to close ${url}`,
  );
}

/** Attempts an upgrade that must be refused; resolves with the HTTP status and body. */
export function refusedUpgrade(url: string, protocols: readonly string[] = []): Promise<RefusedUpgrade> {
  const socket = new WebSocket(url, [...protocols]);
  return within(
    new Promise<RefusedUpgrade>((resolve, reject) => {
      socket.once("open", () => {
        socket.close();
        reject(new Error(`the upgrade of ${url} was accepted`));
      });
      socket.once("unexpected-response", (_request, response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          body += chunk;
        });
        response.on("end", () => {
          resolve({ status: response.statusCode ?? 0, body });
          // With an `unexpected-response` listener, ending the handshake is ours to do;
          // ws reports the abort as an error, which is expected here.
          socket.on("error", () => {});
          socket.terminate();
        });
      });
      socket.once("error", reject);
    }),
    `the upgrade of ${url} to be refused`,
  );
}
