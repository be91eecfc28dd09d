/** git: inside a repository, the remote answers with our credentials, each environment's branch exists. */
import { networkError } from '../git/classify.js';
import { openRepo, remoteHeads, type GitRepo } from '../git/repo.js';
import { stripCredentials } from '../git/sanitize.js';
import { fail, pass, probeSignal, settle, warn, type CheckSpec, type ProbeContext } from './types.js';

export interface GitChecks {
  repo: CheckSpec;
  remote: CheckSpec;
  /** One per environment: its branch exists locally (and on the remote). */
  branch(env: string, branch: string): CheckSpec;
}

export function gitChecks(projectDir: string, remote: string, branches: string[], ctx: ProbeContext): GitChecks {
  const opened = settle(() => openRepo(projectDir));
  const repoOf = async (): Promise<GitRepo> => {
    const result = await opened();
    if (!result.ok) throw result.error;
    return result.value;
  };
  // One ls-remote round trip answers both "does the remote answer?" and "which branches exist there?".
  const remoteUrl = settle(async () => stripCredentials(await (await repoOf()).remoteUrl(remote)));
  const heads = settle(async () => remoteHeads((await repoOf()).cwd, remote, branches, probeSignal(ctx)));

  const repo: CheckSpec = {
    id: 'git.repo',
    label: 'git repository',
    hint: 'git init',
    async run() {
      const r = await repoOf();
      const branch = await r.currentBranch();
      return pass(`${await r.toplevel()}, ${branch !== undefined ? `on ${branch}` : 'detached HEAD'}`);
    },
  };

  const remoteCheck: CheckSpec = {
    id: 'git.remote',
    label: `git remote ${remote}`,
    requires: [repo],
    hint: `git ls-remote ${remote}`,
    async run() {
      const url = await remoteUrl();
      if (!url.ok) throw url.error;
      const answer = await heads();
      if (!answer.ok) throw networkError(answer.error, remote, url.value, 'reach');
      const n = branches.length;
      return pass(`${url.value} answers (${answer.value.size} of ${n} environment branch${n === 1 ? '' : 'es'} there)`);
    },
  };

  const branch = (env: string, name: string): CheckSpec => ({
    id: 'git.branch',
    env,
    label: 'git branch',
    requires: [repo],
    async run() {
      const local = await (await repoOf()).resolve(`refs/heads/${name}`);
      const answer = await heads();
      // The remote's answer is the git.remote check's business; here it only adds detail.
      const onRemote = answer.ok ? answer.value.has(name) : undefined;
      if (local === undefined) {
        return onRemote
          ? fail(`${name} exists on ${remote} but not locally`, `git fetch ${remote} && git switch ${name}`)
          : fail(`${name} does not exist locally${onRemote === false ? ` nor on ${remote}` : ''}`, `git switch -c ${name} && git push -u ${remote} ${name}`);
      }
      if (onRemote === false) return warn(`${name} exists locally but not on ${remote} yet (\`iac up\` pushes it)`);
      return pass(`${name} at ${local.slice(0, 7)}${onRemote ? `, also on ${remote}` : ''}`);
    },
  });

  return { repo, remote: remoteCheck, branch };
}
