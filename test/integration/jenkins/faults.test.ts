import { afterEach, describe, expect, it } from 'vitest';
import { UnreachableError } from '../../../src/errors.js';
import { type JenkinsSandbox, startJenkinsSandbox } from '../../../src/sandbox/jenkins.js';
import { clientFor, thrown, triggerAndFollow } from './helpers.js';

describe('Jenkins faults: the follow completes and no console byte is lost or doubled', () => {
  let sandbox: JenkinsSandbox | undefined;
  afterEach(async () => {
    await sandbox?.close();
    sandbox = undefined;
  });

  it('survives Jenkins answering 503 for ~3 s while the item waits in the queue: one retry policy, its time budget decides', async () => {
    sandbox = await startJenkinsSandbox({
      jobs: { deploy: { parameters: ['GIT_SHA'], builds: [{ result: 'SUCCESS', queueDelayMs: 3500, durationMs: 200, consoleLines: 40 }] } },
      faults: { unavailableAfterTrigger: { afterMs: 100, durationMs: 3000 } },
    });
    // The transport is the only layer that retries: a budget that covers the outage rides it out.
    const client = clientFor(sandbox.url, { retry: { attempts: 1000, baseDelayMs: 50, maxDelayMs: 200, budgetMs: 10_000 } });
    const outcome = await triggerAndFollow(client, 'deploy', { GIT_SHA: 'a'.repeat(40) }, { pollIntervalMs: 100 });
    expect(outcome.exitCode).toBe(0);
    expect(sandbox.requests.filter((request) => request.status === 503).length).toBeGreaterThan(3);
    expect(outcome.sink).toBe(sandbox.console('deploy', 1));
  });

  it('a retry policy that does not cover the outage gives up with exit 4 — nothing above the transport retries again', async () => {
    sandbox = await startJenkinsSandbox({
      jobs: { deploy: { parameters: ['GIT_SHA'], builds: [{ result: 'SUCCESS', queueDelayMs: 3500, durationMs: 200 }] } },
      faults: { unavailableAfterTrigger: { afterMs: 100, durationMs: 3000 } },
    });
    const client = clientFor(sandbox.url, { retry: { attempts: 3, baseDelayMs: 50, maxDelayMs: 200 } });
    const error = await thrown(() => triggerAndFollow(client, 'deploy', { GIT_SHA: 'a'.repeat(40) }, { pollIntervalMs: 100 }));
    expect(error).toBeInstanceOf(UnreachableError);
    expect((error as UnreachableError).code).toBe('jenkins.unavailable');
    // 3 tries of one request, not 3 × (a follower's own retries).
    expect(sandbox.requests.filter((request) => request.status === 503)).toHaveLength(3);
  });

  it('resumes after the connection is dropped in the middle of the console', async () => {
    sandbox = await startJenkinsSandbox({
      jobs: { deploy: { builds: [{ result: 'FAILURE', durationMs: 100, consoleLines: 5000 }] } },
      // 7777 is not a line boundary: the cut lands mid-line (and mid-CRLF or mid-character at times).
      faults: { dropConsoleAfterBytes: 7777, dropConsoleTimes: 3 },
    });
    const outcome = await triggerAndFollow(clientFor(sandbox.url), 'deploy', {}, { pollIntervalMs: 200 });
    expect(outcome.exitCode).toBe(20);
    const consoleReads = sandbox.requests.filter((request) => request.path.includes('progressiveText'));
    expect(consoleReads.length).toBeGreaterThanOrEqual(4);
    // The three cut answers never finished (status 0 in the log).
    expect(consoleReads.filter((request) => request.status === 0)).toHaveLength(3);
    expect(outcome.sink).toBe(sandbox.console('deploy', 1));
    expect(outcome.logText).toBe(outcome.sink);
  });

  it('a 50 000-line console arrives through consoleSink byte for byte', async () => {
    sandbox = await startJenkinsSandbox({
      jobs: { big: { builds: [{ result: 'SUCCESS', durationMs: 1500, consoleLines: 50_000, consoleLineBytes: 61 }] } },
      consoleWriteBytes: 4093,
    });
    const outcome = await triggerAndFollow(clientFor(sandbox.url), 'big', {}, { pollIntervalMs: 50 });
    const expected = sandbox.console('big', 1);
    expect(Buffer.byteLength(expected)).toBeGreaterThan(50_000 * 61);
    expect(outcome.sink.length).toBe(expected.length);
    expect(outcome.sink === expected).toBe(true);
    expect(outcome.logText === expected).toBe(true);
    // Every log event is made of whole lines.
    for (const event of outcome.events) if (event.type === 'log') expect(event.text.endsWith('\n')).toBe(true);
  });

  it('sends the trigger POST exactly once when Jenkins answers it with 5xx, and reports an unknown outcome', async () => {
    sandbox = await startJenkinsSandbox({
      jobs: { deploy: { parameters: ['GIT_SHA'], builds: [{ result: 'SUCCESS' }] } },
      faults: { triggerStatus: 502 },
    });
    const error = await thrown(() => clientFor(sandbox!.url).trigger('deploy', { GIT_SHA: 'b'.repeat(40) }));
    expect(error).toBeInstanceOf(UnreachableError);
    expect(error.message).toContain('502');
    expect(error.message).toMatch(/may or may not/);
    expect(sandbox.requests.filter((request) => request.method === 'POST')).toHaveLength(1);
    expect(sandbox.triggers).toHaveLength(1);
  });

  it('does not resend the trigger when its answer times out after the POST was sent', async () => {
    sandbox = await startJenkinsSandbox({
      jobs: { deploy: { builds: [{ result: 'SUCCESS' }] } },
      faults: { triggerAnswerDelayMs: 1500 },
    });
    const error = await thrown(() => clientFor(sandbox!.url, { requestTimeoutMs: 300 }).trigger('deploy', {}));
    expect(error).toBeInstanceOf(UnreachableError);
    expect(error.message).toMatch(/may or may not have queued a build/);
    expect(sandbox.requests.filter((request) => request.method === 'POST')).toHaveLength(1);
    expect(sandbox.triggers).toHaveLength(1);
  });

  it('stop() aborts a running build: it ends ABORTED with "Aborted by" in the console', async () => {
    sandbox = await startJenkinsSandbox({ jobs: { long: { builds: [{ result: 'SUCCESS', durationMs: 60_000, consoleLines: 100 }] } } });
    const client = clientFor(sandbox.url);
    const { queueId } = await client.trigger('long', {});
    const { followBuild } = await import('../../../src/jenkins/follow.js');
    let sink = '';
    let result: string | undefined;
    for await (const event of followBuild(client, { jobPath: 'long', queueId, pollIntervalMs: 30, consoleSink: (chunk) => void (sink += chunk) })) {
      if (event.type === 'started') await client.stop(event.url);
      if (event.type === 'finished') result = event.result;
    }
    expect(result).toBe('ABORTED');
    expect(sink).toMatch(/Aborted by anonymous\nFinished: ABORTED\n$/);
    expect(sink).toBe(sandbox.console('long', 1));
  });
});
