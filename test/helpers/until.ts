/** Polls `condition` until it holds, failing with "timed out waiting for <what>" after `timeoutMs`. */
export async function until(condition: () => boolean, what: string, timeoutMs = 60_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
