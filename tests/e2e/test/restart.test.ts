// The generated client across a server restart: the Rust e2e server is killed (as a crash
// would), the client reconnects with backoff while frames queue, and a new server process on
// the same port gets them once the client is back.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  Calculate,
  ChatMessage,
  ConnectionClosedError,
  GetMessages,
  JoinRoom,
  SendMessage,
  UserJoined,
  connectedAs,
  tokenFor,
} from "./support/chat.js";
import { type ServerProcess, startRustServer } from "./support/processes.js";
import { Inbox, rejection, within } from "./support/wait.js";

/**
 * Starts the server again on `port`. Until the new process holds the port, another process's
 * connection may briefly use it as its local port (node --test may run files in parallel),
 * so a refused bind is retried a bounded number of times.
 */
async function restartOn(port: number): Promise<ServerProcess> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startRustServer({ port });
    } catch (error) {
      const inUse = error instanceof Error && /in use|os error 98/i.test(error.message);
      if (!inUse || attempt === 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

test("after a server restart the client reconnects and delivers what it queued meanwhile", async (t) => {
  let server: ServerProcess = await startRustServer();
  t.after(() => server.stop());
  const tokenRequests: number[] = [];
  const h = await connectedAs(t, server.url, "phoenix", {
    // Fast retries: the delays themselves are never asserted.
    reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
    auth: {
      token: () => {
        tokenRequests.push(Date.now());
        return tokenFor("phoenix");
      },
    },
  });
  await h.states.next("the first open", (s) => s.state === "open");
  const roomId = `restart-${process.pid}`;
  const joins = new Inbox<UserJoined>();
  const chat = new Inbox<ChatMessage>();
  h.client.on(UserJoined, joins.push);
  h.client.on(ChatMessage, chat.push);
  h.client.send(JoinRoom, { roomId });
  await joins.next("the first USER_JOINED");

  // A request in flight when the server dies is lost with its connection.
  const inFlight = rejection(
    h.client.request(GetMessages, { roomId: "e2e:hold", limit: 1 }),
    "the request in flight when the server died",
  );
  const port = server.port;
  await server.kill();
  const lost = await inFlight;
  assert.ok(lost instanceof ConnectionClosedError, String(lost));
  await h.states.next("the client to start reconnecting", (s) => s.state === "reconnecting");

  // Offline: these wait in the client's queue, in order.
  h.client.send(JoinRoom, { roomId });
  h.client.send(SendMessage, { roomId, text: "queued 1" });
  h.client.send(SendMessage, { roomId, text: "queued 2" });
  const queuedRequest = h.client.request(Calculate, { operation: "add", a: 40, b: 2 });
  assert.equal(h.client.state, "reconnecting");
  assert.equal(h.client.queued, 4);

  server = await restartOn(port);
  await h.states.next("the client to be open again", (s) => s.state === "open");
  assert.deepEqual(await within(queuedRequest, "the queued CALCULATE"), { result: 42 });
  const delivered = [await chat.next("the first queued message"), await chat.next("the second queued message")];
  // The server runs a connection's handlers concurrently, so only the set is certain.
  assert.deepEqual(delivered.map((m) => m.text).sort(), ["queued 1", "queued 2"]);
  await joins.next("USER_JOINED from the new server");
  assert.equal(h.client.queued, 0);
  // One token per connection attempt: the first connect and every retry.
  assert.ok(tokenRequests.length >= 2, `the token provider ran ${tokenRequests.length} times`);
  // The new server has the messages: they were delivered, not just echoed by a fluke.
  const history = await h.client.request(GetMessages, { roomId, limit: 10 });
  assert.deepEqual(history.messages.map((m) => m.text).sort(), ["queued 1", "queued 2"]);
  // Failed attempts while the server was down are reported as connection errors, if at all;
  // nothing else may be.
  assert.deepEqual(
    h.errors.items.filter((e) => e.kind !== "connection"),
    [],
  );
});
