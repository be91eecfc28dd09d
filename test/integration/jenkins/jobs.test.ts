import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuildEvent, followBuild } from '../../../src/jenkins/follow.js';
import { type JenkinsSandbox, startJenkinsSandbox } from '../../../src/sandbox/jenkins.js';
import { clientFor, triggerAndFollow } from './helpers.js';

const SHA = '89abcdef0123456789abcdef0123456789abcdef';

describe('folders, multibranch branches and a context path', () => {
  let sandbox: JenkinsSandbox;
  beforeAll(async () => {
    sandbox = await startJenkinsSandbox({
      contextPath: '/jenkins',
      // JSON urls point at Jenkins' configured root URL, which the CLI cannot reach: it must not use them.
      rootUrl: 'http://jenkins-internal.invalid:8080/jenkins/',
      jobs: { 'shop/infra/deploy': { parameters: { GIT_SHA: '', ENV: 'dev' }, builds: [{ result: 'SUCCESS', durationMs: 50 }] } },
      multibranch: {
        'shop/app': {
          'feature/x': { builds: [{ result: 'SUCCESS', durationMs: 50 }] },
          main: { builds: [{ result: 'FAILURE', durationMs: 50 }] },
        },
      },
    });
  });
  afterAll(() => sandbox.close());

  it('a job in nested folders under /jenkins: /jenkins/job/shop/job/infra/job/deploy/', async () => {
    const outcome = await triggerAndFollow(clientFor(sandbox.url), 'shop/infra/deploy', { GIT_SHA: SHA });
    expect(outcome.exitCode).toBe(0);
    expect(sandbox.requests.find((request) => request.method === 'POST')?.path).toBe('/jenkins/job/shop/job/infra/job/deploy/buildWithParameters?delay=0sec');
    // Defaults are merged for parameters not sent (Jenkins' buildWithParameters).
    expect(sandbox.triggers[0]).toMatchObject({ job: 'shop/infra/deploy', parameters: { GIT_SHA: SHA } });
    const started = outcome.events.find((event): event is Extract<BuildEvent, { type: 'started' }> => event.type === 'started');
    expect(started?.url).toBe(`${sandbox.url}job/shop/job/infra/job/deploy/1/`);
    expect(sandbox.requests.every((request) => request.path.startsWith('/jenkins/'))).toBe(true);
  });

  it('a multibranch branch with a slash is double-encoded: feature%252Fx', async () => {
    const outcome = await triggerAndFollow(clientFor(sandbox.url), { path: 'shop/app', branch: 'feature/x' }, {});
    expect(outcome.exitCode).toBe(0);
    expect(sandbox.triggers.at(-1)).toMatchObject({ job: 'shop/app/feature%2Fx', endpoint: 'build' });
    expect(sandbox.requests.filter((request) => request.method === 'POST').at(-1)?.path).toBe(
      '/jenkins/job/shop/job/app/job/feature%252Fx/build?delay=0sec',
    );
    expect(outcome.sink).toBe(sandbox.console('shop/app/feature%2Fx', 1));
    // The revision of a branch job comes from SCMRevisionAction / BuildData; no GIT_SHA here → none reported.
    expect(outcome.events.some((event) => event.type === 'revision')).toBe(false);
  });

  it('single-encoding the branch (what naive clients do) is a 404 on Jenkins and in the sandbox', async () => {
    const response = await fetch(`${sandbox.url}job/shop/job/app/job/feature%2Fx/api/json`);
    expect(response.status).toBe(404);
    expect(response.headers.get('x-jenkins')).toBeTruthy();
  });

  it('lastBuilds reports result, revision and queue state for `iac status`', async () => {
    const outcome = await triggerAndFollow(clientFor(sandbox.url), { path: 'shop/app', branch: 'main' }, {});
    expect(outcome.exitCode).toBe(20);
    const last = await clientFor(sandbox.url).lastBuilds({ path: 'shop/app', branch: 'main' }, 5);
    expect(last.inQueue).toBe(false);
    expect(last.builds).toHaveLength(1);
    expect(last.builds[0]).toMatchObject({ number: 1, result: 'FAILURE', building: false, url: `${sandbox.url}job/shop/job/app/job/main/1/` });
  });
});

describe('queue behaviour', () => {
  let sandbox: JenkinsSandbox;
  beforeAll(async () => {
    sandbox = await startJenkinsSandbox({
      leftItemTtlMs: 50,
      quietPeriodMs: 5000,
      jobs: {
        serial: { parameters: ['GIT_SHA'], builds: [{ result: 'SUCCESS', durationMs: 1000 }] },
        stuck: { builds: [{ result: 'SUCCESS', stuckLabel: 'arm64' }] },
        waiting: { parameters: ['GIT_SHA'], builds: [{ result: 'SUCCESS', queueDelayMs: 2000 }] },
        history: {
          parameters: ['GIT_SHA'],
          builds: [{ result: 'SUCCESS' }],
          history: [
            { result: 'FAILURE', revision: '1'.repeat(40), ageMs: 7_200_000 },
            { result: 'SUCCESS', revision: '2'.repeat(40), ageMs: 3_600_000, durationMs: 42_000 },
          ],
        },
      },
    });
  });
  afterAll(() => sandbox.close());

  it('a second build of the same job is blocked by the first, with Jenkins’ why text', async () => {
    const client = clientFor(sandbox.url);
    await client.trigger('serial', { GIT_SHA: 'a'.repeat(40) });
    const second = await client.trigger('serial', { GIT_SHA: 'b'.repeat(40) });
    const events: BuildEvent[] = [];
    for await (const event of followBuild(client, { jobPath: 'serial', queueId: second.queueId, pollIntervalMs: 30 })) events.push(event);
    expect(events).toContainEqual({ type: 'queued', state: 'blocked', why: expect.stringMatching(/^Build #1 is already in progress \(ETA: \d+ sec\)$/) });
    expect(events.at(-1)).toMatchObject({ type: 'finished', result: 'SUCCESS', number: 2 });
  });

  it('an identical trigger while the first still waits collapses into it (303, same queue id)', async () => {
    const client = clientFor(sandbox.url);
    const params = { GIT_SHA: 'c'.repeat(40) };
    const first = await client.trigger('waiting', params);
    const second = await client.trigger('waiting', params);
    expect(second).toMatchObject({ queueId: first.queueId, alreadyQueued: true });
    expect(sandbox.triggers.at(-1)?.status).toBe(303);
    const item = await client.getQueueItem(first.queueId);
    expect(item).toEqual({ id: first.queueId, left: false, state: 'buildable', why: 'Waiting for next available executor' });
  });

  it('a stuck item reports state stuck and the label', async () => {
    const client = clientFor(sandbox.url);
    const { queueId } = await client.trigger('stuck', {});
    const controller = new AbortController();
    const events: BuildEvent[] = [];
    await expect(async () => {
      for await (const event of followBuild(client, { jobPath: 'stuck', queueId, pollIntervalMs: 20, signal: controller.signal })) {
        events.push(event);
        if (event.type === 'queued' && event.state === 'stuck') controller.abort();
      }
    }).rejects.toMatchObject({ exitCode: 130 });
    expect(events.at(-1)).toEqual({ type: 'queued', state: 'stuck', why: 'There are no nodes with the label ‘arm64’' });
  });

  it('when the queue has forgotten the item (404), the build is found by its queueId', async () => {
    const client = clientFor(sandbox.url);
    const { queueId } = await client.trigger('history', { GIT_SHA: '3'.repeat(40) });
    // Let it start, then let the LeftItem expire (leftItemTtlMs: 50).
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await client.getQueueItem(queueId)).toBeUndefined();
    const events: BuildEvent[] = [];
    for await (const event of followBuild(client, { jobPath: 'history', queueId, pollIntervalMs: 20 })) events.push(event);
    expect(events[0]).toEqual({ type: 'started', number: 3, url: `${sandbox.url}job/history/3/` });
    expect(events.at(-1)).toMatchObject({ type: 'finished', result: 'SUCCESS', number: 3 });
  });

  it('lastBuilds lists newest first with SHA, age and duration', async () => {
    const last = await clientFor(sandbox.url).lastBuilds('history', 2);
    expect(last.builds.map((build) => [build.number, build.result, build.sha])).toEqual([
      [3, 'SUCCESS', '3'.repeat(40)],
      [2, 'SUCCESS', '2'.repeat(40)],
    ]);
    expect(last.builds[1]?.durationMs).toBe(42_000);
    expect(Date.now() - (last.builds[1]?.timestamp ?? 0)).toBeGreaterThan(3_600_000);
  });
});
