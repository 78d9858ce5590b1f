// A tiny scripted WebSocket server speaking twinwire's wire protocol, for the client tests:
// a real `ws` server on 127.0.0.1 (port 0 at first, the same port after a restart) that
// records upgrades and frames and lets each test answer frames as it likes.
import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocket, WebSocketServer } from "ws";

/** Every wait in the tests is bounded by this, so a broken client fails instead of hanging. */
export const WAIT_MS = 5000;

/** A JSON frame as received. */
export interface WireFrame {
  type: string;
  meta?: Record<string, unknown>;
  payload?: unknown;
  [key: string]: unknown;
}

/** What the client sent at the upgrade. */
export interface Upgrade {
  url: string;
  protocols: string[];
}

/** Resolves with the next value of a queue fed by `push`. */
class Inbox<T> {
  readonly #items: T[] = [];
  readonly #waiters: ((item: T) => void)[] = [];

  push(item: T): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter(item);
    else this.#items.push(item);
  }

  next(what: string): Promise<T> {
    const item = this.#items.shift();
    if (item !== undefined) return Promise.resolve(item);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(done), 1);
        reject(new Error(`fake server: no ${what} within ${WAIT_MS} ms`));
      }, WAIT_MS);
      const done = (value: T): void => {
        clearTimeout(timer);
        resolve(value);
      };
      this.#waiters.push(done);
    });
  }

  get size(): number {
    return this.#items.length;
  }
}

/** One client connection, seen from the server. */
export class Connection {
  readonly socket: WebSocket;
  readonly upgrade: Upgrade;
  /** Every frame received, in order. */
  readonly frames: WireFrame[] = [];
  readonly #inbox = new Inbox<WireFrame>();
  readonly closed: Promise<number>;

  constructor(socket: WebSocket, upgrade: Upgrade, script: Script | undefined) {
    this.socket = socket;
    this.upgrade = upgrade;
    this.closed = new Promise((resolve) => socket.on("close", (code) => resolve(code)));
    socket.on("message", (data) => {
      const frame = JSON.parse(String(data)) as WireFrame;
      this.frames.push(frame);
      if (script?.(frame, this) !== true) this.#inbox.push(frame);
    });
  }

  /** The next frame not consumed by the script. */
  nextFrame(): Promise<WireFrame> {
    return this.#inbox.next("frame");
  }

  /** Frames received but not yet taken with `nextFrame`. */
  get unread(): number {
    return this.#inbox.size;
  }

  /** Sends a frame (objects as JSON text). */
  send(frame: object | string): void {
    this.socket.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Replies to a request frame with `type`/`payload` and its correlation id. */
  reply(request: WireFrame, type: string, payload?: unknown, extra: Record<string, unknown> = {}): void {
    const frame: Record<string, unknown> = { type, meta: { correlationId: request.meta?.["correlationId"] }, ...extra };
    if (payload !== undefined) frame["payload"] = payload;
    this.send(frame);
  }
}

/** Handles a frame before a test sees it; returning `true` consumes it. */
export type Script = (frame: WireFrame, connection: Connection) => boolean | void;

/** Options of {@link FakeServer.start}. */
export interface FakeServerOptions {
  script?: Script;
  /** Refuse the upgrade with HTTP 401 when this returns false. */
  authorize?: (upgrade: Upgrade) => boolean;
}

/** The fake server. */
export class FakeServer {
  readonly #options: FakeServerOptions;
  #wss: WebSocketServer | undefined;
  #port = 0;
  readonly #connections = new Inbox<Connection>();
  /** Every connection ever accepted, in order. */
  readonly connections: Connection[] = [];
  /** Every upgrade request, accepted or not, in order. */
  readonly upgrades: Upgrade[] = [];

  private constructor(options: FakeServerOptions) {
    this.#options = options;
  }

  /** Starts a server on 127.0.0.1 and a free port. */
  static async start(options: FakeServerOptions = {}): Promise<FakeServer> {
    const server = new FakeServer(options);
    await server.#listen(0);
    return server;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.#port}/ws`;
  }

  get port(): number {
    return this.#port;
  }

  /** The next accepted connection. */
  nextConnection(): Promise<Connection> {
    return this.#connections.next("connection");
  }

  /** Stops listening and drops every connection with `code` (1006-like when `terminate`). */
  async stop(code = 1001): Promise<void> {
    const wss = this.#wss;
    if (!wss) return;
    this.#wss = undefined;
    for (const client of wss.clients) client.close(code, "server stopping");
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    for (const client of wss.clients) client.terminate();
  }

  /** Listens again on the same port. */
  async restart(): Promise<void> {
    await this.#listen(this.#port);
  }

  async #listen(port: number): Promise<void> {
    const seen = new WeakMap<IncomingMessage, Upgrade>();
    const wss = new WebSocketServer({
      host: "127.0.0.1",
      port,
      handleProtocols: (protocols) => {
        // Echo one offered subprotocol, as docs/wire-protocol.md (Authentication) asks of servers.
        const [first] = protocols;
        return first ?? false;
      },
      verifyClient: (info: { req: IncomingMessage }, done: (ok: boolean, code?: number) => void) => {
        const header = info.req.headers["sec-websocket-protocol"];
        const upgrade: Upgrade = {
          url: info.req.url ?? "",
          protocols: header ? header.split(",").map((p) => p.trim()) : [],
        };
        this.upgrades.push(upgrade);
        seen.set(info.req, upgrade);
        const ok = this.#options.authorize?.(upgrade) ?? true;
        done(ok, ok ? undefined : 401);
      },
    });
    wss.on("connection", (socket, req) => {
      const upgrade = seen.get(req) ?? { url: req.url ?? "", protocols: [] };
      const connection = new Connection(socket, upgrade, this.#options.script);
      this.connections.push(connection);
      this.#connections.push(connection);
    });
    await new Promise<void>((resolve, reject) => {
      wss.once("listening", resolve);
      wss.once("error", reject);
    });
    this.#wss = wss;
    this.#port = (wss.address() as AddressInfo).port;
  }
}

/** Waits until `predicate` holds, polling; fails after {@link WAIT_MS}. */
export async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export { WebSocket };
