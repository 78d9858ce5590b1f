// Old and new generated TypeScript clients against old and new twinwire servers
// (tests/evolution/tests/old_vs_new.rs starts the servers, generates and compiles the clients,
// and writes the plan this script reads; see that file).
//
// Usage: node driver.mjs <plan.json>. Prints one JSON document: for every run, what happened
// to each frame. A run is one generated client (of one version of a case) connected to one
// server (of the other version). The client is the generated one, unchanged, in its default
// (tolerant) mode; only a test-only client message `TWINWIRE_E2E_SYNC` is added to its
// descriptor. Every server answers that unknown type with an `UNIMPLEMENTED` error, in order
// with the other frames of the connection, so it marks "everything before has been read".
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { WebSocket } from "ws";

const SYNC = "TWINWIRE_E2E_SYNC";
const PATIENCE_MS = 10_000;

const plan = JSON.parse(readFileSync(process.argv[2], "utf8"));
const results = [];
for (const run of plan.runs) {
  results.push(await drive(run));
}
process.stdout.write(JSON.stringify({ results }, null, 2) + "\n");
process.exit(0);

async function drive(run) {
  const mod = await import(pathToFileURL(run.module).href);
  const protocol = Object.values(mod).find(
    (v) => v !== null && typeof v === "object" && typeof v.name === "string" && Array.isArray(v.messages),
  );
  if (protocol === undefined) throw new Error(`${run.module} exports no protocol descriptor`);
  const sync = { type: SYNC, direction: "client", hasPayload: false, validate: () => [] };
  const client = new mod.TwinwireClient(
    { ...protocol, messages: [...protocol.messages, sync] },
    { url: run.url, WebSocket, reconnect: false },
  );

  // What happens to server → client frames, in arrival order.
  const received = [];
  // Server errors since the last sync, and whoever waits for the sync's answer.
  let errors = [];
  let synced = null;
  for (const desc of protocol.messages) {
    if (desc.direction === "server") {
      client.on(desc, () => received.push({ kind: desc.type, accepted: true, detail: "handled" }));
    }
  }
  client.onUnknown((frame) => received.push({ kind: frame.type, accepted: true, detail: "ignored (unknown type)" }));
  client.onError((error) => {
    // The runtime names the unknown type in `details.type` (docs/wire-protocol.md, "Errors").
    if (error.kind === "server" && error.code === "UNIMPLEMENTED" && error.details?.type === SYNC) {
      synced?.();
      return;
    }
    if (error.kind === "validation" && error.direction === "inbound") {
      const issues = error.issues.map((i) => `${i.path}=${i.code}`).join(",");
      received.push({ kind: error.messageType, accepted: false, detail: `rejected: ${issues}` });
      return;
    }
    errors.push(`${error.kind}: ${error.code ?? ""} ${error.message}`);
  });

  const roundTrip = () =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${SYNC} within ${PATIENCE_MS} ms`)), PATIENCE_MS);
      synced = () => {
        clearTimeout(timer);
        synced = null;
        resolve();
      };
      client.send(sync);
    });

  const sent = [];
  try {
    await client.connect();
    // The server sends its frames when the connection opens, before it reads any frame.
    await roundTrip();
    errors = [];
    for (const probe of run.clientFrames) {
      const desc = protocol.messages.find((m) => m.type === probe.kind && m.direction === "client");
      if (desc === undefined) throw new Error(`the client has no message ${probe.kind}`);
      if (desc.hasPayload) client.send(desc, probe.payload);
      else client.send(desc);
      await roundTrip();
      sent.push(
        errors.length === 0
          ? { kind: probe.kind, accepted: true, detail: "accepted" }
          : { kind: probe.kind, accepted: false, detail: `rejected: ${errors.join("; ")}` },
      );
      errors = [];
    }
  } finally {
    await client.close();
  }
  return { case: run.case, client: run.client, sent, received };
}
