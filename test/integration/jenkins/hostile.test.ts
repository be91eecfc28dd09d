import { once } from 'node:events';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BuildError, BuildRevisionError, UnreachableError, exitCodeOf } from '../../../src/errors.js';
import { type BuildEvent, buildRevisionError, followBuild } from '../../../src/jenkins/follow.js';
import { type JenkinsSandbox, startJenkinsSandbox } from '../../../src/sandbox/jenkins.js';
import { selfSignedCertificate } from '../../../src/sandbox/kubernetes-tls.js';
import { clientFor, thrown } from './helpers.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const OTHER = 'fedcba9876543210fedcba9876543210fedcba98';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('Jenkins that misbehaves: every wait ends, every failure says what it is', () => {
  let sandbox: JenkinsSandbox | undefined;
  afterEach(async () => {
    await sandbox?.close();
    sandbox = undefined;
  });

  it('X-More-Data: true forever after the build ended: the follow ends after the grace, with the result and consoleComplete false', async () => {
    sandbox = await startJenkinsSandbox({
      jobs: { deploy: { builds: [{ result: 'SUCCESS', durationMs: 100, consoleLines: ['one', 'two'] }] } },
      faults: { moreDataForever: true },
    });
    const client = clientFor(sandbox.url);
    const { queueId } = await client.trigger('deploy', {});
    const events: BuildEvent[] = [];
    let sink = '';
    for await (const event of followBuild(client, { jobPath: 'deploy', queueId, pollIntervalMs: 100, consoleGraceMs: 600, consoleSink: (c) => void (sink += c) })) {
      events.push(event);
    }
    expect(events.at(-1)).toMatchObject({ type: 'finished', result: 'SUCCESS', consoleComplete: false });
    expect(sink).toBe(sandbox.console('deploy', 1));
    // Bounded by the grace: a handful of reads, not one every poll forever.
    const reads = sandbox.requests.filter((request) => request.path.includes('progressiveText')).length;
    expect(reads).toBeLessThan(30);
  });

  it('a queue item that never leaves: exit 4 at the queue deadline, naming why, and the item is cancelled', async () => {
    sandbox = await startJenkinsSandbox({ jobs: { stuck: { builds: [{ result: 'SUCCESS', stuckLabel: 'arm64' }] } } });
    const client = clientFor(sandbox.url);
    const { queueId } = await client.trigger('stuck', {});
    const error = await thrown(async () => {
      for await (const _ of followBuild(client, { jobPath: 'stuck', queueId, pollIntervalMs: 100, queueTimeoutMs: 800 })) void _;
    });
    expect(error).toBeInstanceOf(UnreachableError);
    expect(exitCodeOf(error)).toBe(4);
    expect((error as UnreachableError).code).toBe('jenkins.queue-timeout');
    expect(error.message).toContain('did not leave the Jenkins queue within 1s');
    expect(error.message).toContain('There are no nodes with the label ‘arm64’');
    expect(error.message).toContain(`iac cancelled queue item ${queueId}`);
    expect((error as UnreachableError).hint).toContain('jenkins.queueTimeout');
    expect(await client.getQueueItem(queueId)).toMatchObject({ left: true, cancelled: true });
  });

  it('a trigger answered by a redirect to a login page is exit 4 with the API-token hint (not a Jenkins verdict)', async () => {
    sandbox = await startJenkinsSandbox({
      jobs: { deploy: { builds: [{ result: 'SUCCESS' }] } },
      faults: { loginRedirect: { location: 'https://sso.example.test/login?return=%2Fjob%2Fdeploy%2Fbuild' } },
    });
    const error = await thrown(() => clientFor(sandbox!.url).trigger('deploy', {}));
    expect(error).toBeInstanceOf(UnreachableError);
    expect(exitCodeOf(error)).toBe(4);
    expect((error as UnreachableError).code).toBe('jenkins.login-redirect');
    expect(error.message).toContain('https://sso.example.test/login');
    expect(error.message).not.toContain('return=');
    expect((error as UnreachableError).hint).toMatch(/API token/);
  });

  it('a trigger answered 302 back to the job page is Jenkins saying "not scheduled": exit 22', async () => {
    sandbox = await startJenkinsSandbox({ jobs: { deploy: { builds: [{ result: 'SUCCESS' }] } } });
    sandbox.faults.loginRedirect = { location: `${sandbox.url}job/deploy/` };
    const error = await thrown(() => clientFor(sandbox!.url).trigger('deploy', {}));
    expect(error).toBeInstanceOf(BuildError);
    expect(exitCodeOf(error)).toBe(22);
  });

  it('a GET redirected to a login page is exit 4 too (the preflight job check)', async () => {
    sandbox = await startJenkinsSandbox({
      jobs: { deploy: { builds: [{ result: 'SUCCESS' }] } },
      faults: { loginRedirect: { location: '/securityRealm/commenceLogin', methods: ['GET'] } },
    });
    const error = await thrown(() => clientFor(sandbox!.url).getJob('deploy'));
    expect((error as UnreachableError).code).toBe('jenkins.login-redirect');
  });

  it('a 50 MB JSON body is refused above the bound with a clear error, without reading it all', async () => {
    sandbox = await startJenkinsSandbox({
      jobs: { deploy: { builds: [{ result: 'SUCCESS' }] } },
      faults: { jsonPaddingBytes: 50 * 1024 * 1024 },
    });
    const client = clientFor(sandbox.url);
    const error = await thrown(() => client.getJob('deploy'));
    expect(error).toBeInstanceOf(UnreachableError);
    expect((error as UnreachableError).code).toBe('jenkins.response-too-large');
    expect(error.message).toContain('more than 8 MB');
    // A smaller bound for the same answer says so with its own number.
    const small = await thrown(() => clientFor(sandbox!.url, { maxJsonBytes: 1024 * 1024 }).getJob('deploy'));
    expect(small.message).toContain('more than 1 MB');
  });

  it('a build that reports another revision: the revision event says so, and the error is exit 23 naming both commits and the URL', async () => {
    sandbox = await startJenkinsSandbox({ jobs: { deploy: { parameters: ['GIT_SHA'], builds: [{ result: 'SUCCESS', durationMs: 100, revision: OTHER }] } } });
    const client = clientFor(sandbox.url);
    const { queueId } = await client.trigger('deploy', { GIT_SHA: SHA });
    const events: BuildEvent[] = [];
    for await (const event of followBuild(client, { jobPath: 'deploy', queueId, pollIntervalMs: 50, expectedSha: SHA })) events.push(event);
    expect(events).toContainEqual({ type: 'revision', sha: OTHER, matches: false });
    const url = client.buildUrl('deploy', 1);
    const error = buildRevisionError(OTHER, SHA, 'SUCCESS', { job: 'deploy', number: 1, url });
    expect(error).toBeInstanceOf(BuildRevisionError);
    expect(exitCodeOf(error)).toBe(23);
    expect(error.message).toContain(OTHER);
    expect(error.message).toContain(SHA);
    expect(error.message).toContain(url);
  });

  it('isBuilding asks once: true while running, false once ended, undefined when Jenkins does not answer', async () => {
    sandbox = await startJenkinsSandbox({ jobs: { long: { builds: [{ result: 'SUCCESS', durationMs: 1500 }] } } });
    const client = clientFor(sandbox.url);
    const { queueId } = await client.trigger('long', {});
    for await (const event of followBuild(client, { jobPath: 'long', queueId, pollIntervalMs: 50 })) {
      if (event.type === 'started') {
        expect(await client.isBuilding(event.url, 2000)).toBe(true);
        break;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 1700));
    expect(await client.isBuilding(client.buildUrl('long', 1), 2000)).toBe(false);
    sandbox.faults.latencyMs = 3000;
    expect(await client.isBuilding(client.buildUrl('long', 1), 200)).toBeUndefined();
  });
});

describe('network failures are reported at once, each in its own words', () => {
  it('connection refused', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/`;
    const started = performance.now();
    const error = await thrown(() => clientFor(url, { retry: { attempts: 60, baseDelayMs: 250, maxDelayMs: 5000, budgetMs: 120_000 } }).getJob('deploy'));
    expect(error).toBeInstanceOf(UnreachableError);
    expect(error.message).toContain('connection refused');
    // Not retried: nothing answered on that port before (a wrong URL, not a restart).
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('port 1 (a port fetch refuses) is a plain connection refused too', async () => {
    const error = await thrown(() => clientFor('http://127.0.0.1:1/').getJob('deploy'));
    expect(error.message).toContain('connection refused');
  });

  it('DNS failure', async () => {
    const error = await thrown(() => clientFor('http://jenkins.does-not-exist.invalid/').getJob('deploy'));
    expect(error).toBeInstanceOf(UnreachableError);
    expect(error.message).toMatch(/host not found|DNS lookup failed/);
    expect(error.message).toContain('jenkins.does-not-exist.invalid');
  });

  it('TLS failure (a self-signed certificate)', async () => {
    const certificate = await selfSignedCertificate();
    expect(certificate, 'openssl makes the test certificate').toBeDefined();
    const server = createHttpsServer({ key: certificate?.key, cert: certificate?.cert }, (_req, res) => res.end('{}'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      const error = await thrown(() => clientFor(`https://127.0.0.1:${port}/`).getJob('deploy'));
      expect(error).toBeInstanceOf(UnreachableError);
      expect(error.message).toMatch(/TLS failure: self-signed certificate/);
      expect((error as UnreachableError).hint).toContain('NODE_EXTRA_CA_CERTS');
    } finally {
      server.close();
    }
  });
});
