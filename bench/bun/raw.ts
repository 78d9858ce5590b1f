// Raw Bun.serve: echoes every frame back unchanged (the Bun floor for the echo scenario),
// and for fan-out subscribes the socket on SUBSCRIBE and publishes NEWS with Bun's
// `server.publish` on PUBLISH. No validation, no router: what Bun costs by itself.
//
// Usage: bun raw.ts. Listens on 127.0.0.1 at a free port and prints `listening <host:port>`.

const SUBSCRIBE = '{"type":"SUBSCRIBE"';
const PUBLISH = '{"type":"PUBLISH"';

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch(req, server) {
    if (server.upgrade(req)) return undefined;
    return new Response("WebSocket only\n", { status: 426 });
  },
  websocket: {
    message(ws, data) {
      const text = typeof data === "string" ? data : new TextDecoder().decode(data);
      // Only the fan-out set-up and trigger are parsed; echo frames go straight back.
      if (text.startsWith(SUBSCRIBE)) {
        const frame = JSON.parse(text);
        ws.subscribe(frame.payload.topic);
        ws.send(JSON.stringify({
          type: "SUBSCRIBED",
          meta: { correlationId: frame.meta.correlationId },
          payload: { topic: frame.payload.topic },
        }));
      } else if (text.startsWith(PUBLISH)) {
        const frame = JSON.parse(text);
        server.publish(frame.payload.topic, JSON.stringify({ type: "NEWS", payload: { text: frame.payload.text } }));
      } else {
        ws.send(data);
      }
    },
  },
});
console.log(`listening ${server.hostname}:${server.port}`);
