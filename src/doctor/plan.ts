/** Which checks the configuration needs: project-wide ones first, then each environment's, in pipeline order. */
import type { LoadedConfig } from '../config/load.js';
import { resolveTarget, type EnvironmentTarget } from '../config/resolve.js';
import { ec2DiscoveryOf } from '../steps/inventory-source.js';
import { ansibleToolCheck, inventoryCheck, secretVarsCheck, syntaxCheck } from './ansible-checks.js';
import { awsChecks } from './aws-checks.js';
import { gitChecks } from './git-checks.js';
import { jenkinsChecks } from './jenkins-checks.js';
import { kubeChecks } from './kube-checks.js';
import { fail, pass, type CheckSpec, type ProbeContext } from './types.js';

export interface DoctorPlanOptions extends ProbeContext {
  loaded: LoadedConfig;
  /** One environment, or all. */
  only?: string;
  env: NodeJS.ProcessEnv;
  secret: (value: string) => void;
}

/** An environment resolved for checking: `${env.X}` that are unset become a check, not an exception. */
interface CheckedEnvironment {
  resolved: EnvironmentTarget;
  envVarsRead: string[];
  envVarsMissing: string[];
}

function resolveForDoctor(loaded: LoadedConfig, name: string, env: NodeJS.ProcessEnv): CheckedEnvironment {
  const resolved = resolveTarget(loaded, name, { env });
  const missing = [...new Set([...Object.values(resolved.needs).flat(), ...resolved.unsetForRuns])];
  return { resolved, envVarsRead: resolved.envVarsRead, envVarsMissing: missing };
}

function envVarsCheck(envName: string, checked: CheckedEnvironment): CheckSpec {
  return {
    id: 'config.env',
    env: envName,
    label: 'environment variables',
    run: async () =>
      checked.envVarsMissing.length > 0
        ? fail(`iac.yaml reads unset ${checked.envVarsMissing.join(', ')}`, `export ${checked.envVarsMissing.map((n) => `${n}=…`).join(' ')}`)
        : pass(`${checked.envVarsRead.join(', ')} set`),
  };
}

export function doctorChecks(options: DoctorPlanOptions): CheckSpec[] {
  const { loaded } = options;
  const names = Object.keys(loaded.config.environments).filter((name) => options.only === undefined || name === options.only);
  const envs = names.map((name) => resolveForDoctor(loaded, name, options.env));
  const remote = loaded.config.git?.remote ?? 'origin';
  const git = gitChecks(loaded.dir, remote, envs.map((e) => e.resolved.branch), options);

  const projectWide: CheckSpec[] = [git.repo, git.remote];
  const ansibleTool = envs.some((e) => e.resolved.ansible !== undefined) ? ansibleToolCheck() : undefined;
  if (ansibleTool) projectWide.push(ansibleTool);

  const perEnvironment = envs.flatMap((checked): CheckSpec[] => {
    const env = checked.resolved;
    const specs: CheckSpec[] = [git.branch(env.name, env.branch)];
    if (checked.envVarsRead.length > 0) specs.push(envVarsCheck(env.name, checked));
    if (env.ansible && ansibleTool) {
      const inventory = inventoryCheck(env.name, env.projectDir, env.ansible);
      specs.push(inventory, syntaxCheck(env.name, env.projectDir, env.ansible, [ansibleTool, inventory]));
      if (Object.keys(env.ansible.secretExtraVars).length > 0) specs.push(secretVarsCheck(env.name, env.ansible, options.env));
    }
    if (env.jenkins) specs.push(...jenkinsChecks(env.name, env.branch, env.jenkins, options));
    if (env.kubernetes) specs.push(...kubeChecks(env.name, env.kubernetes));
    const discovery = ec2DiscoveryOf(env);
    if (discovery) specs.push(...awsChecks(env.name, discovery, options.env, options));
    return specs;
  });
  return [...projectWide, ...perEnvironment];
}
