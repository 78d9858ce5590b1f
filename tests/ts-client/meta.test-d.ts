// Type-level tests of typed meta, checked by `tsc --noEmit` (run-tests.sh) and never run.
// Each `@ts-expect-error` line must be a compile error; the lines without it must compile.
import { WebSocket } from "ws";
import type { InboundEnvelope, Meta, MetaOf, TwinwireClient } from "../../codegen-cli/ts/twinwire-client.js";
import {
  Audited,
  Chat,
  Lookup,
  SendMessage,
  type TraceMeta,
  Tagged,
  Traced,
  createChatClient,
} from "./fixtures/chat-protocol.js";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | undefined {
  return undefined;
}

const client: TwinwireClient<typeof Chat> = createChatClient({ url: "ws://127.0.0.1:1", WebSocket });

assertType<Equal<MetaOf<typeof Traced>, TraceMeta>>();
assertType<Equal<MetaOf<typeof SendMessage>, unknown>>();

// ── send: the typed meta is required when it has a required key, and type-checked ──
client.send(Traced, { n: 1 }, { meta: { traceId: "t-1" } });
client.send(Traced, { n: 1 }, { meta: { traceId: "t-1", priority: null, extra: "untyped extras ride along" } });
// @ts-expect-error: the options, and with them the required meta key, are missing
client.send(Traced, { n: 1 });
// @ts-expect-error: options without meta
client.send(Traced, { n: 1 }, {});
// @ts-expect-error: meta without its required key
client.send(Traced, { n: 1 }, { meta: { priority: 1 } });
// @ts-expect-error: a meta key of the wrong type
client.send(Traced, { n: 1 }, { meta: { traceId: 7 } });

// All keys optional: options stay optional, but what is given is checked.
client.send(Tagged);
client.send(Tagged, undefined, { meta: { tag: "x" } });
// @ts-expect-error: a typed meta key of the wrong type
client.send(Tagged, undefined, { meta: { tag: 1 } });

// Messages without typed meta keep their untyped extras.
client.send(SendMessage, { roomId: "r", text: "t" }, { meta: { anything: 1 } });

// ── request: the same rules ──
void client.request(Lookup, undefined, { meta: { traceId: "t" }, timeoutMs: 10 });
// @ts-expect-error: a request whose typed meta has a required key needs it
void client.request(Lookup);
// @ts-expect-error: the required key is missing
void client.request(Lookup, undefined, { meta: {} });

// ── inbound: handlers see the typed meta ──
client.on(Audited, (_payload, meta) => {
  assertType<Equal<typeof meta, Meta & { region: string }>>();
  const region: string = meta.region;
  void region;
});
client.onUnhandled((envelope: InboundEnvelope<typeof Chat>) => {
  if (envelope.type === "AUDITED") {
    const region: string = envelope.meta.region;
    void region;
  }
});
