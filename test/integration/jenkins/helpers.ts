import { type IacError, exitCodeOf } from '../../../src/errors.js';
import { JenkinsClient, type JenkinsClientOptions } from '../../../src/jenkins/client.js';
import { type BuildEvent, buildResultError, followBuild } from '../../../src/jenkins/follow.js';
import type { JobRef } from '../../../src/jenkins/paths.js';

/** Fast retries so fault tests finish quickly. */
export const FAST_RETRY = { attempts: 8, baseDelayMs: 20, maxDelayMs: 400 };

export function clientFor(url: string, extra: Partial<JenkinsClientOptions> = {}): JenkinsClient {
  return new JenkinsClient({ baseUrl: url, retry: FAST_RETRY, requestTimeoutMs: 5000, ...extra });
}

export interface RunOutcome {
  events: BuildEvent[];
  /** Everything the consoleSink received, in order. */
  sink: string;
  /** The concatenated text of `log` events. */
  logText: string;
  exitCode: number;
  error: IacError | undefined;
}

/** Triggers `job` and follows it like `iac up` does, mapping the result to an exit code. */
export async function triggerAndFollow(
  client: JenkinsClient,
  job: JobRef,
  params: Record<string, string>,
  opts: { expectedSha?: string; pollIntervalMs?: number } = {},
): Promise<RunOutcome> {
  const { queueId } = await client.trigger(job, params);
  const events: BuildEvent[] = [];
  let sink = '';
  let logText = '';
  for await (const event of followBuild(client, {
    jobPath: job,
    queueId,
    pollIntervalMs: opts.pollIntervalMs ?? 25,
    ...(opts.expectedSha ? { expectedSha: opts.expectedSha } : {}),
    consoleSink: (chunk) => {
      sink += chunk;
    },
  })) {
    events.push(event);
    if (event.type === 'log') logText += event.text;
  }
  const finished = events.at(-1);
  if (finished?.type !== 'finished') throw new Error('followBuild ended without a finished event');
  const error = buildResultError(finished.result, { job, ...(finished.number === undefined ? {} : { number: finished.number }) });
  return { events, sink, logText, error, exitCode: error ? exitCodeOf(error) : 0 };
}

/** Runs `fn` and returns what it threw (fails the test when it does not throw). */
export async function thrown(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}
