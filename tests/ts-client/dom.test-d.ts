// Type-level: in a browser project (lib "dom", no Node types) the global WebSocket and
// AbortController fit the client's options without casts.
import { TwinwireClient, type ClientOptions, type ProtocolDescriptor } from "../../codegen-cli/ts/twinwire-client.js";

const Empty = { name: "Empty", messages: [] } as const satisfies ProtocolDescriptor;

const options: ClientOptions = { url: "wss://example.invalid/ws", WebSocket };
export const client = new TwinwireClient(Empty, options);

const controller = new AbortController();
export const signalFits: { signal?: import("../../codegen-cli/ts/twinwire-client.js").AbortSignalLike } = { signal: controller.signal };
