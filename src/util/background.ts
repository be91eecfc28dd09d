/**
 * Work a command left running on purpose (a finished playbook's process exiting, its log being closed,
 * its private directory removed) that must still complete before iac exits.
 */
const pending = new Set<Promise<unknown>>();

export function finishInBackground(work: Promise<unknown>): void {
  const tracked = work.catch(() => undefined).finally(() => pending.delete(tracked));
  pending.add(tracked);
}

/** Waits for background work, at most `deadlineMs` (a wedged child must not keep iac alive). */
export async function settleBackground(deadlineMs: number): Promise<void> {
  if (pending.size === 0) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all([...pending]),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, deadlineMs);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
}
