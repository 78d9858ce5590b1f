/**
 * The page's DOM: finding its elements and rendering into them.
 *
 * Every piece of text that came from the network (names, messages, error texts) is written
 * with `textContent` or as an attribute value, never parsed as HTML.
 */

import type { ChatMessage, ConnectionState, Issue, RoomInfo, StateDetail } from "../../generated/ts/protocol.js";

/** The element with `id`, which the page must have, of the given class. */
export function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`index.html has no <${type.name}> #${id}`);
  return found;
}

/** A new element with text content and attributes. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text = "",
  attributes: Readonly<Record<string, string>> = {},
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.textContent = text;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

/** The page's elements. */
export interface Elements {
  readonly connection: HTMLElement;
  readonly validationOff: HTMLElement;
  readonly signIn: HTMLFormElement;
  readonly name: HTMLInputElement;
  readonly password: HTMLInputElement;
  readonly identity: HTMLElement;
  readonly rooms: HTMLUListElement;
  readonly leave: HTMLButtonElement;
  readonly roomTitle: HTMLElement;
  readonly messages: HTMLOListElement;
  readonly typing: HTMLElement;
  readonly composer: HTMLFormElement;
  readonly message: HTMLInputElement;
  readonly send: HTMLButtonElement;
  readonly errors: HTMLUListElement;
}

/** Finds every element the page needs; throws naming the first one missing. */
export function findElements(): Elements {
  const composer = byId("composer", HTMLFormElement);
  const send = composer.querySelector("button[type=submit]");
  if (!(send instanceof HTMLButtonElement)) throw new Error("#composer has no submit button");
  return {
    connection: byId("connection", HTMLElement),
    validationOff: byId("validation-off", HTMLElement),
    signIn: byId("sign-in", HTMLFormElement),
    name: byId("name", HTMLInputElement),
    password: byId("password", HTMLInputElement),
    identity: byId("identity", HTMLElement),
    rooms: byId("rooms", HTMLUListElement),
    leave: byId("leave", HTMLButtonElement),
    roomTitle: byId("room-title", HTMLElement),
    messages: byId("messages", HTMLOListElement),
    typing: byId("typing", HTMLElement),
    composer,
    message: byId("message", HTMLInputElement),
    send,
    errors: byId("errors", HTMLUListElement),
  };
}

/** What the connection badge says for a state. */
export function describeState(state: ConnectionState, detail: StateDetail): string {
  switch (state) {
    case "open":
      return "online";
    case "connecting":
      return "connecting…";
    case "reconnecting": {
      const wait = detail.delayMs === undefined ? "" : `, next try in ${(detail.delayMs / 1000).toFixed(1)} s`;
      return `reconnecting (attempt ${detail.attempt ?? 1}${wait})…`;
    }
    case "closing":
      return "closing…";
    case "closed":
      return "offline";
  }
}

/** The room list, with the current room marked. */
export function renderRooms(list: HTMLUListElement, rooms: readonly RoomInfo[], current: string | undefined): void {
  list.replaceChildren(
    ...rooms.map((room) => {
      const people = room.userCount === 1 ? "1 person" : `${room.userCount} people`;
      const button = el("button", `${room.name} (${people})`, {
        type: "button",
        "data-room-id": room.id,
        "aria-pressed": String(room.id === current),
      });
      const item = el("li");
      item.append(button);
      return item;
    }),
  );
}

/** One chat message as a list item. */
export function messageItem(message: ChatMessage): HTMLLIElement {
  const item = el("li", "", { class: "message", "data-id": message.id, "data-user-id": message.userId });
  const when = new Date(message.timestamp);
  item.append(
    el("time", when.toLocaleTimeString(), { datetime: when.toISOString() }),
    el("span", message.userName, { class: "author" }),
    el("span", message.text, { class: "text" }),
  );
  const attachment = message.attachment;
  if (attachment !== null && attachment !== undefined) {
    const label = attachment.name ?? attachment.url;
    // Only web links become links: a `javascript:` URL is a valid URL too.
    if (isWebUrl(attachment.url)) {
      item.append(" ", el("a", label, { href: attachment.url, rel: "noopener noreferrer", target: "_blank" }));
    } else {
      item.append(" ", el("span", label, { class: "attachment" }));
    }
  }
  return item;
}

function isWebUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === "https:" || url.protocol === "http:";
  } catch {
    return false;
  }
}

/** A line about the room (someone joined or left). */
export function systemItem(text: string): HTMLLIElement {
  return el("li", text, { class: "system" });
}

/** "alice is typing…", "alice and bob are typing…", or nothing. */
export function describeTyping(names: readonly string[]): string {
  if (names.length === 0) return "";
  if (names.length === 1) return `${names[0]} is typing…`;
  const last = names[names.length - 1];
  return `${names.slice(0, -1).join(", ")} and ${last} are typing…`;
}

/** How an error is shown: where it was caught, its code, its text and its issues. */
export interface ErrorView {
  /** `server`: the server refused; `client`: the browser refused or failed before sending. */
  readonly source: "server" | "client";
  readonly code: string;
  readonly message: string;
  readonly issues: readonly Issue[];
}

const MAX_ERRORS_SHOWN = 5;

/** Prepends an error to the list, keeping the newest few. */
export function showError(list: HTMLUListElement, error: ErrorView): void {
  const headline =
    error.source === "server" ? `The server refused: ${error.code}` : `Not sent (checked in the browser): ${error.code}`;
  const item = el("li", "", { "data-source": error.source, "data-code": error.code });
  item.append(el("strong", headline), el("span", ` — ${error.message}`));
  if (error.issues.length > 0) {
    const issues = el("ul");
    for (const issue of error.issues) {
      const line = el("li", "", { class: "issue", "data-path": issue.path, "data-issue-code": issue.code });
      line.append(el("code", issue.path === "" ? "/" : issue.path), el("span", `: ${issue.message} (${issue.code})`));
      issues.append(line);
    }
    item.append(issues);
  }
  list.prepend(item);
  while (list.children.length > MAX_ERRORS_SHOWN) list.lastElementChild?.remove();
}
