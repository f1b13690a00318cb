/**
 * A cross-process lock on a file (flock on Unix, LockFileEx on Windows), so two processes pulling into one cache
 * never write the same partial file. The operating system drops the lock when its holder exits or crashes, so a
 * killed pull never leaves a stale lock behind. The lock file itself is empty and never removed (removing it would
 * let a waiter lock an unlinked file while a newcomer locks a fresh one).
 *
 * @module
 */

/**
 * Runs `fn` while holding an exclusive lock on `path` (created if absent); waits while another holder has it,
 * calling `onWait` once if the lock is not free within 200 ms.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, onWait?: () => void): Promise<T> {
  const file = await Deno.open(path, { read: true, write: true, create: true });
  try {
    const locked = file.lock(true);
    if (onWait) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const slow = new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(true), 200));
      if (await Promise.race([locked.then(() => false), slow])) onWait();
      clearTimeout(timer);
    }
    await locked;
    return await fn();
  } finally {
    file.close(); // closing releases the lock
  }
}
