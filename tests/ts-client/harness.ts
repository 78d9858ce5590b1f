// Shared setup of the behaviour tests: a fake server, a chat client pointed at it with fast
// reconnects, and recorders for its errors and states. Everything is torn down after the test.
import type { TestContext } from "node:test";
import type { ClientError, ClientOptions, ConnectionState, StateDetail, TwinwireClient } from "../../codegen-cli/ts/twinwire-client.js";
import { type Chat, ChatMessage, Sync, createChatClient } from "./fixtures/chat-protocol.js";
import { type Connection, FakeServer, type FakeServerOptions, WebSocket } from "./fake-server.js";

export interface Harness {
  server: FakeServer;
  client: TwinwireClient<typeof Chat>;
  errors: ClientError[];
  states: { state: ConnectionState; detail: StateDetail }[];
  /** Connects and returns the server side of the connection. */
  open(): Promise<Connection>;
}

/** Fast backoff so reconnect tests finish quickly; the delays themselves are never asserted. */
export const FAST_RECONNECT = { initialDelayMs: 10, maxDelayMs: 50 } as const;

export async function setup(
  t: TestContext,
  options: Partial<ClientOptions> = {},
  serverOptions: FakeServerOptions = {},
): Promise<Harness> {
  const server = await FakeServer.start(serverOptions);
  const client = createChatClient({ url: server.url, WebSocket, reconnect: FAST_RECONNECT, ...options });
  const errors: ClientError[] = [];
  const states: Harness["states"] = [];
  client.onError((error) => errors.push(error));
  client.onState((state, detail) => states.push({ state, detail }));
  t.after(async () => {
    await client.close();
    await server.stop();
  });
  return {
    server,
    client,
    errors,
    states,
    async open() {
      const [connection] = await Promise.all([server.nextConnection(), client.connect()]);
      return connection;
    },
  };
}

/** A valid CHAT_MESSAGE frame. */
export function chatFrame(id: string, extra: Record<string, unknown> = {}): object {
  return {
    type: ChatMessage.type,
    meta: { timestamp: 1, ...extra },
    payload: { id, roomId: "general", userId: "u1", text: `text ${id}`, attachment: null, timestamp: 1 },
  };
}

/**
 * Sends a SYNC frame and resolves once the client handled it. Frames are handled in order, so
 * whatever an earlier frame caused has happened by then: this is how the tests prove a frame
 * was ignored without waiting for an arbitrary time. SYNC is a test-only message, so its
 * handler changes nothing about how the messages under test are dispatched.
 */
export async function sentinel(client: TwinwireClient<typeof Chat>, connection: Connection, id = "sentinel"): Promise<void> {
  const seen = new Promise<void>((resolve) => {
    const off = client.on(Sync, (message) => {
      if (message.id === id) {
        off();
        resolve();
      }
    });
  });
  connection.send({ type: Sync.type, payload: { id } });
  await seen;
}
