import type { EnvironmentTarget } from '../../config/resolve.js';
import { PreflightError, UsageError } from '../../errors.js';
import { remoteHeads } from '../../git/repo.js';
import { durationProblem, parseDuration } from '../../util/duration.js';
import type { Project } from './project.js';

/**
 * The commit `iac up` deploys: the local branch head; without a local branch (e.g. after
 * `promote --no-deploy` in a clone that never checked out main) the remote-tracking head.
 */
export async function headToDeploy(project: Project, target: EnvironmentTarget): Promise<string> {
  // The checked-out branch's head was read when the repository was opened: no second git call.
  if (target.branch === project.repo.startBranch && project.repo.startHead !== undefined) return project.repo.startHead;
  const local = await project.repo.resolve(`refs/heads/${target.branch}`);
  if (local !== undefined) return local;
  const tracking = await project.repo.resolve(`refs/remotes/${target.remote}/${target.branch}`);
  if (tracking !== undefined) return tracking;
  const { branch, remote } = target;
  // The hint must work as printed: fetch only when the remote has the branch.
  const onRemote = await remoteHeads(project.repo.cwd, remote, [branch]).then((heads) => heads.has(branch), () => false);
  const hint = onRemote
    ? `git fetch ${remote}`
    : project.currentBranch === branch
      ? `git commit --allow-empty -m "Start ${branch}"   # ${branch} has no commit yet`
      : `git branch ${branch}   # start ${branch} at your current commit`;
  throw new PreflightError('git.no-branch', `environment ${target.name} deploys branch "${branch}", which has no commit here${onRemote ? ` (${remote} has it: fetch it)` : ` or on ${remote}`}`, { hint });
}

/** `--timeout <duration>` as milliseconds (a usage error when it is not a duration). */
export function parseTimeoutFlag(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const problem = durationProblem(text);
  if (problem !== undefined) throw new UsageError('usage.timeout', `--timeout ${text}: ${problem}`, { hint: 'e.g. --timeout 10m' });
  return parseDuration(text) as number;
}
