import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GitStepError, InterruptedError, PreflightError, UnreachableError } from '../../../src/errors.js';
import { openRepo, pushCommit, pushPlan } from '../../../src/git/index.js';
import { assertRemoteNotAhead } from '../../../src/git/push.js';
import type { GitEvent } from '../../../src/git/index.js';
import { snapshotRepo } from '../../helpers/git-snapshot.js';
import { createPromoteRepos } from './fixture.js';
import type { PromoteRepos } from './fixture.js';

let repos: PromoteRepos;
afterEach(() => repos?.cleanup());

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/** The run binds the branch head once; pushCommit pushes exactly that SHA. */
function pushBranch(options: { cwd: string; remote: string; branch: string; signal?: AbortSignal; onEvent?: (event: GitEvent) => void }) {
  return pushCommit({ ...options, sha: repos.git('rev-parse', `refs/heads/${options.branch}`) });
}

describe('pushCommit against a real bare remote', () => {
  it('pushes exactly the bound commit as <sha>:refs/heads/<branch> and reports the events', async () => {
    repos = createPromoteRepos();
    repos.git('checkout', '-q', 'develop');
    const sha = repos.commit('app.txt', 'v2\n', 'feature work');
    const events: GitEvent[] = [];
    const result = await pushBranch({ cwd: repos.work, remote: 'origin', branch: 'develop', onEvent: (e) => events.push(e) });
    expect(result).toEqual({
      sha,
      refspec: `${sha}:refs/heads/develop`,
      alreadyUpToDate: false,
      setUpstream: false,
    });
    expect(repos.remoteSha('develop')).toBe(sha);
    expect(events.map((e) => e.type)).toEqual(['pushing', 'pushed']);
  });

  it('a commit made after the SHA was bound is not pushed: the remote gets exactly the bound commit', async () => {
    repos = createPromoteRepos();
    repos.git('checkout', '-q', 'develop');
    const bound = repos.commit('app.txt', 'v2\n', 'the commit the run deploys');
    const later = repos.commit('app.txt', 'v3\n', 'made while the run was in preflight');
    await pushCommit({ cwd: repos.work, remote: 'origin', branch: 'develop', sha: bound });
    expect(repos.remoteSha('develop')).toBe(bound);
    expect(repos.git('rev-parse', 'develop')).toBe(later);
  });

  it('pushes the named branch even when another branch is checked out', async () => {
    repos = createPromoteRepos();
    const sha = repos.commit('main.txt', 'x\n', 'on main');
    repos.git('checkout', '-q', 'develop');
    await pushBranch({ cwd: repos.work, remote: 'origin', branch: 'main' });
    expect(repos.remoteSha('main')).toBe(sha);
    expect(repos.git('rev-parse', '--abbrev-ref', 'HEAD')).toBe('develop');
  });

  it('sets the upstream on the first push, and a second push is already up to date', async () => {
    repos = createPromoteRepos();
    repos.git('checkout', '-q', '-b', 'feature/login');
    const sha = repos.commit('login.txt', 'login\n', 'login');
    const plan = await pushPlan({ cwd: repos.work, remote: 'origin', branch: 'feature/login', sha });
    expect(plan.setsUpstream).toBe(true);
    const first = await pushBranch({ cwd: repos.work, remote: 'origin', branch: 'feature/login' });
    expect(first).toMatchObject({ sha, setUpstream: true, alreadyUpToDate: false });
    expect(repos.remoteSha('feature/login')).toBe(sha);
    expect(repos.git('rev-parse', '--abbrev-ref', 'feature/login@{upstream}')).toBe('origin/feature/login');
    const second = await pushBranch({ cwd: repos.work, remote: 'origin', branch: 'feature/login' });
    expect(second).toMatchObject({ sha, setUpstream: false, alreadyUpToDate: true });
  });

  it('the preflight refuses with exit 3 when the remote has commits we lack; the push itself is rejected (exit 10), never forced', async () => {
    repos = createPromoteRepos();
    const theirs = repos.pushFromElsewhere('develop', 'theirs.txt', 'theirs\n');
    repos.git('checkout', '-q', 'develop');
    const mine = repos.commit('mine.txt', 'mine\n', 'mine');
    const error = await assertRemoteNotAhead(await openRepo(repos.work), { remote: 'origin', branch: 'develop', sha: mine }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PreflightError);
    expect((error as PreflightError).exitCode).toBe(3);
    expect((error as PreflightError).message).toContain('origin/develop has 1 commit');
    expect((error as PreflightError).hint).toBe('git pull --rebase origin develop');
    const rejected = await pushBranch({ cwd: repos.work, remote: 'origin', branch: 'develop' }).catch((e: unknown) => e);
    expect(rejected).toBeInstanceOf(GitStepError);
    expect((rejected as GitStepError).exitCode).toBe(10);
    expect(repos.remoteSha('develop')).toBe(theirs);
  });

  it('a non-fast-forward rejection (push URL moved after the check) is exit 10 with git\'s reason', async () => {
    repos = createPromoteRepos();
    // Fetch from `remote`, push to a mirror that someone else already moved: the check passes, git rejects.
    const mirror = join(repos.root, 'mirror.git');
    repos.git('clone', '-q', '--bare', repos.remote, mirror);
    repos.git('checkout', '-q', 'develop');
    repos.commit('x.txt', 'x\n', 'someone else, only on the mirror');
    repos.git('push', '-q', mirror, 'develop');
    repos.git('reset', '-q', '--hard', 'HEAD~1');
    repos.git('remote', 'set-url', '--push', 'origin', mirror);
    repos.commit('mine.txt', 'mine\n', 'mine');
    const before = repos.git('--git-dir', mirror, 'rev-parse', 'develop');
    const error = await pushBranch({ cwd: repos.work, remote: 'origin', branch: 'develop' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitStepError);
    expect((error as GitStepError).exitCode).toBe(10);
    expect((error as GitStepError).message).toMatch(/rejected the push of develop: (fetch first|non-fast-forward)/);
    expect((error as GitStepError).hint).toBe('git pull --rebase origin develop');
    expect(repos.git('--git-dir', mirror, 'rev-parse', 'develop')).toBe(before);
  });

  it('a pre-receive hook rejection is exit 10 and keeps the hook\'s explanation', async () => {
    repos = createPromoteRepos();
    const hook = join(repos.remote, 'hooks', 'pre-receive');
    writeFileSync(hook, '#!/bin/sh\necho "develop is frozen for the release" >&2\nexit 1\n');
    chmodSync(hook, 0o755);
    repos.git('checkout', '-q', 'develop');
    repos.commit('mine.txt', 'mine\n', 'mine');
    const error = await pushBranch({ cwd: repos.work, remote: 'origin', branch: 'develop' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitStepError);
    expect((error as GitStepError).message).toContain('pre-receive hook declined');
    expect((error as GitStepError).details.join('\n')).toContain('develop is frozen for the release');
  });

  it('an unreachable remote is exit 4 and its URL loses the credentials', async () => {
    repos = createPromoteRepos();
    const port = await closedPort();
    repos.git('remote', 'set-url', 'origin', `https://deployer:s3cr3t-t0ken@127.0.0.1:${port}/shop.git`);
    const snapshot = snapshotRepo(repos.work, repos.remote);
    const error = await pushBranch({ cwd: repos.work, remote: 'origin', branch: 'main' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnreachableError);
    const unreachable = error as UnreachableError;
    expect(unreachable.exitCode).toBe(4);
    expect(unreachable.message).toContain(`https://127.0.0.1:${port}/shop.git`);
    const everything = [unreachable.message, unreachable.hint ?? '', ...unreachable.details].join('\n');
    expect(everything).not.toContain('s3cr3t-t0ken');
    expect(everything).not.toContain('deployer');
    expect(snapshotRepo(repos.work, repos.remote)).toEqual(snapshot);
  });

  it('a remote refusing the credentials (HTTP 401) is exit 4 without the token', async () => {
    repos = createPromoteRepos();
    const server = createServer((_req, res) => {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' });
      res.end('denied');
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    try {
      const { port } = server.address() as AddressInfo;
      repos.git('remote', 'set-url', 'origin', `http://deployer:s3cr3t-t0ken@127.0.0.1:${port}/shop.git`);
      const error = await pushBranch({ cwd: repos.work, remote: 'origin', branch: 'main' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnreachableError);
      const unreachable = error as UnreachableError;
      expect(unreachable.message).toContain(`http://127.0.0.1:${port}/shop.git`);
      expect([unreachable.message, ...unreachable.details].join('\n')).not.toContain('s3cr3t-t0ken');
    } finally {
      server.close();
    }
  });

  it('pushPlan is offline and read-only: the refspec and SHA that would be pushed', async () => {
    repos = createPromoteRepos();
    const sha = repos.commit('a.txt', 'a\n', 'a');
    repos.git('remote', 'set-url', 'origin', 'https://user:tok@unreachable.invalid/shop.git');
    const snapshot = snapshotRepo(repos.work, repos.remote);
    const plan = await pushPlan({ cwd: repos.work, remote: 'origin', branch: 'main', sha });
    expect(plan).toEqual({
      remote: 'origin',
      remoteUrl: 'https://unreachable.invalid/shop.git',
      branch: 'main',
      refspec: `${sha}:refs/heads/main`,
      sha,
      setsUpstream: false,
    });
    expect(snapshotRepo(repos.work, repos.remote)).toEqual(snapshot);
  });

  it('Ctrl-C before the push: InterruptedError and nothing pushed', async () => {
    repos = createPromoteRepos();
    repos.commit('a.txt', 'a\n', 'a');
    const before = snapshotRepo(repos.work, repos.remote);
    const controller = new AbortController();
    const error = await pushBranch({
      cwd: repos.work,
      remote: 'origin',
      branch: 'main',
      signal: controller.signal,
      onEvent: (event) => event.type === 'pushing' && controller.abort(),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InterruptedError);
    expect(snapshotRepo(repos.work, repos.remote)).toEqual(before);
  });
});
