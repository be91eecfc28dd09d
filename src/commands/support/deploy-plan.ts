import { bindRun, resolveTarget, type EnvironmentTarget, type ResolvedEnvironment, type Section } from '../../config/resolve.js';
import { BranchGuard } from '../../git/branch-guard.js';
import { pushPlan } from '../../git/push.js';
import { buildOf, readHistory, resumable, type RunSummary } from '../../journal/history.js';
import type { Plan, RunGuard, SkippedStep, Step, StepId } from '../../pipeline/types.js';
import { SECRET_NAME } from '../../util/redact.js';
import { ansibleStep } from '../../steps/ansible-run.js';
import { gitPushStep } from '../../steps/git-push.js';
import { jenkinsBuildStep } from '../../steps/jenkins-build.js';
import { rolloutStep } from '../../steps/rollout.js';
import { selectSteps } from '../../steps/select.js';
import type { CommandContext } from '../context.js';
import type { Project } from './project.js';
import { headToDeploy, parseTimeoutFlag } from './run-commit.js';

export interface DeployPlan {
  plan: Plan;
  env: ResolvedEnvironment;
  target: EnvironmentTarget;
  /** The unfinished earlier run of the same commit this run resumes. */
  resume?: RunSummary;
}

export interface DeployOptions {
  command: string;
  /** The run's commit when the caller bound it (promote: the commit it promotes); else the branch head, read once here. */
  sha?: string;
  /** A step that takes the place of the git push (promote's merge-and-push); `null`: no git step (rollback). */
  gitStep?: Step | null;
  /** Look for an earlier run of this commit that did not finish, to pick up where it stopped (`iac up`). */
  resumable?: boolean;
  /** The Ansible syntax check of `sha`, started by the caller as soon as it bound the commit. */
  syntaxChecked?: Promise<void>;
}

const SECTION_OF: Record<Exclude<StepId, 'git'>, Section> = { jenkins: 'jenkins', ansible: 'ansible', rollout: 'kubernetes' };

/**
 * One run of the deploy pipeline for an environment, bound to one commit: the SHA is resolved once
 * here and every step — the push refspec, the Jenkins parameters and revision check, the Ansible
 * extra vars and checkout, the rollout's revision check — uses that SHA. Read-only: building a plan
 * never touches the network or the repository.
 */
export async function buildDeployPlan(ctx: CommandContext, project: Project, envName: string, options: DeployOptions): Promise<DeployPlan> {
  const { loaded } = project;
  const timeoutMs = parseTimeoutFlag(ctx.options.timeout);
  const target = resolveTarget(loaded, envName, { env: ctx.env, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
  const sha = options.sha ?? (await headToDeploy(project, target));
  const resume = options.resumable ? resumable(readHistory(loaded.dir), envName, sha) : undefined;
  const selected = selectSteps(ctx.options.only, ctx.options.skip);
  const present: Record<Exclude<StepId, 'git'>, boolean> = {
    jenkins: target.jenkins !== undefined,
    ansible: target.ansible !== undefined,
    rollout: target.kubernetes !== undefined,
  };
  const runs = (id: Exclude<StepId, 'git'>): boolean => selected.has(id) && present[id];
  const sections = (['jenkins', 'ansible', 'rollout'] as const).filter(runs).map((id) => SECTION_OF[id]);
  const env = bindRun(loaded, target, sha, { env: ctx.env, sections });
  // A parameter or extra var under a secret-looking name is masked wherever it would be shown.
  for (const [key, value] of [...Object.entries(env.jenkins?.parameters ?? {}), ...Object.entries(env.ansible?.extraVars ?? {})]) {
    if (SECRET_NAME.test(key) && typeof value === 'string') ctx.output.redactor.add(value);
  }

  const steps: Step[] = [];
  const skipped: SkippedStep[] = [];
  const skipReason = (id: StepId): string => (ctx.options.only !== undefined && !selected.has(id) ? 'not in --only' : 'in --skip');
  if (options.gitStep) steps.push(options.gitStep);
  else if (options.gitStep === null) skipped.push({ id: 'git', reason: 'no branch moves' });
  else if (!selected.has('git')) skipped.push({ id: 'git', reason: skipReason('git') });
  else steps.push(gitPushStep(env.projectDir, await pushPlan({ cwd: env.projectDir, remote: env.remote, branch: env.branch, sha })));

  for (const id of ['jenkins', 'ansible', 'rollout'] as const) {
    if (!selected.has(id)) skipped.push({ id, reason: skipReason(id) });
    else if (!present[id]) skipped.push({ id, reason: `environment ${envName} has no ${SECTION_OF[id]} section` });
    else if (id === 'jenkins') {
      const resumeBuild = resume !== undefined && ctx.options.rebuild !== true ? buildOf(resume)?.number : undefined;
      steps.push(
        jenkinsBuildStep(env, env.jenkins as NonNullable<ResolvedEnvironment['jenkins']>, {
          cancelOnInterrupt: ctx.options.cancelOnInterrupt === true,
          env: ctx.env,
          secret: (value) => ctx.output.redactor.add(value),
          redactor: ctx.output.redactor,
          ...(resumeBuild !== undefined ? { resumeBuild } : {}),
        }),
      );
    } else if (id === 'ansible') {
      steps.push(ansibleStep(env, env.ansible as NonNullable<ResolvedEnvironment['ansible']>, { followedByRollout: runs('rollout'), ...(options.syntaxChecked ? { syntaxChecked: options.syntaxChecked } : {}) }));
    } else {
      steps.push(rolloutStep(env, { createdEarlier: steps.some((s) => s.id === 'ansible') }));
    }
  }

  const guard = branchGuard(env, options.gitStep === undefined ? () => project.repo.resolve(`refs/heads/${env.branch}`) : undefined);
  return { env, target, ...(resume ? { resume } : {}), plan: { command: options.command, environment: envName, branch: env.branch, sha, steps, skipped, guard } };
}

/** The run deploys its bound commit; the branch moving meanwhile is reported, never followed. */
function branchGuard(env: ResolvedEnvironment, localHead: (() => Promise<string | undefined>) | undefined): RunGuard {
  const guard = new BranchGuard({
    cwd: env.projectDir,
    remote: env.remote,
    branch: env.branch,
    sha: env.sha,
    environment: env.name,
    ...(localHead ? { localHead } : {}),
  });
  // After the deploy, the rollout only waits: the final check asks the remote as that wait begins and
  // is judged at the end, costing the run no time of its own. After any other last step it asks then.
  let finalCheck: Promise<void> | undefined;
  return {
    start: (signal) => guard.start(signal),
    beforeStep: (id, signal) => (id === 'ansible' ? guard.assertRemoteUnmoved('before-deploy', signal) : Promise.resolve()),
    lastStepStarted(id, signal) {
      if (id !== 'rollout') return;
      finalCheck = guard.assertRemoteUnmoved('after-deploy', signal);
      finalCheck.catch(() => undefined);
    },
    async afterSteps(signal) {
      await (finalCheck ?? guard.assertRemoteUnmoved('after-deploy', signal));
      const moved = await guard.localMoved();
      return moved === undefined ? [] : [moved];
    },
  };
}
