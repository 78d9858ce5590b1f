/**
 * The chat page: the generated client for the `Chat` protocol, wired to the DOM.
 *
 * Everything it says to the server goes through `createChatClient` and the generated
 * descriptors, so a payload the Rust protocol would refuse is a type error here, and is
 * refused in the browser before sending (with the server's paths and issue codes).
 *
 * URL switch: `?clientValidation=off` sends payloads without the browser-side check, to show
 * the server's own validation errors (`INVALID_ARGUMENT` with the failing paths). It only
 * affects what this page sends; frames from the server are always checked.
 */

import {
  AuthSuccess,
  Authenticate,
  ChatMessage,
  GetMessages,
  JoinRoom,
  LeaveRoom,
  RefusedError,
  RoomList,
  SendMessage,
  ServerError,
  TypingStart,
  TypingStop,
  UserJoined,
  UserLeft,
  UserTyping,
  ValidationError,
  createChatClient,
  type ClientError,
  type RoomInfo,
} from "../../generated/ts/protocol.js";
import {
  type ErrorView,
  type Elements,
  describeState,
  describeTyping,
  findElements,
  messageItem,
  renderRooms,
  showError,
  systemItem,
} from "./view.js";

/** Newest messages loaded when joining a room (the protocol allows up to 100). */
const HISTORY_LIMIT = 100;
/** Quiet time after the last keystroke before `TYPING_STOP` is sent. */
const TYPING_IDLE_MS = 2500;
/** How long another user's typing indicator lasts if their `TYPING_STOP` never comes. */
const TYPING_EXPIRY_MS = 8000;

const params = new URLSearchParams(location.search);
const clientValidation = params.get("clientValidation") !== "off";

/**
 * `desc` itself, or (with client validation off) a copy whose outbound check accepts
 * anything. The client validates outbound payloads with the descriptor it is given and
 * inbound frames with the protocol's own descriptors, so only sending is affected.
 */
function outbound<D extends { readonly validate: (payload: unknown) => unknown[] }>(desc: D): D {
  // The copy differs from `desc` only in `validate`, whose type it still satisfies.
  return clientValidation ? desc : ({ ...desc, validate: () => [] } as D);
}

const wsUrl = `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/ws`;
/** Where the page trades a name and password for a token (the server's `SIGN_IN_PATH`). */
const SIGN_IN_URL = "/api/sign-in";
/** The token survives reloads of this tab, not the tab itself. */
const TOKEN_KEY = "chat.token";

const client = createChatClient({
  url: wsUrl,
  // A demo server restarts in seconds: retry often rather than back off to 30 s.
  reconnect: { initialDelayMs: 250, maxDelayMs: 3000 },
  // Presented at every upgrade: the server checks it before the WebSocket opens and refuses
  // a bad one with 4401. Without a token the page connects as a guest.
  auth: { token: () => sessionStorage.getItem(TOKEN_KEY) ?? "" },
});

type Entry = { readonly kind: "message"; readonly message: ChatMessage } | { readonly kind: "system"; readonly text: string };

/** What the page knows. `wanted*` survive reconnects; the rest belongs to one connection. */
const state = {
  /** The room to be in, on this and every later connection. */
  wantedRoom: undefined as string | undefined,
  me: undefined as AuthSuccess | undefined,
  /** The room this connection is in (confirmed by the server). */
  room: undefined as string | undefined,
  rooms: [] as RoomInfo[],
  entries: [] as Entry[],
  /** Names of users seen in the room, for `USER_LEFT`, which carries only the id. */
  names: new Map<string, string>(),
  /** Others typing in the room: user id → name and expiry timer. */
  typing: new Map<string, { readonly name: string; readonly timer: ReturnType<typeof setTimeout> }>(),
  /** Whether this page told the server it is typing, and when it stops. */
  typingSent: false,
  typingIdle: undefined as ReturnType<typeof setTimeout> | undefined,
};

const ui: Elements = findElements();

function errorView(error: unknown): ErrorView {
  if (error instanceof RefusedError) {
    const code = error.kind === "forbidden" ? "PERMISSION_DENIED" : error.kind.toUpperCase();
    return { source: "server", code, message: error.reason, issues: [] };
  }
  if (error instanceof ServerError) {
    return { source: "server", code: error.code, message: error.message, issues: error.issues ?? [] };
  }
  if (error instanceof ValidationError) {
    // The same verdict the server would give (INVALID_ARGUMENT, same paths and issue codes),
    // reached without sending anything.
    return { source: "client", code: "INVALID_ARGUMENT", message: error.message, issues: error.issues };
  }
  const kind = (error as Partial<ClientError> | undefined)?.kind;
  const message = error instanceof Error ? error.message : String(error);
  return { source: "client", code: kind === undefined ? "ERROR" : kind.toUpperCase(), message, issues: [] };
}

function report(error: unknown): void {
  showError(ui.errors, errorView(error));
}

/** Sends now if connected; says why not otherwise. Returns whether it was sent. */
function trySend(send: () => void): boolean {
  if (client.state !== "open") {
    report(new Error(`not connected (${client.state}); try again once online`));
    return false;
  }
  try {
    send();
    return true;
  } catch (error) {
    report(error);
    return false;
  }
}

// ── rendering ──

function render(): void {
  const { me, room } = state;
  ui.identity.textContent = me === undefined ? "Not signed in." : `Signed in as ${me.userName}`;
  ui.identity.dataset["userId"] = me?.userId ?? "";
  renderRooms(ui.rooms, state.rooms, room);
  // While the connection is down the page keeps showing the room it will rejoin.
  const shown = room ?? (client.state === "open" ? undefined : state.wantedRoom);
  const roomName = state.rooms.find((r) => r.id === shown)?.name ?? shown;
  const suffix = room === undefined && shown !== undefined ? " (rejoining when online)" : "";
  ui.roomTitle.textContent = roomName === undefined ? "Join a room to chat" : `# ${roomName}${suffix}`;
  ui.roomTitle.dataset["roomId"] = room ?? "";
  const canChat = client.state === "open" && room !== undefined;
  ui.message.disabled = !canChat;
  ui.send.disabled = !canChat;
  ui.leave.disabled = !canChat;
}

function renderMessages(): void {
  ui.messages.replaceChildren(
    ...state.entries.map((entry) => (entry.kind === "message" ? messageItem(entry.message) : systemItem(entry.text))),
  );
  ui.messages.scrollTop = ui.messages.scrollHeight;
}

function renderTyping(): void {
  ui.typing.textContent = describeTyping([...state.typing.values()].map((t) => t.name));
}

function append(entry: Entry): void {
  state.entries.push(entry);
  ui.messages.append(entry.kind === "message" ? messageItem(entry.message) : systemItem(entry.text));
  ui.messages.scrollTop = ui.messages.scrollHeight;
}

function setTyping(userId: string, name: string | undefined): void {
  const previous = state.typing.get(userId);
  if (previous !== undefined) clearTimeout(previous.timer);
  if (name === undefined) state.typing.delete(userId);
  else state.typing.set(userId, { name, timer: setTimeout(() => setTyping(userId, undefined), TYPING_EXPIRY_MS) });
  renderTyping();
}

function clearRoomView(): void {
  state.entries = [];
  state.names.clear();
  for (const { timer } of state.typing.values()) clearTimeout(timer);
  state.typing.clear();
  renderMessages();
  renderTyping();
}

// ── talking to the server ──

/** Asks who this connection is: the upgrade signed it in if the page had a token. */
function signIn(): void {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token !== null) trySend(() => client.send(outbound(Authenticate), { token }));
}

/** Connects; a refusal is already on `onError`, so only other failures are reported here. */
function connect(): void {
  client.connect().catch((error: unknown) => {
    if (!(error instanceof RefusedError)) report(error);
  });
}

/** Trades a name and password for a token, then reconnects with it. */
async function signInWithPassword(name: string, password: string): Promise<void> {
  let response: Response;
  try {
    response = await fetch(SIGN_IN_URL, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name, password }),
    });
  } catch (error) {
    report(error);
    return;
  }
  const body: unknown = await response.json().catch(() => ({}));
  const field = (key: string): string | undefined => {
    const value = typeof body === "object" && body !== null ? (body as Record<string, unknown>)[key] : undefined;
    return typeof value === "string" ? value : undefined;
  };
  const token = field("token");
  if (!response.ok || token === undefined) {
    const code = field("code") ?? `HTTP_${response.status}`;
    showError(ui.errors, { source: "server", code, message: field("message") ?? "sign-in failed", issues: [] });
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  ui.password.value = "";
  // The token is checked at the upgrade, so it takes a new connection.
  await client.close();
  connect();
}

function join(roomId: string): void {
  state.wantedRoom = roomId;
  // Offline: remembered, and joined after signing in on the next connection.
  if (client.state !== "open") render();
  else trySend(() => client.send(outbound(JoinRoom), { roomId }));
}

/** Loads the room's history; messages that arrived live meanwhile are kept once, after it. */
async function loadHistory(roomId: string): Promise<void> {
  try {
    const history = await client.request(outbound(GetMessages), { roomId, limit: HISTORY_LIMIT });
    if (state.room !== roomId) return;
    const ids = new Set(history.messages.map((m) => m.id));
    const live = state.entries.filter((e) => e.kind === "system" || !ids.has(e.message.id));
    for (const m of history.messages) state.names.set(m.userId, m.userName);
    state.entries = [...history.messages.map((message): Entry => ({ kind: "message", message })), ...live];
    renderMessages();
  } catch (error) {
    report(error);
  }
}

function stopTyping(): void {
  if (state.typingIdle !== undefined) clearTimeout(state.typingIdle);
  state.typingIdle = undefined;
  if (!state.typingSent) return;
  state.typingSent = false;
  const roomId = state.room;
  if (roomId !== undefined && client.state === "open") {
    trySend(() => client.send(outbound(TypingStop), { roomId }));
  }
}

function onInput(): void {
  const roomId = state.room;
  if (roomId === undefined) return;
  if (ui.message.value === "") {
    stopTyping();
    return;
  }
  if (!state.typingSent && trySend(() => client.send(outbound(TypingStart), { roomId }))) {
    state.typingSent = true;
  }
  if (state.typingIdle !== undefined) clearTimeout(state.typingIdle);
  state.typingIdle = setTimeout(stopTyping, TYPING_IDLE_MS);
}

function onSubmitMessage(): void {
  const roomId = state.room;
  if (roomId === undefined) return;
  const text = ui.message.value;
  stopTyping();
  if (trySend(() => client.send(outbound(SendMessage), { roomId, text }))) {
    ui.message.value = "";
  }
}

// ── server messages ──

client.on(RoomList, ({ rooms }) => {
  state.rooms = rooms;
  render();
});

client.on(AuthSuccess, (me) => {
  state.me = me;
  render();
  const wanted = state.wantedRoom;
  if (wanted !== undefined && state.room !== wanted) join(wanted);
});

client.on(UserJoined, (joined) => {
  if (joined.userId === state.me?.userId) {
    if (state.room === joined.roomId) return; // a repeated confirmation
    state.room = joined.roomId;
    state.wantedRoom = joined.roomId;
    state.typingSent = false;
    clearRoomView();
    render();
    append({ kind: "system", text: "You joined." });
    void loadHistory(joined.roomId);
  } else if (joined.roomId === state.room) {
    state.names.set(joined.userId, joined.userName);
    append({ kind: "system", text: `${joined.userName} joined.` });
  }
});

client.on(UserLeft, (left) => {
  if (left.userId === state.me?.userId) {
    if (state.room === left.roomId) state.room = undefined;
    clearRoomView();
    render();
  } else if (left.roomId === state.room) {
    const name = state.names.get(left.userId);
    setTyping(left.userId, undefined);
    append({ kind: "system", text: `${name ?? "Someone"} left.` });
  }
});

client.on(ChatMessage, (message) => {
  if (message.roomId !== state.room) return;
  state.names.set(message.userId, message.userName);
  setTyping(message.userId, undefined);
  append({ kind: "message", message });
});

client.on(UserTyping, (event) => {
  if (event.roomId !== state.room || event.userId === state.me?.userId) return;
  setTyping(event.userId, event.typing ? event.userName : undefined);
});

client.onError((error) => {
  report(error);
  if (error instanceof RefusedError) {
    // The stored token is bad (forged, expired, or from a server with another secret):
    // forget it and carry on as a guest.
    sessionStorage.removeItem(TOKEN_KEY);
    connect();
  }
});

client.onState((connection, detail) => {
  ui.connection.textContent = describeState(connection, detail);
  ui.connection.dataset["state"] = connection;
  if (connection === "open") {
    // A new connection is a new session: the server knows nothing of the previous one.
    signIn();
  } else if (state.me !== undefined || state.room !== undefined) {
    state.me = undefined;
    state.room = undefined;
    state.typingSent = false;
    for (const { timer } of state.typing.values()) clearTimeout(timer);
    state.typing.clear();
    renderTyping();
  }
  render();
});

// ── the page's controls ──

ui.signIn.addEventListener("submit", (event) => {
  event.preventDefault();
  void signInWithPassword(ui.name.value, ui.password.value);
});

ui.rooms.addEventListener("click", (event) => {
  const target = event.target;
  const button = target instanceof Element ? target.closest("button[data-room-id]") : null;
  const roomId = button instanceof HTMLButtonElement ? button.dataset["roomId"] : undefined;
  if (roomId !== undefined) join(roomId);
});

ui.leave.addEventListener("click", () => {
  const roomId = state.room;
  if (roomId === undefined) return;
  stopTyping();
  state.wantedRoom = undefined;
  trySend(() => client.send(outbound(LeaveRoom), { roomId }));
});

ui.message.addEventListener("input", onInput);
ui.composer.addEventListener("submit", (event) => {
  event.preventDefault();
  onSubmitMessage();
});

ui.validationOff.hidden = clientValidation;
render();
connect();
