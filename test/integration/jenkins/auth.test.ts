import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PreflightError, UnreachableError, UsageError, exitCodeOf } from '../../../src/errors.js';
import { JenkinsClient } from '../../../src/jenkins/client.js';
import { type JenkinsSandbox, startJenkinsSandbox } from '../../../src/sandbox/jenkins.js';
import { clientFor, thrown, triggerAndFollow } from './helpers.js';

const TOKEN = '11d0c7a4f3b2e1d0c9b8a7f6e5d4c3b2a1';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('Jenkins authentication, crumbs and unreachable servers', () => {
  let sandbox: JenkinsSandbox;
  beforeAll(async () => {
    sandbox = await startJenkinsSandbox({
      users: [
        { user: 'alice', token: TOKEN, password: 'alice-password-1' },
        { user: 'viewer', token: 'viewer-token-1234', canBuild: false },
      ],
      jobs: { deploy: { parameters: ['GIT_SHA'], builds: [{ result: 'SUCCESS', durationMs: 50 }] } },
    });
  });
  afterAll(() => sandbox.close());

  it('API token: Basic auth, no crumb fetched', async () => {
    const before = sandbox.stats.crumbsIssued;
    const outcome = await triggerAndFollow(clientFor(sandbox.url, { user: 'alice', token: TOKEN }), 'deploy', { GIT_SHA: 'c'.repeat(40) });
    expect(outcome.exitCode).toBe(0);
    expect(sandbox.stats.crumbsIssued).toBe(before);
    expect(sandbox.triggers.at(-1)).toMatchObject({ user: 'alice', status: 201 });
  });

  it('a password instead of a token: the POST is refused for want of a crumb, then resent once with crumb + session cookie', async () => {
    const client = clientFor(sandbox.url, { user: 'alice', token: 'alice-password-1' });
    const posts = () => sandbox.requests.filter((request) => request.method === 'POST').length;
    const before = posts();
    const result = await client.trigger('deploy', { GIT_SHA: 'd'.repeat(40) });
    expect(result.queueId).toBeGreaterThan(0);
    expect(posts() - before).toBe(2);
    expect(sandbox.requests.filter((request) => request.method === 'POST').at(-2)?.status).toBe(403);
  });

  it('401 for a wrong token: exit 4, the message names the URL and never the token', async () => {
    const wrong = 'wrong-token-9f8e7d6c5b4a';
    const error = await thrown(() => clientFor(sandbox.url, { user: 'alice', token: wrong }).getJob('deploy'));
    expect(error).toBeInstanceOf(UnreachableError);
    expect(exitCodeOf(error)).toBe(4);
    expect(error.message).toContain(sandbox.url);
    expect(error.message).toContain('401');
    expect(JSON.stringify({ message: error.message, hint: (error as UnreachableError).hint })).not.toContain(wrong);
    expect((error as UnreachableError).hint).toContain('IAC_JENKINS_TOKEN');
  });

  it('anonymous without read permission: 403 → exit 4 asking for credentials', async () => {
    const error = await thrown(() => clientFor(sandbox.url).getJob('deploy'));
    expect(error).toBeInstanceOf(UnreachableError);
    expect(error.message).toMatch(/requires authentication \(403\)/);
  });

  it('an authenticated user without Job/Build permission gets a 403 naming the permission', async () => {
    const error = await thrown(() => clientFor(sandbox.url, { user: 'viewer', token: 'viewer-token-1234' }).trigger('deploy', { GIT_SHA: 'e'.repeat(40) }));
    expect(error).toBeInstanceOf(UnreachableError);
    expect(error.message).toContain('hudson.model.Item.Build');
  });

  it('an unknown job is a usage error naming the job path', async () => {
    const error = await thrown(() => clientFor(sandbox.url, { user: 'alice', token: TOKEN }).getJob('shop/nope'));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toContain('shop/nope');
  });

  it('an unreachable Jenkins: exit 4 naming the URL, not the token, and fast', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/jenkins/`;
    const started = Date.now();
    const error = await thrown(() => new JenkinsClient({ baseUrl: url, user: 'alice', token: TOKEN }).trigger('deploy', {}));
    expect(error).toBeInstanceOf(UnreachableError);
    expect(exitCodeOf(error)).toBe(4);
    expect(error.message).toContain(url);
    expect(error.message).toContain('connection refused');
    expect(`${error.message} ${(error as UnreachableError).hint}`).not.toContain(TOKEN);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('refuses to send credentials over plain http to a non-loopback host', () => {
    expect(() => new JenkinsClient({ baseUrl: 'http://ci.example.com/', user: 'alice', token: TOKEN })).toThrow(PreflightError);
    expect(() => new JenkinsClient({ baseUrl: 'http://ci.example.com/', user: 'alice', token: TOKEN, allowInsecureHttp: true })).not.toThrow();
    expect(() => new JenkinsClient({ baseUrl: 'https://ci.example.com/', user: 'alice', token: TOKEN })).not.toThrow();
    expect(() => new JenkinsClient({ baseUrl: 'http://localhost:8080/', user: 'alice', token: TOKEN })).not.toThrow();
  });
});

describe('Jenkins without a token: crumb + JSESSIONID cookie', () => {
  let sandbox: JenkinsSandbox;
  beforeAll(async () => {
    sandbox = await startJenkinsSandbox({
      anonymous: 'build',
      jobs: { deploy: { parameters: ['GIT_SHA'], builds: [{ result: 'UNSTABLE', durationMs: 50 }] } },
    });
  });
  afterAll(() => sandbox.close());

  it('fetches a crumb once, keeps the session cookie, and triggers and follows the build', async () => {
    const client = clientFor(sandbox.url);
    const outcome = await triggerAndFollow(client, 'deploy', { GIT_SHA: 'f'.repeat(40) });
    expect(outcome.exitCode).toBe(21);
    expect(sandbox.stats.crumbsIssued).toBe(1);
    const posts = sandbox.requests.filter((request) => request.method === 'POST');
    expect(posts).toEqual([expect.objectContaining({ path: '/job/deploy/buildWithParameters?delay=0sec', status: 201 })]);
  });

  it('a POST without the crumb is refused by the sandbox with 403, as Jenkins does', async () => {
    const response = await fetch(`${sandbox.url}job/deploy/buildWithParameters?delay=0sec`, { method: 'POST', redirect: 'manual' });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('No valid crumb was included in the request');
  });
});
