/**
 * Follows a triggered build from its queue item to its result (protocols/jenkins.md §3.3, §4, §5),
 * as a stream of typed events. Never prints; the pipeline layer renders the events.
 */
import { BuildError, UnreachableError, throwIfAborted } from '../errors.js';
import type { JenkinsClient } from './client.js';
import { ConsoleReader, LineBuffer } from './console-reader.js';
import { type BuildResult, type QueueState, pickRevision } from './model.js';
import { type JobRef, describeJob } from './paths.js';
import { sleep } from './transport.js';

export type FinishedResult = BuildResult | 'CANCELLED';

export type BuildEvent =
  | { type: 'queued'; why: string | null; state: QueueState }
  | { type: 'started'; number: number; url: string }
  | { type: 'log'; text: string }
  | { type: 'revision'; sha: string; matches: boolean | undefined }
  | { type: 'finished'; result: FinishedResult; number?: number; url?: string; durationMs?: number };

export interface FollowOptions {
  jobPath: JobRef;
  queueId: number;
  signal?: AbortSignal;
  /** Queue and build status poll interval; default 1 s. The console is read once per poll. */
  pollIntervalMs?: number;
  /** The SHA that was pushed; the `revision` event says whether the build reports the same one. */
  expectedSha?: string;
  /** Receives every console byte exactly once, in order (decoded; CRLF as served comes back as LF). */
  consoleSink?: (chunk: string) => void | Promise<void>;
  /** How long a queue item may be unknown (404) before it was ever seen; default 30 s. */
  queueNotFoundGraceMs?: number;
  /**
   * How long polling rides out Jenkins being down (5xx, refused or dropped connections: a restart)
   * beyond the client's per-request retries; default 2 min. Polling is idempotent, so waiting is safe.
   */
  outageToleranceMs?: number;
}

/** Error codes that mean "Jenkins is not answering right now", as opposed to "Jenkins said no". */
const OUTAGE_CODES = new Set(['jenkins.unreachable', 'jenkins.unavailable']);

/** Retries `fn` while Jenkins is out, for up to `outageToleranceMs` of continuous outage. */
class OutageGuard {
  private since: number | undefined;

  constructor(private readonly opts: FollowOptions) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        const value = await fn();
        this.since = undefined;
        return value;
      } catch (error) {
        await this.absorb(error);
      }
    }
  }

  /** Returns (after a pause) when the error is a tolerable outage, else rethrows it. */
  async absorb(error: unknown): Promise<void> {
    if (!(error instanceof UnreachableError) || !OUTAGE_CODES.has(error.code)) throw error;
    this.since ??= Date.now();
    if (Date.now() - this.since > (this.opts.outageToleranceMs ?? 120_000)) throw error;
    await sleep(this.opts.pollIntervalMs ?? DEFAULT_POLL_MS, this.opts.signal);
  }

  recovered(): void {
    this.since = undefined;
  }
}

const DEFAULT_POLL_MS = 1000;
/** A build that the queue says started may take a moment to be visible (transient 404). */
const BUILD_APPEAR_TIMEOUT_MS = 60_000;

export function shaMatches(reported: string, expected: string): boolean {
  const a = reported.toLowerCase();
  const b = expected.toLowerCase();
  if (a.length >= 40 && b.length >= 40) return a === b;
  return Math.min(a.length, b.length) >= 7 && (a.startsWith(b) || b.startsWith(a));
}

async function* waitForStart(
  client: JenkinsClient,
  opts: FollowOptions,
  guard: OutageGuard,
): AsyncGenerator<BuildEvent, { number: number; url: string } | 'CANCELLED'> {
  const { jobPath, queueId, signal } = opts;
  const interval = opts.pollIntervalMs ?? DEFAULT_POLL_MS;
  const firstPoll = Date.now();
  let seen = false;
  let lastQueued = '';
  for (;;) {
    throwIfAborted(signal);
    const item = await guard.run(() => client.getQueueItem(queueId, signal));
    if (item === undefined) {
      // The queue forgets items 5 minutes after they left; the build remembers its queueId.
      const found = await guard.run(() => client.findBuildByQueueId(jobPath, queueId, signal));
      if (found) return found;
      if (seen || Date.now() - firstPoll > (opts.queueNotFoundGraceMs ?? 30_000)) {
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
      const key = `${item.state}\u0000${item.why ?? ''}`;
      if (key !== lastQueued) {
        lastQueued = key;
        yield { type: 'queued', why: item.why, state: item.state };
      }
    }
    await sleep(interval, signal);
  }
}

/**
 * queued* → started → (log | revision)* → finished. Cancelled in the queue: finished{CANCELLED}
 * without started. Ends when the build's `building` is false and the console has no more data.
 */
export async function* followBuild(client: JenkinsClient, opts: FollowOptions): AsyncGenerator<BuildEvent> {
  const { jobPath, signal, expectedSha, consoleSink } = opts;
  const interval = opts.pollIntervalMs ?? DEFAULT_POLL_MS;

  const guard = new OutageGuard(opts);
  const outcome = yield* waitForStart(client, opts, guard);
  if (outcome === 'CANCELLED') {
    yield { type: 'finished', result: 'CANCELLED' };
    return;
  }
  const { number, url } = outcome;
  yield { type: 'started', number, url };

  const reader = new ConsoleReader(client, url);
  const lines = new LineBuffer();
  let revisionReported = false;
  const appearDeadline = Date.now() + BUILD_APPEAR_TIMEOUT_MS;
  for (;;) {
    throwIfAborted(signal);
    const status = await guard.run(() => client.getBuild(jobPath, number, signal));
    if (status === undefined) {
      if (Date.now() > appearDeadline) {
        throw new UnreachableError('jenkins.build-lost', `Jenkins build ${describeJob(jobPath)} #${number} does not exist`, {
          hint: `open ${client.jobUrl(jobPath)} to see what happened to it`,
        });
      }
      await sleep(interval, signal);
      continue;
    }
    const finished = !status.building;
    if (!revisionReported) {
      const revision = pickRevision(status.revisions, expectedSha);
      const matches = revision && expectedSha ? shaMatches(revision.sha, expectedSha) : undefined;
      // A mismatch may be a shared library checked out first; judge it only once the build is done.
      if (revision && (matches !== false || finished)) {
        revisionReported = true;
        yield { type: 'revision', sha: revision.sha, matches };
      }
    }
    // While running: one console read per poll. Once finished: read until Jenkins says the log is complete.
    for (;;) {
      let received = 0;
      try {
        // A failed read keeps its offset: reading again continues after the last byte handed out.
        for await (const text of reader.read(signal)) {
          received += text.length;
          await consoleSink?.(text);
          const complete = lines.push(text);
          if (complete !== undefined) yield { type: 'log', text: complete };
        }
        guard.recovered();
      } catch (error) {
        await guard.absorb(error);
        continue;
      }
      if (!finished || !reader.moreData) break;
      if (received === 0) await sleep(interval, signal);
    }
    if (finished) {
      const rest = lines.flush();
      if (rest !== undefined) yield { type: 'log', text: rest };
      yield { type: 'finished', result: status.result ?? 'NOT_BUILT', number, url, durationMs: status.durationMs };
      return;
    }
    await sleep(interval, signal);
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
