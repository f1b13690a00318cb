/**
 * A cross-process lock on a file (flock on Unix, LockFileEx on Windows), so two processes pulling into one cache
 * never write the same partial file. The operating system drops the lock when its holder exits or crashes, so a
 * killed pull never leaves a stale lock behind. The lock file itself is empty and never removed (removing it would
 * let a waiter lock an unlinked file while a newcomer locks a fresh one).
 *
 * @module
 */

/** Runs `fn` while holding an exclusive lock on `path` (created if absent); waits while another holder has it. */
export async function withFileLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const file = await Deno.open(path, { read: true, write: true, create: true });
  try {
    await file.lock(true);
    return await fn();
  } finally {
    file.close(); // closing releases the lock
  }
}
