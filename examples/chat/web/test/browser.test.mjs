// @ts-check
// The chat end to end in headless Chromium: the real chat-server binary, the bundled page,
// and users in separate browser contexts.
//
// Builds nothing: run `cargo build -p chat-server` and `node examples/chat/web/build.mjs`
// first (scripts/test.sh does). Uses Debian's chromium (/usr/bin/chromium, or
// $CHROMIUM_PATH) through playwright-core, with background networking off, so no network is
// needed; each launch gets a fresh temporary profile (user-data-dir) from playwright.
// The server binary is $CHAT_SERVER_BIN, else the newest of target/{debug,release}/chat-server.
// Screenshots of every page's final state go to test-artifacts/ (chat-final.png is alice's).
//
//   node --test --test-reporter=spec examples/chat/web/test/browser.test.mjs

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..", "..", "..");
const dist = resolve(here, "..", "dist");
const artifacts = join(root, "test-artifacts");
const CHROMIUM = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
/** A bound against hangs for anything that should happen promptly; never a speed check. */
const PATIENCE_MS = 20_000;
/** Reconnecting after a restart waits for the client's backoff (at most 3 s per try here). */
const RECONNECT_PATIENCE_MS = 45_000;
/**
 * The chat server's demo users (`DEMO_USERS` in examples/chat/server/src/accounts.rs).
 * @type {Record<string, string>}
 */
const PASSWORDS = { alice: "wonderland", bob: "builder", carol: "singer", dave: "diver" };

// ── the server process ──

function serverBinary() {
  const fromEnv = process.env["CHAT_SERVER_BIN"];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  const target = process.env["CARGO_TARGET_DIR"] ?? join(root, "target");
  const builds = ["debug", "release"]
    .map((profile) => join(target, profile, "chat-server"))
    .filter((path) => existsSync(path))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  const newest = builds[0];
  if (newest === undefined) {
    throw new Error(`no chat-server binary under ${target}; run \`cargo build -p chat-server\` first`);
  }
  return newest;
}

/** @typedef {{ child: import("node:child_process").ChildProcess, url: string, port: number, output: string[] }} RunningServer */

/**
 * Starts chat-server on 127.0.0.1:`port` (0: any free port) and resolves once it prints its
 * URL; rejects with its output if it exits first.
 * @param {number} port
 * @returns {Promise<RunningServer>}
 */
function startServer(port) {
  // A fixed secret, as in production: tokens stay valid across the restart test's restart.
  const args = ["--host", "127.0.0.1", "--port", String(port), "--static-dir", dist, "--token-secret", "browser-test"];
  const child = spawn(serverBinary(), args, {
    stdio: ["ignore", "pipe", "pipe"],
  });
  /** @type {string[]} */
  const output = [];
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => fail(new Error("chat-server did not report listening in time")), PATIENCE_MS);
    /** @param {Error} error */
    function fail(error) {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`${error.message}\n--- chat-server output ---\n${output.join("")}`));
    }
    child.on("error", fail);
    child.on("exit", (code, signal) => fail(new Error(`chat-server exited (${code ?? signal}) before listening`)));
    child.stderr?.on("data", (chunk) => output.push(String(chunk)));
    child.stdout?.on("data", (chunk) => {
      output.push(String(chunk));
      const match = /listening on (http:\/\/127\.0\.0\.1:(\d+)\/)/.exec(output.join(""));
      if (match?.[1] !== undefined && match[2] !== undefined) {
        clearTimeout(timer);
        child.removeAllListeners("exit");
        resolvePromise({ child, url: match[1], port: Number(match[2]), output });
      }
    });
  });
}

/**
 * Kills the server the way a crash would (no close frames) and waits until it is gone.
 * @param {RunningServer} server
 */
async function killServer(server) {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  const exited = new Promise((resolveExit) => server.child.once("exit", resolveExit));
  server.child.kill("SIGKILL");
  await exited;
}

// ── pages ──

/**
 * One user in their own browser context, with a log of the WebSocket frames its page sent.
 * @typedef {{ name: string, page: import("playwright-core").Page, sent: string[], pageErrors: string[] }} User
 */

/** @type {import("playwright-core").Browser | undefined} */
let browser;
/** @type {RunningServer | undefined} */
let server;
/** @type {User[]} */
const users = [];

/**
 * Opens the page for `name` (with `query` appended to the URL) and signs in.
 * @param {string} name
 * @param {string} [query]
 * @returns {Promise<User>}
 */
async function openUser(name, query = "") {
  assert.ok(browser !== undefined && server !== undefined);
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  context.setDefaultTimeout(PATIENCE_MS);
  const page = await context.newPage();
  /** @type {User} */
  const user = { name, page, sent: [], pageErrors: [] };
  page.on("pageerror", (error) => user.pageErrors.push(String(error)));
  page.on("websocket", (socket) => {
    socket.on("framesent", ({ payload }) => user.sent.push(String(payload)));
  });
  users.push(user);
  await page.goto(server.url + query);
  await page.locator("#connection[data-state=open]").waitFor();
  await page.fill("#name", name);
  await page.fill("#password", PASSWORDS[name] ?? "");
  await page.click("#sign-in button[type=submit]");
  await page.locator("#identity", { hasText: `Signed in as ${name}` }).waitFor();
  return user;
}

/**
 * @param {User} user
 * @param {string} roomId
 */
async function joinRoom(user, roomId) {
  await user.page.click(`#rooms button[data-room-id="${roomId}"]`);
  await user.page.locator(`#room-title[data-room-id="${roomId}"]`).waitFor();
  await user.page.locator("#message:enabled").waitFor();
}

/**
 * Types `text` into the composer (firing `input`, as typing does) and submits it.
 * @param {User} user
 * @param {string} text
 */
async function post(user, text) {
  await user.page.fill("#message", text);
  await user.page.press("#message", "Enter");
}

/**
 * The message item with exactly this text, once it is shown.
 * @param {User} user
 * @param {string} text
 */
async function seeMessage(user, text) {
  const item = user.page.locator("#messages li.message").filter({
    has: user.page.locator("span.text").getByText(text, { exact: true }),
  });
  await item.waitFor();
  return item;
}

/** @param {User} user */
async function messageIds(user) {
  return user.page.locator("#messages li.message").evaluateAll((items) => items.map((item) => item.getAttribute("data-id")));
}

/**
 * The SEND_MESSAGE frames a page sent, as parsed payloads.
 * @param {User} user
 * @returns {{ roomId: string, text: string }[]}
 */
function sentMessages(user) {
  return user.sent
    .map((text) => JSON.parse(text))
    .filter((frame) => frame.type === "SEND_MESSAGE")
    .map((frame) => frame.payload);
}

/**
 * Waits until the page has sent a SEND_MESSAGE with `text` (frames are reported in order,
 * so every earlier frame is in the log too).
 * @param {User} user
 * @param {string} text
 */
async function waitUntilSent(user, text) {
  const deadline = Date.now() + PATIENCE_MS;
  while (!sentMessages(user).some((m) => m.text === text)) {
    if (Date.now() > deadline) throw new Error(`${user.name} never sent ${JSON.stringify(text)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ── the run ──

before(async () => {
  assert.ok(existsSync(join(dist, "index.html")), `${dist} is not built; run \`node examples/chat/web/build.mjs\``);
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing; install Debian's chromium package (apt-get install -y chromium)`);
  server = await startServer(0);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
});

after(async () => {
  mkdirSync(artifacts, { recursive: true });
  // Best effort for the other pages, for debugging a failure; the final state is its own test.
  for (const user of users) {
    if (user === alice) continue;
    await user.page.screenshot({ path: join(artifacts, `chat-${user.name}.png`), fullPage: true }).catch(() => {});
  }
  await browser?.close().catch(() => {});
  if (server !== undefined) await killServer(server);
});

// Belt and braces: never leave a server behind, even if the hooks could not run.
process.on("exit", () => {
  if (server !== undefined && server.child.exitCode === null) server.child.kill("SIGKILL");
});

/** @type {User} */ let alice;
/** @type {User} */ let bob;

test("two users in one room: the other sees the typing indicator and the message, as text", async () => {
  alice = await openUser("alice");
  bob = await openUser("bob");
  await joinRoom(alice, "general");
  await joinRoom(bob, "general");
  await alice.page.locator("#messages li.system", { hasText: "bob joined." }).waitFor();

  await alice.page.fill("#message", "hel");
  await bob.page.locator("#typing", { hasText: "alice is typing…" }).waitFor();

  const text = `hello <img src=x onerror="document.body.dataset.pwned='yes'"> & <b>bold</b>`;
  await alice.page.fill("#message", text);
  await alice.page.press("#message", "Enter");
  const seen = await seeMessage(bob, text);
  assert.equal(await seen.locator(".author").textContent(), "alice");
  await seeMessage(alice, text);
  // Sending stops the indicator.
  await bob.page.locator("#typing").filter({ hasText: /^$/ }).waitFor();
  // Rendered as text: no element was created from the message, no handler ran.
  assert.equal(await bob.page.locator("#messages img, #messages b").count(), 0);
  assert.equal(await bob.page.evaluate(() => document.body.dataset["pwned"]), undefined);
  assert.equal(await alice.page.locator("#messages li.message").count(), 1);
});

test("a 1,001-character message is refused: by the server without client checks, before sending with them", async () => {
  const long = "x".repeat(1001);

  const carol = await openUser("carol", "?clientValidation=off");
  assert.equal(await carol.page.locator("#validation-off").isVisible(), true);
  await joinRoom(carol, "general");
  await post(carol, long);
  const serverError = carol.page.locator('#errors > li[data-source="server"][data-code="INVALID_ARGUMENT"]');
  const serverIssue = serverError.locator('li.issue[data-path="/text"]');
  await serverIssue.waitFor();
  assert.match((await serverIssue.textContent()) ?? "", /\/text/);
  const serverIssueCode = await serverIssue.getAttribute("data-issue-code");
  assert.equal(serverIssueCode, "too_long");
  assert.ok(sentMessages(carol).some((m) => m.text === long), "carol's page sent the long message");

  await post(alice, long);
  const clientIssue = alice.page.locator(
    '#errors > li[data-source="client"][data-code="INVALID_ARGUMENT"] li.issue[data-path="/text"]',
  );
  await clientIssue.waitFor();
  assert.equal(await clientIssue.getAttribute("data-issue-code"), serverIssueCode);
  // The refused text stays in the composer to be shortened.
  assert.equal(await alice.page.inputValue("#message"), long);

  // A later message is sent and logged after anything alice sent before, so the long one
  // would be in the log if it had been sent.
  await post(alice, "short enough");
  await waitUntilSent(alice, "short enough");
  await seeMessage(bob, "short enough");
  assert.ok(!sentMessages(alice).some((m) => m.text === long), "alice's page sent the invalid message");
  // Exactly at the limit is fine.
  await post(alice, "y".repeat(1000));
  await seeMessage(bob, "y".repeat(1000));
});

test("a refused sign-in: a wrong password is refused by the sign-in endpoint, a forged token at the upgrade (4401)", async () => {
  assert.ok(browser !== undefined && server !== undefined);
  const context = await browser.newContext();
  context.setDefaultTimeout(PATIENCE_MS);
  const page = await context.newPage();
  /** @type {string[]} */
  const pageErrors = [];
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  await page.goto(server.url);
  await page.locator("#connection[data-state=open]").waitFor();
  await page.fill("#name", "alice");
  await page.fill("#password", "not her password");
  await page.click("#sign-in button[type=submit]");
  await page.locator('#errors > li[data-source="server"][data-code="UNAUTHENTICATED"]', { hasText: "wrong password" }).waitFor();
  assert.match((await page.locator("#identity").textContent()) ?? "", /^Not signed in/);

  // A token the server did not sign: the upgrade is accepted, then closed with 4401, which
  // the browser sees (an HTTP 401 would show only as 1006). The page drops the token and
  // carries on as a guest instead of retrying it forever.
  await page.evaluate(() => sessionStorage.setItem("chat.token", "v1.616c696365.99999999999.00"));
  await page.reload();
  await page.locator('#errors > li[data-source="server"][data-code="UNAUTHENTICATED"]', { hasText: "invalid token" }).waitFor();
  await page.locator("#connection[data-state=open]").waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem("chat.token")), null);
  assert.match((await page.locator("#identity").textContent()) ?? "", /^Not signed in/);
  assert.deepEqual(pageErrors, []);
  await context.close();
});

test("a late joiner gets the room's history, in order", async () => {
  const dave = await openUser("dave");
  await joinRoom(dave, "general");
  await seeMessage(dave, "short enough");
  assert.deepEqual(await messageIds(dave), await messageIds(bob));
  assert.equal((await messageIds(dave)).length, 3);
});

test("after the server is killed and restarted, pages show reconnecting, then chat again", async () => {
  assert.ok(server !== undefined);
  const port = server.port;
  await killServer(server);
  await alice.page.locator("#connection[data-state=reconnecting]").waitFor();
  await bob.page.locator("#connection[data-state=reconnecting]").waitFor();
  assert.match((await bob.page.locator("#connection").textContent()) ?? "", /reconnecting/);
  assert.equal(await alice.page.locator("#message").isDisabled(), true, "the composer is off while offline");

  server = await startServer(port);
  for (const user of [alice, bob]) {
    await user.page.locator("#connection[data-state=open]").waitFor({ timeout: RECONNECT_PATIENCE_MS });
    // The page signs in and rejoins its room on the new connection by itself.
    await user.page.locator("#identity", { hasText: `Signed in as ${user.name}` }).waitFor();
    await user.page.locator('#room-title[data-room-id="general"]').waitFor();
    await user.page.locator("#message:enabled").waitFor();
  }
  await post(alice, "back after the restart");
  await seeMessage(bob, "back after the restart");
  await post(bob, "welcome back");
  await seeMessage(alice, "welcome back");

  for (const user of users) assert.deepEqual(user.pageErrors, [], `uncaught errors in ${user.name}'s page`);
});

test("the final state is saved as a screenshot (test-artifacts/chat-final.png)", async () => {
  mkdirSync(artifacts, { recursive: true });
  const file = join(artifacts, "chat-final.png");
  rmSync(file, { force: true });
  await alice.page.screenshot({ path: file, fullPage: true });
  assert.ok(statSync(file).size > 0, `${file} is empty`);
});
