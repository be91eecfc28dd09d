/**
 * Follows a triggered build from its queue item to its result (protocols/jenkins.md §3.3, §4, §5),
 * as a stream of typed events. Never prints; the pipeline layer renders the events.
 *
 * Every wait has an end: the queue wait has a deadline (the item is cancelled when it passes), a
 * build that does not appear is given up on, and once the build has ended the console is read
 * until Jenkins says it is complete or no byte came for a grace period. Polls follow Jenkins'
 * hints (PollSchedule). Retrying failed requests is the transport's job, not this loop's.
 */
import { BuildError, BuildRevisionError, UnreachableError, throwIfAborted } from '../errors.js';
import type { JenkinsClient } from './client.js';
import { ConsoleReader, LineBuffer } from './console-reader.js';
import { type BuildResult, type QueueState, pickRevision, queueWaitHintMs } from './model.js';
import { type JobRef, describeJob } from './paths.js';
import { PollSchedule } from './poll-schedule.js';
import { sleep } from './transport.js';
import { remoteLine } from '../util/terminal-text.js';

export type FinishedResult = BuildResult | 'CANCELLED';

export type BuildEvent =
  | { type: 'queued'; why: string | null; state: QueueState }
  | { type: 'started'; number: number; url: string }
  | { type: 'log'; text: string }
  | { type: 'revision'; sha: string; matches: boolean | undefined }
  | {
      type: 'finished';
      result: FinishedResult;
      number?: number;
      url?: string;
      durationMs?: number;
      /** False when the console was given up on: Jenkins kept announcing more data after the build ended. */
      consoleComplete?: boolean;
    };

export interface FollowOptions {
  jobPath: JobRef;
  /** The queue item a trigger returned; ignored when `build` is given. */
  queueId: number;
  /** Follow a build that already started (a resumed run whose build is still going) instead of a queue item. */
  build?: { number: number; url: string };
  signal?: AbortSignal;
  /** The longest wait between two polls of the queue item or the build; default 1 s (the console is read at least every 0.5 s). */
  pollIntervalMs?: number;
  /** The SHA that was pushed; the `revision` event says whether the build reports the same one. */
  expectedSha?: string;
  /** Receives every console byte exactly once, in order (decoded; CRLF as served comes back as LF). */
  consoleSink?: (chunk: string) => void | Promise<void>;
  /** How long a queue item may be unknown (404) before it was ever seen; default 30 s. */
  queueNotFoundGraceMs?: number;
  /** How long the item may wait in the queue before iac gives up (and cancels it); default 30 min. */
  queueTimeoutMs?: number;
  /** After the build ended, how long to wait for more console bytes while Jenkins still says "more data"; default 15 s. */
  consoleGraceMs?: number;
  /** Local clock, for tests. */
  now?: () => number;
}

export const DEFAULT_POLL_MS = 1000;
export const DEFAULT_QUEUE_TIMEOUT_MS = 30 * 60_000;
export const DEFAULT_CONSOLE_GRACE_MS = 15_000;
/** The longest wait between console reads while a build runs (DESIGN: a line shows within 1 s). */
const CONSOLE_REFRESH_MS = 500;
/** A build that the queue says started may take a moment to be visible (transient 404). */
const BUILD_APPEAR_TIMEOUT_MS = 60_000;
/** While Jenkins says the build is still in post-production, its log may legitimately keep growing; this long at most. */
const POST_PRODUCTION_LIMIT_MS = 10 * 60_000;

export function shaMatches(reported: string, expected: string): boolean {
  const a = reported.toLowerCase();
  const b = expected.toLowerCase();
  if (a.length >= 40 && b.length >= 40) return a === b;
  return Math.min(a.length, b.length) >= 7 && (a.startsWith(b) || b.startsWith(a));
}

function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 1000)}s`;
}

async function* waitForStart(client: JenkinsClient, opts: FollowOptions): AsyncGenerator<BuildEvent, { number: number; url: string } | 'CANCELLED'> {
  const { jobPath, queueId, signal } = opts;
  const now = opts.now ?? Date.now;
  const schedule = new PollSchedule(opts.pollIntervalMs ?? DEFAULT_POLL_MS);
  const firstPoll = now();
  const timeoutMs = opts.queueTimeoutMs ?? DEFAULT_QUEUE_TIMEOUT_MS;
  let seen = false;
  let lastQueued = '';
  let lastWhy: string | null = null;
  for (;;) {
    throwIfAborted(signal);
    const item = await client.getQueueItem(queueId, signal);
    let expectedAt: number | undefined;
    if (item === undefined) {
      // The queue forgets items 5 minutes after they left; the build remembers its queueId.
      const found = await client.findBuildByQueueId(jobPath, queueId, signal);
      if (found) return found;
      if (seen || now() - firstPoll > (opts.queueNotFoundGraceMs ?? 30_000)) {
        throw new UnreachableError('jenkins.queue-lost', `Jenkins queue item ${queueId} of ${describeJob(jobPath)} is gone and no build has that queue id`, {
          hint: `open ${client.jobUrl(jobPath)} to see whether the build ran`,
        });
      }
    } else if (item.left) {
      seen = true;
      if (item.cancelled) return 'CANCELLED';
      // `executable: null` without `cancelled` is transient (the executor has not created the run yet).
      if (item.executable) return { number: item.executable.number, url: client.buildUrl(jobPath, item.executable.number) };
    } else {
      seen = true;
      lastWhy = item.why;
      const key = `${item.state}\u0000${item.why ?? ''}`;
      if (key !== lastQueued) {
        lastQueued = key;
        yield { type: 'queued', why: item.why, state: item.state };
      }
      const hint = queueWaitHintMs(item.why);
      if (hint !== undefined) expectedAt = now() + hint;
    }
    if (now() - firstPoll >= timeoutMs) {
      // Cancel it so it cannot start unobserved later; if it just left the queue, follow it after all.
      const cancelled = await client.cancelQueueItem(queueId, signal).catch(() => undefined);
      if (cancelled === false) {
        const again = await client.getQueueItem(queueId, signal);
        if (again?.left && again.executable) return { number: again.executable.number, url: client.buildUrl(jobPath, again.executable.number) };
      }
      const reason = lastWhy ? ` (Jenkins says: ${remoteLine(lastWhy, 160)})` : '';
      throw new UnreachableError(
        'jenkins.queue-timeout',
        `the build of ${describeJob(jobPath)} did not leave the Jenkins queue within ${formatDuration(timeoutMs)}${reason}; ${
          cancelled === true ? 'iac cancelled queue item' : 'iac could not cancel queue item'
        } ${queueId}`,
        { hint: `check the executors and labels at ${client.baseUrl}computer/, or raise jenkins.queueTimeout in iac.yaml` },
      );
    }
    await sleep(schedule.next(now(), expectedAt), signal);
  }
}

/**
 * queued* → started → (log | revision)* → finished. Cancelled in the queue: finished{CANCELLED}
 * without started. Ends when the build's `building` is false and the console is complete (or has
 * stayed silent for the grace period although Jenkins still announces more).
 */
export async function* followBuild(client: JenkinsClient, opts: FollowOptions): AsyncGenerator<BuildEvent> {
  const { jobPath, signal, expectedSha, consoleSink } = opts;
  const now = opts.now ?? Date.now;
  const graceMs = opts.consoleGraceMs ?? DEFAULT_CONSOLE_GRACE_MS;

  const outcome = opts.build ?? (yield* waitForStart(client, opts));
  if (outcome === 'CANCELLED') {
    yield { type: 'finished', result: 'CANCELLED' };
    return;
  }
  const { number, url } = outcome;
  yield { type: 'started', number, url };

  // While the build runs the console is read at every poll; a line should show within a second.
  const schedule = new PollSchedule(Math.min(opts.pollIntervalMs ?? DEFAULT_POLL_MS, CONSOLE_REFRESH_MS));
  const reader = new ConsoleReader(client, url);
  const lines = new LineBuffer();
  let revisionReported = false;
  const appearDeadline = now() + BUILD_APPEAR_TIMEOUT_MS;
  let endedAt: number | undefined;
  let lastByteAt = now();
  for (;;) {
    throwIfAborted(signal);
    const status = await client.getBuild(jobPath, number, signal);
    if (status === undefined) {
      if (now() > appearDeadline) {
        throw new UnreachableError('jenkins.build-lost', `Jenkins build ${describeJob(jobPath)} #${number} does not exist`, {
          hint: `open ${client.jobUrl(jobPath)} to see what happened to it`,
        });
      }
      await sleep(schedule.next(now()), signal);
      continue;
    }
    const finished = !status.building;
    if (finished) endedAt ??= now();
    if (!revisionReported) {
      const revision = pickRevision(status.revisions, expectedSha);
      const matches = revision && expectedSha ? shaMatches(revision.sha, expectedSha) : undefined;
      // A mismatch may be a shared library checked out first; judge it only once the build is done.
      if (revision && (matches !== false || finished)) {
        revisionReported = true;
        yield { type: 'revision', sha: revision.sha, matches };
      }
    }
    // One console read per poll: everything from the last byte to the current end of the log.
    for await (const text of reader.read(signal)) {
      lastByteAt = now();
      await consoleSink?.(text);
      const complete = lines.push(text);
      if (complete !== undefined) yield { type: 'log', text: complete };
    }
    if (finished) {
      const stillWriting = reader.moreData && status.inProgress === true && now() - (endedAt ?? now()) < POST_PRODUCTION_LIMIT_MS;
      const silent = now() - lastByteAt >= graceMs;
      if (!reader.moreData || (silent && !stillWriting)) {
        const rest = lines.flush();
        if (rest !== undefined) yield { type: 'log', text: rest };
        yield {
          type: 'finished',
          result: status.result ?? 'NOT_BUILT',
          number,
          url,
          durationMs: status.durationMs,
          consoleComplete: !reader.moreData,
        };
        return;
      }
    }
    const expectedEnd =
      !finished && status.timestamp !== undefined && status.estimatedDurationMs !== undefined ? status.timestamp + status.estimatedDurationMs : undefined;
    await sleep(schedule.next(now(), expectedEnd), signal);
  }
}

export interface BuildErrorContext {
  job: JobRef;
  number?: number;
  url?: string;
  /** The last console lines, shown under the message. */
  consoleTail?: string[];
}

/** The BuildError for a non-SUCCESS result (FAILURE 20, UNSTABLE 21, ABORTED/NOT_BUILT/CANCELLED 22). */
export function buildResultError(result: FinishedResult, ctx: BuildErrorContext): BuildError | undefined {
  if (result === 'SUCCESS') return undefined;
  const name = `${describeJob(ctx.job)}${ctx.number === undefined ? '' : ` #${ctx.number}`}`;
  const where = ctx.url ?? '';
  const messages: Record<Exclude<FinishedResult, 'SUCCESS'>, string> = {
    FAILURE: `Jenkins build ${name} failed`,
    UNSTABLE: `Jenkins build ${name} is unstable`,
    ABORTED: `Jenkins build ${name} was aborted`,
    NOT_BUILT: `Jenkins build ${name} was not built`,
    CANCELLED: `Jenkins build of ${name} was cancelled in the queue`,
  };
  const hint =
    result === 'CANCELLED'
      ? `open ${where || 'the job page'} to see who cancelled it, then run the command again`
      : `open ${where ? `${where}console` : 'the build console'} for the full log`;
  return new BuildError(result, messages[result], { hint, details: ctx.consoleTail ?? [] });
}

/** The build reported a revision other than the run's commit (exit 23): it did not build what was pushed. */
export function buildRevisionError(reported: string, expected: string, result: FinishedResult, ctx: BuildErrorContext): BuildRevisionError {
  const name = `${describeJob(ctx.job)}${ctx.number === undefined ? '' : ` #${ctx.number}`}`;
  const outcome = result === 'SUCCESS' ? '' : ` (${result})`;
  return new BuildRevisionError(
    `Jenkins build ${name}${outcome} built commit ${reported}, not the pushed ${expected}${ctx.url ? `: ${ctx.url}` : ''}`,
    {
      hint: `check which revision the job checks out (it should build the GIT_SHA parameter, or the pushed branch): ${ctx.url ? `${ctx.url}console` : 'see the build console'}`,
      details: ctx.consoleTail ?? [],
    },
  );
}
