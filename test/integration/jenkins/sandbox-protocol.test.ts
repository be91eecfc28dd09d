// The sandbox answers like Jenkins (protocols/jenkins.md), checked with plain fetch, not our client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JenkinsSandbox, startJenkinsSandbox } from '../../../src/sandbox/jenkins.js';

// API-token auth: exempt from crumbs, like Jenkins (anonymous POSTs would need a crumb).
const AUTH = { authorization: `Basic ${Buffer.from('ci:ci-token-1234').toString('base64')}` };
const post = (url: string, init: RequestInit = {}) => fetch(url, { method: 'POST', redirect: 'manual', headers: AUTH, ...init });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Jenkins sandbox wire protocol', () => {
  let sandbox: JenkinsSandbox;
  beforeAll(async () => {
    sandbox = await startJenkinsSandbox({
      users: [{ user: 'ci', token: 'ci-token-1234' }],
      anonymous: 'read',
      quietPeriodMs: 5000,
      jobs: {
        plain: { kind: 'freestyle', builds: [{ result: 'SUCCESS', durationMs: 1500, consoleLines: ['é✓', 'two'] }] },
        params: { parameters: { GIT_SHA: '', ENV: 'dev' }, builds: [{ result: 'SUCCESS', durationMs: 30 }] },
        off: { disabled: true, builds: [{ result: 'SUCCESS' }] },
        slow: { builds: [{ result: 'SUCCESS', queueDelayMs: 10_000 }] },
      },
      multibranch: { mb: { main: { builds: [{ result: 'SUCCESS' }] } } },
    });
  });
  afterAll(() => sandbox.close());

  it('advertises X-Jenkins on every answer and 404s unknown URLs with HTML', async () => {
    const response = await fetch(`${sandbox.url}job/nope/api/json`);
    expect(response.status).toBe(404);
    expect(response.headers.get('x-jenkins')).toBe('2.528');
    expect(response.headers.get('content-type')).toContain('text/html');
  });

  it('trigger status matrix: 405 for GET, 400 for the wrong endpoint, 409 disabled, 201 + absolute Location', async () => {
    expect((await fetch(`${sandbox.url}job/plain/build`)).status).toBe(405);
    expect((await post(`${sandbox.url}job/plain/buildWithParameters?X=1`)).status).toBe(400);
    const nothing = await post(`${sandbox.url}job/params/build`);
    expect([nothing.status, nothing.statusText]).toEqual([400, 'Nothing is submitted']);
    expect((await post(`${sandbox.url}job/params/build?delay=0sec`)).statusText).toBe('This page expects a form submission');
    expect((await post(`${sandbox.url}job/off/build`)).status).toBe(409);
    const created = await post(`${sandbox.url}job/params/buildWithParameters?delay=0sec`, {
      body: new URLSearchParams({ GIT_SHA: 'abc', EXTRA: 'ignored' }),
    });
    expect(created.status).toBe(201);
    expect(await created.text()).toBe('');
    expect(created.headers.get('location')).toMatch(new RegExp(`^${sandbox.url}queue/item/\\d+/$`));
    const item = (await (await fetch(`${created.headers.get('location')}api/json`)).json()) as Record<string, unknown>;
    expect(item.params).toBe('\nGIT_SHA=abc\nENV=dev');
  });

  it('quiet period by default, with Jenkins’ why text; an identical /build collapses (201, same id)', async () => {
    const first = await post(`${sandbox.url}job/plain/build`);
    const second = await post(`${sandbox.url}job/plain/build`);
    expect(second.status).toBe(201);
    expect(second.headers.get('location')).toBe(first.headers.get('location'));
    const item = (await (await fetch(`${first.headers.get('location')}api/json`)).json()) as Record<string, unknown>;
    expect(item._class).toBe('hudson.model.Queue$WaitingItem');
    expect(item.why).toMatch(/^In the quiet period\. Expires in \d\.\d sec$/);
    const id = /item\/(\d+)/.exec(first.headers.get('location') ?? '')?.[1];
    expect((await post(`${sandbox.url}queue/cancelItem?id=${id}`)).status).toBe(204);
    expect((await post(`${sandbox.url}queue/cancelItem?id=${id}`)).status).toBe(500);
    expect((await post(`${sandbox.url}queue/cancelItem?id=99999`)).status).toBe(404);
    const cancelled = (await (await fetch(`${first.headers.get('location')}api/json`)).json()) as Record<string, unknown>;
    expect(cancelled).toMatchObject({ _class: 'hudson.model.Queue$LeftItem', cancelled: true, executable: null });
  });

  it('console: CRLF body, raw-byte X-Text-Size, X-More-Data only while building, start past the end resends all', async () => {
    const queued = await post(`${sandbox.url}job/plain/build?delay=0sec`);
    const location = queued.headers.get('location') ?? '';
    let executable: { number: number } | null = null;
    while (!executable) {
      executable = ((await (await fetch(`${location}api/json`)).json()) as { executable: { number: number } | null }).executable;
      await sleep(10);
    }
    const url = `${sandbox.url}job/plain/${executable.number}/logText/progressiveText`;
    const running = await fetch(`${url}?start=0`);
    expect(running.headers.get('x-more-data')).toBe('true');
    await running.text();
    const buildUrl = `${sandbox.url}job/plain/${executable.number}/api/json`;
    while (((await (await fetch(buildUrl)).json()) as { building: boolean }).building) await sleep(50);
    const done = await fetch(`${url}?start=0`);
    const log = sandbox.console('plain', executable.number);
    expect(done.headers.get('x-more-data')).toBeNull();
    expect(Number(done.headers.get('x-text-size'))).toBe(Buffer.byteLength(log));
    expect(await done.text()).toBe(log.replace(/\n/g, '\r\n'));
    expect(log).toContain('é✓\ntwo\nFinished: SUCCESS\n');
    const past = await fetch(`${url}?start=999999`);
    expect(await past.text()).toBe(log.replace(/\n/g, '\r\n'));
    const build = (await (await fetch(`${sandbox.url}job/plain/${executable.number}/api/json`)).json()) as Record<string, unknown>;
    expect(build).toMatchObject({ _class: 'hudson.model.FreeStyleBuild', building: false, result: 'SUCCESS', executor: null });
  });

  it('crumbs: JSON and xpath forms, bound to a JSESSIONID.<hex> cookie', async () => {
    const response = await fetch(`${sandbox.url}crumbIssuer/api/json`);
    expect(response.headers.get('set-cookie')).toMatch(/^JSESSIONID\.[0-9a-f]{8}=[0-9a-f]+; Path=\/; HttpOnly$/);
    const { crumb, crumbRequestField } = (await response.json()) as { crumb: string; crumbRequestField: string };
    expect((await fetch(`${sandbox.url}job/plain/build`, { method: 'POST', redirect: 'manual' })).status).toBe(403);
    expect(crumbRequestField).toBe('Jenkins-Crumb');
    expect(crumb).toMatch(/^[0-9a-f]{64}$/);
    const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const xpath = await fetch(`${sandbox.url}crumbIssuer/api/xml?xpath=concat(//crumbRequestField,":",//crumb)`, { headers: { cookie } });
    expect(await xpath.text()).toBe(`Jenkins-Crumb:${crumb}`);
  });

  it('a multibranch project’s /build is a scan: 302 without a queue item', async () => {
    const response = await post(`${sandbox.url}job/mb/build?delay=0`);
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).not.toContain('/queue/item/');
  });

  it('503 while unavailable, for every URL', async () => {
    sandbox.unavailableFor(200);
    expect((await fetch(`${sandbox.url}api/json`)).status).toBe(503);
    await sleep(250);
    expect((await fetch(`${sandbox.url}api/json`)).status).toBe(200);
  });
});

describe('Jenkins sandbox with CSRF protection off', () => {
  it('has no crumb issuer (404), and POSTs need no crumb', async () => {
    const sandbox = await startJenkinsSandbox({ csrf: false, jobs: { a: { builds: [{ result: 'SUCCESS' }] } } });
    try {
      expect((await fetch(`${sandbox.url}crumbIssuer/api/json`)).status).toBe(404);
      expect((await fetch(`${sandbox.url}job/a/build?delay=0sec`, { method: 'POST', redirect: 'manual' })).status).toBe(201);
    } finally {
      await sandbox.close();
    }
  });
});
