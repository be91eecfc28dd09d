/**
 * When to look again. Polling at a fixed interval from the end of the previous request notices a
 * change up to a whole interval late; Jenkins tells us when to expect one (a queue item's "Expires
 * in 4.6 sec" / "ETA: 15 sec", a build's `timestamp + estimatedDuration`). So: short first polls
 * that back off, a poll right at the expected moment followed by short polls again, and never a
 * wait longer than the configured interval (which also bounds how late a console line shows).
 */

/** The first poll after a change of phase, and after an expected moment passed. */
export const FIRST_POLL_MS = 100;
/** Poll this long after the expected moment: Jenkins' own clock and bookkeeping lag a little. */
const HINT_MARGIN_MS = 30;
const MIN_WAIT_MS = 10;

export class PollSchedule {
  private step: number;

  constructor(
    private readonly maxMs: number,
    private readonly firstMs = Math.min(FIRST_POLL_MS, maxMs),
  ) {
    this.step = this.firstMs;
  }

  /** Start over with short polls (a new phase: the build started). */
  reset(): void {
    this.step = this.firstMs;
  }

  /**
   * Milliseconds to wait before the next poll, at local time `now`, given the moment (local epoch ms)
   * Jenkins expects the next change, if it said.
   */
  next(now: number, expectedAt?: number): number {
    if (expectedAt !== undefined && expectedAt + HINT_MARGIN_MS > now) {
      // Before the expected moment: sleep until it (bounded), then start short polls afresh.
      this.step = this.firstMs;
      return clamp(expectedAt + HINT_MARGIN_MS - now, MIN_WAIT_MS, this.maxMs);
    }
    const wait = this.step;
    this.step = Math.min(this.maxMs, this.step * 2);
    return Math.min(wait, this.maxMs);
  }
}

function clamp(value: number, min: number, max: number): number {
  return Math.max(min, Math.min(max, value));
}
