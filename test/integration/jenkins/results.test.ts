import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BuildError } from '../../../src/errors.js';
import { type JenkinsSandbox, startJenkinsSandbox } from '../../../src/sandbox/jenkins.js';
import { clientFor, triggerAndFollow } from './helpers.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';

describe('followBuild + buildResultError: every result has its exit code', () => {
  let sandbox: JenkinsSandbox;
  beforeAll(async () => {
    const job = (result: 'SUCCESS' | 'UNSTABLE' | 'FAILURE' | 'ABORTED' | 'NOT_BUILT', extra = {}) => ({
      parameters: ['ENV', 'GIT_SHA'],
      builds: [{ result, queueDelayMs: 60, durationMs: 150, consoleLines: ['step 1', 'step 2 ✓'], ...extra }],
    });
    sandbox = await startJenkinsSandbox({
      jobs: {
        success: job('SUCCESS'),
        unstable: job('UNSTABLE'),
        failure: job('FAILURE'),
        aborted: job('ABORTED'),
        notbuilt: job('NOT_BUILT'),
        cancelled: job('SUCCESS', { cancelInQueue: true }),
        'freestyle-plain': { kind: 'freestyle', builds: [{ result: 'SUCCESS', durationMs: 50 }] },
      },
    });
  });
  afterAll(() => sandbox.close());

  it.each([
    ['success', 0, 'SUCCESS'],
    ['unstable', 21, 'UNSTABLE'],
    ['failure', 20, 'FAILURE'],
    ['aborted', 22, 'ABORTED'],
    ['notbuilt', 22, 'NOT_BUILT'],
  ] as const)('%s → exit %i', async (job, exitCode, result) => {
    const client = clientFor(sandbox.url);
    const outcome = await triggerAndFollow(client, job, { ENV: 'dev', GIT_SHA: SHA }, { expectedSha: SHA });
    const types = outcome.events.map((event) => event.type);
    expect(types[0]).toBe('queued');
    expect(types).toContain('started');
    expect(outcome.events.at(-1)).toMatchObject({ type: 'finished', result, number: 1 });
    expect(outcome.events).toContainEqual({ type: 'revision', sha: SHA, matches: true });
    expect(outcome.exitCode).toBe(exitCode);
    if (exitCode !== 0) expect(outcome.error).toBeInstanceOf(BuildError);
    expect(outcome.sink).toBe(sandbox.console(job, 1));
    expect(outcome.logText).toBe(outcome.sink);
    expect(outcome.sink).toContain(`Finished: ${result}\n`);
    expect(sandbox.triggers).toContainEqual(
      expect.objectContaining({ job, endpoint: 'buildWithParameters', parameters: { ENV: 'dev', GIT_SHA: SHA }, status: 201 }),
    );
  });

  it('cancelled in the queue → finished CANCELLED without a start → exit 22', async () => {
    const outcome = await triggerAndFollow(clientFor(sandbox.url), 'cancelled', { ENV: 'dev', GIT_SHA: SHA });
    expect(outcome.events.map((event) => event.type)).not.toContain('started');
    expect(outcome.events.at(-1)).toEqual({ type: 'finished', result: 'CANCELLED' });
    expect(outcome.exitCode).toBe(22);
    expect(outcome.error?.message).toContain('cancelled in the queue');
  });

  it('a job without parameters is triggered with /build and delay=0sec', async () => {
    const outcome = await triggerAndFollow(clientFor(sandbox.url), 'freestyle-plain', {});
    expect(outcome.exitCode).toBe(0);
    const post = sandbox.requests.find((request) => request.method === 'POST' && request.path.includes('freestyle-plain'));
    expect(post?.path).toBe('/job/freestyle-plain/build?delay=0sec');
  });

  it('a revision other than the pushed SHA is reported as a mismatch', async () => {
    const other = 'f'.repeat(40);
    const outcome = await triggerAndFollow(clientFor(sandbox.url), 'success', { ENV: 'dev', GIT_SHA: other }, { expectedSha: SHA });
    expect(outcome.events).toContainEqual({ type: 'revision', sha: other, matches: false });
  });
});

describe('trigger refusals that change nothing (no POST is sent)', () => {
  let sandbox: JenkinsSandbox;
  beforeAll(async () => {
    sandbox = await startJenkinsSandbox({
      jobs: {
        plain: { builds: [{ result: 'SUCCESS' }] },
        disabled: { parameters: ['GIT_SHA'], disabled: true, builds: [{ result: 'SUCCESS' }] },
        withParams: { parameters: ['GIT_SHA'], builds: [{ result: 'SUCCESS', durationMs: 20, consoleLines: ['a', 'b'] }] },
      },
      multibranch: { repo: { main: { builds: [{ result: 'SUCCESS' }] } } },
    });
  });
  afterAll(() => sandbox.close());

  it('parameters for a job without parameters → usage error (exit 2)', async () => {
    const error = await clientFor(sandbox.url).trigger('plain', { GIT_SHA: SHA }).catch((e: unknown) => e);
    expect(error).toMatchObject({ exitCode: 2, message: expect.stringContaining('takes no parameters') });
  });

  it('a disabled job, or a multibranch project instead of a branch → preflight error (exit 3)', async () => {
    await expect(clientFor(sandbox.url).trigger('disabled', { GIT_SHA: SHA })).rejects.toMatchObject({ exitCode: 3 });
    await expect(clientFor(sandbox.url).trigger('repo', {})).rejects.toMatchObject({ exitCode: 3 });
    expect(sandbox.requests.filter((request) => request.method === 'POST')).toHaveLength(0);
  });

  it('reports parameters the job does not define (Jenkins ignores them silently)', async () => {
    const result = await clientFor(sandbox.url).trigger('withParams', { GIT_SHA: SHA, TYPO: 'x' });
    expect(result.ignoredParameters).toEqual(['TYPO']);
  });

  it('progressiveText (buffered) returns LF text and the next offset', async () => {
    const client = clientFor(sandbox.url);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const chunk = await client.progressiveText(client.buildUrl('withParams', 1), 0);
    expect(chunk.text).toBe(sandbox.console('withParams', 1));
    expect(chunk).toMatchObject({ moreData: false, nextStart: Buffer.byteLength(chunk.text) });
    const rest = await client.progressiveText(client.buildUrl('withParams', 1), chunk.nextStart);
    expect(rest).toEqual({ text: '', nextStart: chunk.nextStart, moreData: false });
  });
});
