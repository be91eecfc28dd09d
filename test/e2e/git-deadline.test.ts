import { execFileSync } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createProject } from '../helpers/project.js';
import { runIac } from '../helpers/run-cli.js';

/** Processes whose command line names the silent remote (git, git-remote-http). */
function processesFor(port: number): string[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out.split('\n').filter((line) => line.includes(`127.0.0.1:${port}/`) && !line.includes('ps -eo'));
}

describe('a git remote that accepts the connection and never answers', () => {
  let server: Server;
  let port: number;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    // Accepts, reads, never answers: what a hung proxy or a dead load balancer looks like.
    server = createServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    sockets.forEach((s) => s.destroy());
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  function project() {
    const p = createProject({ jenkinsUrl: 'https://ci.example.invalid/' });
    const config = { project: 'shop', git: { remote: 'origin', timeout: '2s' }, environments: { dev: { branch: 'develop' } } };
    writeFileSync(join(p.work, 'iac.yaml'), stringify(config));
    p.git('commit', '-q', '-am', 'git deadline of 2s');
    p.git('remote', 'set-url', 'origin', `http://127.0.0.1:${port}/shop.git`);
    return p;
  }

  it('`iac up` ends at the git deadline with exit 4, says so, and leaves no git process behind', async () => {
    const p = project();
    try {
      const result = await runIac(['up', '--only', 'git'], { cwd: p.work, timeoutMs: 30_000 });
      expect(result.code).toBe(4);
      expect(result.stderr).toContain(`cannot read origin (http://127.0.0.1:${port}/shop.git): no answer within 2s; git was stopped`);
      expect(result.stderr).toContain('hint: git ls-remote origin');
      expect(processesFor(port)).toEqual([]);
    } finally {
      p.cleanup();
    }
  });

  it('`iac status` prints with the git cell unreachable, exits, and leaves no git process behind', async () => {
    const p = project();
    try {
      const result = await runIac(['status'], { cwd: p.work, timeoutMs: 30_000 });
      expect(result.code).toBe(4);
      expect(result.stdout).toMatch(/^dev {2}develop/m);
      expect(result.stdout).toContain('(remote unreachable, showing the last fetched state: cannot fetch from origin');
      expect(processesFor(port)).toEqual([]);
      const json = await runIac(['status', '--json'], { cwd: p.work, timeoutMs: 30_000 });
      expect(json.stdout).toContain('no answer within 2s; git was stopped');
    } finally {
      p.cleanup();
    }
  });
});
