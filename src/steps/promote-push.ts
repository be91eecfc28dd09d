import type { PreparedPromotion, PromoteOptions, PromoteResult } from '../git/promote.js';
import type { Step } from '../pipeline/types.js';
import { describeGitEvent } from './git-push.js';

/**
 * Promote's merge-and-push as a step of the run: `<remote>/<to>` moves to exactly the prepared
 * commit (fast-forward, or the merge commit made before the run), never forced. `onPushed` hears the
 * result so the command can record the promotion whatever happens to the deploy after it.
 */
export function promotePushStep(options: Omit<PromoteOptions, 'signal' | 'onEvent'>, prepared: PreparedPromotion, onPushed: (result: PromoteResult) => void): Step {
  const { remote, from, to } = options;
  const { preview, sha, mergeCommit } = prepared;
  const short = sha.slice(0, 7);
  const how = mergeCommit ? `merge ${from} into ${to} (merge commit ${short})` : `fast-forward ${to} ${preview.toSha.slice(0, 7)} → ${short}`;
  return {
    id: 'git',
    title: `Promote ${from} → ${to} on ${remote}`,
    describe: () => [
      `would ${how}: ${preview.commits.length} commit${preview.commits.length === 1 ? '' : 's'}`,
      `would run: git push --porcelain -- ${remote} ${sha}:refs/heads/${to}   (never forced; refused if ${remote}/${to} moved)`,
      `then local ${to} follows when it can (never touching uncommitted work)`,
    ],
    async run(ctx) {
      const { pushPromotion } = await import('../git/promote.js');
      ctx.intent(mergeCommit ? 'merge' : 'push', { remote, branch: to, sha, from: preview.toSha });
      const result = await pushPromotion({ ...options, signal: ctx.signal, onEvent: (event) => ctx.progress(describeGitEvent(event)) }, prepared);
      ctx.outcome(mergeCommit ? 'merge' : 'push', true, { branch: to, sha: result.toSha });
      onPushed(result);
      if (result.local.kind === 'skipped') ctx.warn(`local ${to} not updated: ${result.local.reason} (${result.local.hint})`);
      return {
        summary: `${remote}/${to} ${result.previousToSha.slice(0, 7)} → ${result.toSha.slice(0, 7)} (${mergeCommit ? 'merge' : 'fast-forward'}, ${result.commits.length} commit${result.commits.length === 1 ? '' : 's'})`,
      };
    },
  };
}
