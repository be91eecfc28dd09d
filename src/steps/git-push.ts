import type { GitEvent } from '../git/events.js';
import { assertRemoteNotAhead, pushCommit, type PushPlan } from '../git/push.js';
import { openRepo } from '../git/repo.js';
import type { Step } from '../pipeline/types.js';

/** Pushes exactly the run's commit (`<sha>:refs/heads/<branch>`); refuses when the remote is ahead, never forces. */
export function gitPushStep(cwd: string, plan: PushPlan): Step {
  const short = plan.sha.slice(0, 7);
  /** What the remote branch pointed at when the preflight asked. */
  let remoteHead: string | undefined;
  return {
    id: 'git',
    title: `Push ${plan.branch} to ${plan.remote}`,
    describe: () => [
      `would run: git push --porcelain -- ${plan.remote} ${plan.refspec}${plan.setsUpstream ? ` (then track ${plan.remote}/${plan.branch})` : ''}`,
      `commit ${plan.sha} → ${plan.remoteUrl}`,
      `would first ask ${plan.remote} for ${plan.branch} and refuse if it has commits ${plan.branch} lacks (never forces)`,
    ],
    async preflight(signal) {
      remoteHead = await assertRemoteNotAhead(await openRepo(cwd), { remote: plan.remote, branch: plan.branch, sha: plan.sha, signal });
    },
    async run(ctx) {
      // The preflight just asked: a remote that already has the commit needs no push (a re-run resumes).
      if (remoteHead === plan.sha) {
        ctx.outcome('push', true, { upToDate: true, skipped: true });
        return { summary: `${short} already on ${plan.remote}/${plan.branch}: not pushed again` };
      }
      ctx.intent('push', { remote: plan.remote, branch: plan.branch, sha: plan.sha });
      const result = await pushCommit({
        cwd,
        remote: plan.remote,
        branch: plan.branch,
        sha: plan.sha,
        plan,
        signal: ctx.signal,
        onEvent: (event) => ctx.progress(describeGitEvent(event)),
      });
      ctx.outcome('push', true, { upToDate: result.alreadyUpToDate });
      return { summary: result.alreadyUpToDate ? `${short} already on ${plan.remote}/${plan.branch}` : `pushed ${short} to ${plan.remote}/${plan.branch}` };
    },
  };
}

export function describeGitEvent(event: GitEvent): string {
  switch (event.type) {
    case 'fetching':
      return `fetching ${event.remote} ${event.branches.join(' ')}`.trim();
    case 'fetched':
      return `fetched ${event.remote}`;
    case 'pushing':
      return `pushing ${event.sha.slice(0, 7)} (${event.refspec})`;
    case 'pushed':
      return event.alreadyUpToDate ? 'remote already up to date' : `pushed ${event.sha.slice(0, 7)}`;
    case 'merging':
      return `merging ${event.from} into ${event.to}`;
    case 'merge-worktree':
      return `merging in a temporary worktree`;
    case 'merged':
      return `merged: ${event.sha.slice(0, 7)}`;
    case 'local-updated':
      return `local ${event.branch} now at ${event.sha.slice(0, 7)}`;
    case 'local-skipped':
      return `local ${event.branch} not updated: ${event.reason}`;
  }
}
