import { GitStepError } from '../errors.js';
import { remoteHeads } from './repo.js';

/**
 * Watches the environment's branch while a run deploys one bound commit. The run never follows a
 * branch that moves: it reports it. A remote branch moved by someone else (a promote, a teammate's
 * push) means the run would leave the environment on an older commit than its branch: that fails the
 * run (exit 10) before the deploy, or at the end. A local branch that moved (a commit made while the
 * run was under way) is only said: that commit was never pushed by this run.
 */
export class BranchGuard {
  private atStart: Promise<string | undefined> | undefined;

  constructor(
    private readonly options: {
      cwd: string;
      remote: string;
      branch: string;
      /** The run's commit. */
      sha: string;
      environment: string;
      /** Reads the local branch's SHA now, when the run's commit came from it (not for promote). */
      localHead?: () => Promise<string | undefined>;
    },
  ) {}

  /** Notes where the remote branch is when the run starts (call before anything is pushed). */
  start(signal?: AbortSignal): Promise<void> {
    this.atStart = this.remoteHead(signal).catch(() => undefined);
    return this.atStart.then(() => undefined);
  }

  private async remoteHead(signal?: AbortSignal): Promise<string | undefined> {
    const { cwd, remote, branch } = this.options;
    return (await remoteHeads(cwd, remote, [branch], signal)).get(branch);
  }

  /**
   * Throws when the remote branch now points at a commit that is neither where it was when the run
   * started nor the run's own. An unreachable remote is not a verdict: the run goes on.
   */
  async assertRemoteUnmoved(when: 'before-deploy' | 'after-deploy', signal?: AbortSignal): Promise<void> {
    const { remote, branch, sha, environment } = this.options;
    const start = await this.atStart;
    let now: string | undefined;
    try {
      now = await this.remoteHead(signal);
    } catch {
      return;
    }
    if (now === undefined || now === sha || now === start) return;
    const short = (s: string): string => s.slice(0, 7);
    const message =
      when === 'before-deploy'
        ? `${remote}/${branch} moved to ${short(now)} during this run: not deploying the older ${short(sha)} to ${environment}`
        : `${remote}/${branch} moved to ${short(now)} during this run: ${environment} now runs ${short(sha)}, not the newest ${branch}`;
    throw new GitStepError('git.branch-moved', message, {
      hint: `iac up ${environment}`,
      details: [`someone pushed ${remote}/${branch} while iac deployed ${short(sha)}; deploy the branch as it is now with the hint below`],
    });
  }

  /** A warning when the local branch moved past the run's commit (that commit is not deployed). */
  async localMoved(): Promise<string | undefined> {
    const { branch, sha, environment } = this.options;
    const now = await this.options.localHead?.().catch(() => undefined);
    if (now === undefined || now === sha) return undefined;
    return `${branch} moved to ${now.slice(0, 7)} during this run; this run deployed ${sha.slice(0, 7)} — \`iac up ${environment}\` deploys the new commit`;
  }
}
