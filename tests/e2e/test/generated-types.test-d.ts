// Type-level tests of the GENERATED chat client (examples/chat/generated/ts), checked by the
// strict `tsc` run of run.sh and never executed. Each `@ts-expect-error` line must be a
// compile error (an unused directive fails the build); the other lines must compile.
import { WebSocket } from "ws";
import {
  AuthSuccess,
  Calculate,
  type CalculateResult,
  ChatMessage,
  GetMessages,
  JoinRoom,
  type Messages,
  SendMessage,
  TypingStart,
  createChatClient,
} from "./support/chat.js";

const chat = createChatClient({ url: "ws://127.0.0.1:1/", WebSocket });

export async function misuse(): Promise<void> {
  chat.send(SendMessage, { roomId: "r", text: "hi" });
  chat.send(SendMessage, { roomId: "r", text: "hi", attachment: null });
  // @ts-expect-error -- a server message cannot be sent
  chat.send(ChatMessage, { id: "1", roomId: "r", userId: "u", userName: "n", text: "t", timestamp: 1 });
  // @ts-expect-error -- a wrong payload field
  chat.send(SendMessage, { roomId: "r", txt: "hi" });
  // @ts-expect-error -- a missing payload field
  chat.send(JoinRoom, {});
  // @ts-expect-error -- an RPC request goes through `request`, which awaits its reply
  chat.send(GetMessages, { roomId: "r", limit: 1 });

  chat.on(ChatMessage, (message) => message.userName.toUpperCase());
  // @ts-expect-error -- a client message cannot be listened to
  chat.on(TypingStart, () => {});
  // @ts-expect-error -- the handler's payload is the message's
  chat.on(AuthSuccess, (payload: ChatMessage) => payload.text);

  const result: CalculateResult = await chat.request(Calculate, { operation: "add", a: 1, b: 2 });
  const history: Messages = await chat.request(GetMessages, { roomId: "r", limit: 5 });
  // @ts-expect-error -- awaiting the wrong response type
  const wrong: Messages = await chat.request(Calculate, { operation: "add", a: 1, b: 2 });
  // @ts-expect-error -- an operation the protocol does not have
  await chat.request(Calculate, { operation: "divide", a: 1, b: 2 });
  // @ts-expect-error -- a plain message is not an RPC
  await chat.request(SendMessage, { roomId: "r", text: "hi" });
  void [result, history, wrong];
}
