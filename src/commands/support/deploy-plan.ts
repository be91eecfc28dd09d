import { resolveEnvironment, type ResolvedEnvironment } from '../../config/resolve.js';
import { PreflightError, UsageError } from '../../errors.js';
import { pushPlan } from '../../git/push.js';
import type { Plan, SkippedStep, Step, StepId } from '../../pipeline/types.js';
import { parseDuration } from '../../util/duration.js';
import { SECRET_NAME } from '../../util/redact.js';
import { ansibleStep } from '../../steps/ansible-run.js';
import { gitPushStep } from '../../steps/git-push.js';
import { jenkinsBuildStep } from '../../steps/jenkins-build.js';
import { rolloutStep } from '../../steps/rollout.js';
import { selectSteps } from '../../steps/select.js';
import type { CommandContext } from '../context.js';
import type { Project } from './project.js';

export interface DeployPlan {
  plan: Plan;
  env: ResolvedEnvironment;
}

/**
 * The `up` pipeline for one environment, fully resolved: the exact SHA (head of the environment's
 * local branch), the push refspec, the Jenkins URL and parameters, the ansible-playbook argv and the
 * workloads. Read-only: building a plan never touches the network or the repository.
 */
export interface DeployOverrides {
  /** Deploy this commit instead of the local branch head (promote: the SHA it just pushed). */
  sha?: string;
  /** The git step already happened elsewhere (promote pushed); say why it is skipped. */
  gitDoneReason?: string;
}

export async function buildDeployPlan(
  ctx: CommandContext,
  project: Project,
  envName: string,
  command: string,
  overrides: DeployOverrides = {},
): Promise<DeployPlan> {
  const { loaded } = project;
  const branch = loaded.config.environments[envName]?.branch as string;
  const sha = overrides.sha ?? (await project.repo.resolve(`refs/heads/${branch}`));
  if (!sha) {
    throw new PreflightError('git.no-branch', `environment ${envName} deploys branch "${branch}", which does not exist locally`, {
      hint: `git fetch ${loaded.config.git?.remote ?? 'origin'} && git switch ${branch}`,
    });
  }
  const timeoutMs = parseTimeoutFlag(ctx.options.timeout);
  const env = resolveEnvironment(loaded, envName, { sha, env: ctx.env, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
  const selected = selectSteps(ctx.options.only, ctx.options.skip);
  // A parameter or extra var under a secret-looking name is masked wherever it would be shown.
  for (const [key, value] of [...Object.entries(env.jenkins?.parameters ?? {}), ...Object.entries(env.ansible?.extraVars ?? {})]) {
    if (SECRET_NAME.test(key) && typeof value === 'string') ctx.output.redactor.add(value);
  }

  const steps: Step[] = [];
  const skipped: SkippedStep[] = [];
  const consider = (id: StepId, present: boolean, make: () => Step | Promise<Step>): Promise<void> | void => {
    if (!selected.has(id)) {
      skipped.push({ id, reason: ctx.options.only !== undefined ? 'not in --only' : 'in --skip' });
      return;
    }
    if (!present) {
      skipped.push({ id, reason: `environment ${envName} has no ${id === 'rollout' ? 'kubernetes' : id} section` });
      return;
    }
    return Promise.resolve(make()).then((step) => void steps.push(step));
  };

  if (overrides.gitDoneReason !== undefined) skipped.push({ id: 'git', reason: overrides.gitDoneReason });
  else await consider('git', true, async () => gitPushStep(env.projectDir, await pushPlan({ cwd: env.projectDir, remote: env.remote, branch: env.branch })));
  await consider('jenkins', env.jenkins !== undefined, () =>
    jenkinsBuildStep(env, env.jenkins as NonNullable<ResolvedEnvironment['jenkins']>, {
      cancelOnInterrupt: ctx.options.cancelOnInterrupt === true,
      env: ctx.env,
      secret: (value) => ctx.output.redactor.add(value),
    }),
  );
  await consider('ansible', env.ansible !== undefined, () =>
    ansibleStep(env, env.ansible as NonNullable<ResolvedEnvironment['ansible']>, ctx.options.verbose === true),
  );
  await consider('rollout', env.kubernetes !== undefined, () =>
    rolloutStep(env.kubernetes as NonNullable<ResolvedEnvironment['kubernetes']>, { createdEarlier: steps.some((s) => s.id === 'ansible') }),
  );

  return { env, plan: { command, environment: envName, branch: env.branch, sha: env.sha, steps, skipped } };
}

function parseTimeoutFlag(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms === undefined) throw new UsageError('usage.timeout', `--timeout ${text}: expected a duration such as 90s, 10m or 1h`);
  return ms;
}
