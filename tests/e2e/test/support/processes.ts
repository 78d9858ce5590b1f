// The servers under test run as child processes: the Rust e2e server (built by run.sh) and
// the WS-Kit server on Bun. Each test file starts what it needs and stops it in an `after`
// hook; an exit hook kills whatever a crashed test left running.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { within } from "./wait.js";

const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** A server process that printed its URL. */
export interface ServerProcess {
  /** `ws://127.0.0.1:<port>/` */
  readonly url: string;
  readonly port: number;
  /** Everything it printed so far (stdout and stderr), for failure messages. */
  output(): string;
  /** Stops it gracefully (SIGTERM; SIGKILL if it does not exit within the wait). */
  stop(): Promise<void>;
  /** Kills it at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") {
    throw new Error(`${name} is not set: run the e2e tests with tests/e2e/run.sh`);
  }
  return value;
}

/**
 * Starts `command` and resolves once a stdout line matches `ready`, whose first group is the
 * server's URL. Rejects (with the process's output) if it exits first or does not get ready.
 */
export async function startServer(what: string, command: string, args: readonly string[], ready: RegExp): Promise<ServerProcess> {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  let log = "";
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => {
      running.delete(child);
      resolve();
    });
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    log += chunk;
  });
  const lines = createInterface({ input: child.stdout });
  const started = new Promise<string>((resolve, reject) => {
    lines.on("line", (line) => {
      log += `${line}\n`;
      const url = ready.exec(line)?.[1];
      if (url !== undefined) resolve(url);
    });
    child.once("error", (error) => reject(new Error(`${what} could not be started: ${error.message}`)));
    // `close`, not `exit`: by then its output has been read, so the message includes it.
    child.once("close", (code, signal) => reject(new Error(`${what} exited (${code ?? signal}) before it was ready:\n${log}`)));
  });
  let url: string;
  try {
    url = await within(started, `${what} to print its URL`);
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  const stopWith = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    try {
      await within(exited, `${what} to exit on ${signal}`);
    } catch {
      child.kill("SIGKILL");
      await within(exited, `${what} to exit on SIGKILL`);
    }
  };
  return {
    url,
    port: Number(new URL(url).port),
    output: () => log,
    stop: () => stopWith("SIGTERM"),
    kill: () => stopWith("SIGKILL"),
  };
}

/** Options of the Rust e2e server (`tests/e2e/server`). */
export interface RustServerOptions {
  /** Listen on this port (a restart reuses its predecessor's); default a free one. */
  readonly port?: number;
  /** Write progress values under `data` too, for WS-Kit's own client (the server's default: on). */
  readonly progressDataField?: boolean;
}

/** Starts the Rust e2e server (binary from `TWINWIRE_E2E_SERVER`, set by run.sh). */
export function startRustServer(options: RustServerOptions = {}): Promise<ServerProcess> {
  const args = ["--port", String(options.port ?? 0)];
  if (options.progressDataField === false) args.push("--no-progress-data-field");
  return startServer("twinwire-e2e-server", requiredEnv("TWINWIRE_E2E_SERVER"), args, /listening on (ws:\/\/\S+)/);
}

/** Starts the WS-Kit chat server on Bun (`tests/e2e/wskit`, from `TWINWIRE_E2E_WSKIT`). */
export function startWskitServer(): Promise<ServerProcess> {
  const dir = requiredEnv("TWINWIRE_E2E_WSKIT");
  const bun = join(dir, "node_modules", "bun", "bin", "bun.exe");
  return startServer("the WS-Kit server (bun)", bun, [join(dir, "server.ts")], /listening on (ws:\/\/\S+)/);
}
