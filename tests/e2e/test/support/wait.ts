// Bounded waiting: every wait in the e2e tests ends, so a broken client or server fails a
// test with a message instead of hanging it. The bounds are generous ceilings, never
// expectations: no test asserts how long anything took.

/** The ceiling of any single wait. */
export const WAIT_MS = 10_000;

/** Resolves or rejects like `promise`, or rejects after `ms` saying what was awaited. */
export function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Rejects with `what` if `promise` resolves; resolves with the rejection reason otherwise. */
export async function rejection(promise: Promise<unknown>, what: string): Promise<unknown> {
  try {
    await within(promise, what);
  } catch (error) {
    return error;
  }
  throw new Error(`${what}: resolved, but it should have been rejected`);
}

/**
 * Everything a listener received, in order, with bounded waits for what has not arrived yet.
 * `next(match)` resolves with the first unconsumed item that matches, waiting if needed.
 */
export class Inbox<T> {
  readonly items: T[] = [];
  readonly #consumed = new Set<number>();
  readonly #waiters = new Set<() => void>();

  /** A listener to pass to `client.on(...)` and the like. */
  readonly push = (item: T): void => {
    this.items.push(item);
    for (const wake of [...this.#waiters]) wake();
  };

  /** The first item not yet taken that satisfies `match`; waits for it at most `ms`. */
  next(what: string, match: (item: T) => boolean = () => true, ms = WAIT_MS): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const look = (): boolean => {
        const index = this.items.findIndex((item, i) => !this.#consumed.has(i) && match(item));
        if (index < 0) return false;
        this.#consumed.add(index);
        this.#waiters.delete(wake);
        if (timer !== undefined) clearTimeout(timer);
        resolve(this.items[index] as T);
        return true;
      };
      const wake = (): void => void look();
      if (look()) return;
      this.#waiters.add(wake);
      // A timed-out wait stops looking, so it cannot consume an item that arrives later.
      timer = setTimeout(() => {
        this.#waiters.delete(wake);
        reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      }, ms);
    });
  }
}

/** Resolves when `listen` first reports a value satisfying `match`. */
export function once<T>(
  listen: (listener: (value: T) => void) => () => void,
  what: string,
  match: (value: T) => boolean = () => true,
): Promise<T> {
  return within(
    new Promise<T>((resolve) => {
      const off = listen((value) => {
        if (!match(value)) return;
        off();
        resolve(value);
      });
    }),
    what,
  );
}
