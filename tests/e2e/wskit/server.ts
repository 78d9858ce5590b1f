// A WS-Kit 0.10 server on Bun speaking the chat protocol of WS-Kit's tutorial, for twinwire's
// compatibility tests (tests/e2e/test/wskit-server.test.ts): the generated twinwire
// client must talk to it as it talks to twinwire's runtime.
//
// Usage: bun server.ts. Listens on 127.0.0.1 at a free port and prints
// `wskit-server: listening on ws://127.0.0.1:<port>/` once ready.
//
// The message definitions are the ones twinwire generates from examples/chat/protocol/src/lib.rs
// (examples/chat/generated/zod/protocol.zod.ts). Behaviour, like the Rust e2e server's where both have it:
// - the upgrade needs `access_token=valid.<name>` (WS-Kit's client default), else HTTP 401;
// - on open: ROOM_LIST; AUTHENTICATE with the upgrade's token: AUTH_SUCCESS;
// - JOIN_ROOM / LEAVE_ROOM: USER_JOINED / USER_LEFT to the room's members (the joiner too);
// - SEND_MESSAGE: CHAT_MESSAGE to the sender and the room's other members;
// - TYPING_START / TYPING_STOP: USER_TYPING to the room's other members;
// - CALCULATE (RPC): one progress frame carrying the first operand as a running result (WS-Kit
//   validates progress values against the response schema), then CALCULATE_RESULT; a result
//   that is not finite is an RPC_ERROR INVALID_ARGUMENT.
// Rooms are kept here and members are written to directly: WS-Kit 0.10's Bun pub/sub adapter
// delivers nothing when subscribing through the router (seen with @ws-kit/bun 0.10.1).
import { createBunHandler } from "@ws-kit/bun";
import { createRouter, withZod, type z } from "@ws-kit/zod";

// The messages as twinwire generates them from the Rust declaration (README, "zod (for
// WS-Kit apps)"); nothing here re-declares a schema.
import {
  AuthSuccess,
  Authenticate,
  Calculate,
  ChatMessage,
  JoinRoom,
  LeaveRoom,
  RoomList,
  SendMessage,
  TypingStart,
  TypingStop,
  UserJoined,
  UserLeft,
  UserTyping,
} from "../../../examples/chat/generated/zod/protocol.zod.ts";

interface Connection {
  userId: string;
  userName: string;
  roomId?: string | undefined;
  [key: string]: unknown;
}

/** Something that takes frames: WS-Kit's view of a connection's socket. */
interface Member {
  send(data: string): void;
}

/** Room id → client id → socket. */
const rooms = new Map<string, Map<string, Member>>();
let nextMessage = 0;

/**
 * Writes a server message to members of a room, checked against its schema first (what
 * `ctx.send` does for the current connection; WS-Kit has no validated send to others).
 */
function toRoom(room: string, schema: z.ZodType, payload: unknown, except?: string): void {
  const frame = JSON.stringify(schema.parse({ type: typeOfSchema(schema), meta: { timestamp: Date.now() }, payload }));
  for (const [clientId, member] of rooms.get(room) ?? []) {
    if (clientId !== except) member.send(frame);
  }
}

function typeOfSchema(schema: z.ZodType): string {
  return (schema as unknown as { messageType: string }).messageType;
}

/** The attachment as the Rust server writes it: a name the client left out or sent as null is left out. */
function attachmentOut(input: { url: string; name?: string | null | undefined }): { url: string; name?: string } {
  return input.name === null || input.name === undefined ? { url: input.url } : { url: input.url, name: input.name };
}

function leave(room: string, clientId: string, userId: string): void {
  toRoom(room, UserLeft, { roomId: room, userId });
  rooms.get(room)?.delete(clientId);
}

const TOKEN = /^valid\.([A-Za-z0-9_-]{1,32})$/;

const router = createRouter<Connection>()
  .plugin(withZod())
  .onOpen((ctx) => {
    const list = [...rooms].map(([id, members]) => ({ id, name: id, userCount: members.size }));
    ctx.send(RoomList, { rooms: list });
  })
  .onClose((ctx) => {
    if (ctx.data.roomId !== undefined) {
      rooms.get(ctx.data.roomId)?.delete(ctx.clientId);
      toRoom(ctx.data.roomId, UserLeft, { roomId: ctx.data.roomId, userId: ctx.data.userId });
    }
  })
  .on(Authenticate, (ctx) => {
    if (ctx.payload.token !== `valid.${ctx.data.userName}`) {
      ctx.error("UNAUTHENTICATED", "the token does not match the one this connection was opened with");
      return;
    }
    ctx.send(AuthSuccess, { userId: ctx.data.userId, userName: ctx.data.userName });
  })
  .on(JoinRoom, (ctx) => {
    const room = ctx.payload.roomId;
    if (ctx.data.roomId === room) return;
    if (ctx.data.roomId !== undefined) leave(ctx.data.roomId, ctx.clientId, ctx.data.userId);
    ctx.assignData({ roomId: room });
    let members = rooms.get(room);
    if (members === undefined) {
      members = new Map();
      rooms.set(room, members);
    }
    members.set(ctx.clientId, ctx.ws);
    toRoom(room, UserJoined, { roomId: room, userId: ctx.data.userId, userName: ctx.data.userName });
  })
  .on(LeaveRoom, (ctx) => {
    const room = ctx.payload.roomId;
    if (ctx.data.roomId !== room) {
      ctx.error("FAILED_PRECONDITION", `you are not in room \`${room}\``, { roomId: room });
      return;
    }
    leave(room, ctx.clientId, ctx.data.userId);
    ctx.assignData({ roomId: undefined });
  })
  .on(SendMessage, (ctx) => {
    nextMessage += 1;
    const chat = {
      id: `w${nextMessage}`,
      roomId: ctx.payload.roomId,
      userId: ctx.data.userId,
      userName: ctx.data.userName,
      text: ctx.payload.text,
      timestamp: Date.now(),
      // Option on the wire: a `None` is left out, never written as null (a client may send
      // either).
      ...(ctx.payload.attachment ? { attachment: attachmentOut(ctx.payload.attachment) } : {}),
    };
    ctx.send(ChatMessage, chat);
    toRoom(chat.roomId, ChatMessage, chat, ctx.clientId);
  })
  .on(TypingStart, (ctx) => {
    const { userId, userName } = ctx.data;
    toRoom(ctx.payload.roomId, UserTyping, { roomId: ctx.payload.roomId, userId, userName, typing: true }, ctx.clientId);
  })
  .on(TypingStop, (ctx) => {
    const { userId, userName } = ctx.data;
    toRoom(ctx.payload.roomId, UserTyping, { roomId: ctx.payload.roomId, userId, userName, typing: false }, ctx.clientId);
  })
  .rpc(Calculate, async (ctx) => {
    const { operation, a, b } = ctx.payload;
    // Awaited so the progress frame is written before the reply.
    await ctx.progress({ result: a });
    const result = operation === "add" ? a + b : a * b;
    if (!Number.isFinite(result)) {
      ctx.error("INVALID_ARGUMENT", `${a} ${operation} ${b} is not a finite number`, { operation, a, b });
      return;
    }
    ctx.reply({ result });
  });

const { fetch, websocket } = createBunHandler(router, {
  authenticate(req) {
    const token = new URL(req.url).searchParams.get("access_token") ?? "";
    const name = TOKEN.exec(token)?.[1];
    return name === undefined ? undefined : { userId: `user-${name}`, userName: name };
  },
});

const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch, websocket });
console.log(`wskit-server: listening on ws://127.0.0.1:${server.port}/`);
