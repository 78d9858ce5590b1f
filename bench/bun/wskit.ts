// WS-Kit 0.10 on Bun: the benchmark protocol (ECHO and SUBSCRIBE RPCs, PUBLISH fanning
// NEWS out to a topic) declared with @ws-kit/zod, served by @ws-kit/bun.
//
// Usage: bun wskit.ts [--pubsub router|raw]. Listens on 127.0.0.1 at a free port and
// prints `listening <host:port>` once ready. `router` subscribes and publishes through
// WS-Kit's pub/sub API (with the Bun adapter this delivers nothing in 0.10, see
// BENCHMARKS.md); `raw` (the default) subscribes the Bun socket and publishes with Bun's
// `server.publish`, which is what the fan-out comparison uses.
import { createBunHandler, bunPubSub } from "@ws-kit/bun";
import { createRouter, message, rpc, withPubSub, withZod, z } from "@ws-kit/zod";

const mode = process.argv.includes("--pubsub")
  ? process.argv[process.argv.indexOf("--pubsub") + 1]
  : "raw";
if (mode !== "raw" && mode !== "router") {
  console.error(`--pubsub must be "raw" or "router", not ${mode}`);
  process.exit(2);
}

const Echo = rpc("ECHO", { text: z.string() }, "ECHO_REPLY", { text: z.string() });
const Subscribe = rpc("SUBSCRIBE", { topic: z.string() }, "SUBSCRIBED", { topic: z.string() });
const Publish = message("PUBLISH", { topic: z.string(), text: z.string() });
const News = message("NEWS", { text: z.string() });

// The server exists only after Bun.serve; the adapter reads it lazily.
let server: ReturnType<typeof Bun.serve> | undefined;
const adapter = bunPubSub(new Proxy({} as ReturnType<typeof Bun.serve>, {
  get: (_target, key) => Reflect.get(server!, key).bind(server),
}));

const router = createRouter()
  .plugin(withZod())
  .plugin(withPubSub({ adapter }))
  .rpc(Echo, (ctx) => {
    ctx.reply({ text: ctx.payload.text });
  })
  .rpc(Subscribe, async (ctx) => {
    if (mode === "router") {
      await ctx.topics.subscribe(ctx.payload.topic);
    } else {
      ctx.ws.subscribe(ctx.payload.topic);
    }
    ctx.reply({ topic: ctx.payload.topic });
  })
  .on(Publish, async (ctx) => {
    if (mode === "router") {
      await ctx.publish(ctx.payload.topic, News, { text: ctx.payload.text });
    } else {
      server!.publish(
        ctx.payload.topic,
        JSON.stringify({ type: "NEWS", payload: { text: ctx.payload.text } }),
      );
    }
  });

const { fetch, websocket } = createBunHandler(router);
server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch, websocket });
console.log(`listening ${server.hostname}:${server.port}`);
