import { isAbsolute, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { parseDuration } from '../util/duration.js';
import { didYouMean } from '../util/suggest.js';
import { interpolateDeep, interpolateString, type InterpolationValues } from './interpolate.js';
import type { LoadedConfig } from './load.js';
import type { Ec2Discovery, EnvironmentConfig, RawConfig } from './schema.js';

export const DEFAULT_ROLLOUT_TIMEOUT_MS = 5 * 60_000;
export const DEFAULT_CRASHLOOP_GRACE_MS = 60_000;
export const DEFAULT_POLL_INTERVAL_MS = 1000;

/** An environment with every `${...}` resolved, every path absolute and every duration in ms. */
export interface ResolvedEnvironment {
  name: string;
  project: string;
  projectDir: string;
  branch: string;
  remote: string;
  sha: string;
  confirm: boolean;
  promoteFrom?: string;
  jenkins?: {
    url: string;
    job: string;
    multibranch: boolean;
    parameters: Record<string, string>;
    pollIntervalMs: number;
    allowInsecureHttp: boolean;
  };
  ansible?: {
    playbook: string;
    inventory: string[] | { ec2: Ec2Discovery };
    limit?: string;
    tags?: string[];
    skipTags?: string[];
    extraVars: Record<string, unknown>;
    /** Names → environment variable names; read only when the step runs, so dry-run never holds secrets. */
    secretExtraVars: Record<string, string>;
    check: boolean;
  };
  kubernetes?: {
    kubeconfig?: string;
    context?: string;
    namespace: string;
    workloads: string[];
    timeoutMs: number;
    crashLoopGraceMs: number;
    revisionAnnotation?: string;
  };
  aws?: { region?: string; profile?: string; endpoint?: string; tags: Record<string, string> };
}

/**
 * Which environment a command means: the name given (an environment or its branch), else the one
 * whose branch is checked out.
 */
export function resolveEnvironmentName(config: RawConfig, requested: string | undefined, currentBranch: string | undefined): string {
  const names = Object.keys(config.environments);
  if (requested !== undefined) {
    if (config.environments[requested]) return requested;
    const byBranch = names.find((name) => config.environments[name]?.branch === requested);
    if (byBranch) return byBranch;
    throw new UsageError('config.unknown-environment', `unknown environment "${requested}"${didYouMean(requested, names)}; known: ${names.join(', ')}`, {
      hint: 'name an environment of iac.yaml, or the branch it deploys',
    });
  }
  const byBranch = names.find((name) => config.environments[name]?.branch === currentBranch);
  if (byBranch) return byBranch;
  const branchText = currentBranch === undefined ? 'a detached HEAD' : `branch "${currentBranch}"`;
  throw new UsageError('config.no-environment', `no environment deploys ${branchText}; known: ${describeEnvironments(config)}`, {
    hint: `name one (e.g. ${names[0] ?? 'dev'}), or check out its branch`,
  });
}

export function describeEnvironments(config: RawConfig): string {
  return Object.entries(config.environments)
    .map(([name, env]) => `${name} (${env.branch})`)
    .join(', ');
}

export interface ResolveOptions {
  /** The commit to deploy: the head of the environment's branch. */
  sha: string;
  env?: NodeJS.ProcessEnv;
  /** `--timeout` overrides the rollout deadline. */
  timeoutMs?: number;
}

export function resolveEnvironment(loaded: LoadedConfig, name: string, options: ResolveOptions): ResolvedEnvironment {
  const { config, dir } = loaded;
  const env = config.environments[name] as EnvironmentConfig;
  const values: InterpolationValues = {
    git: { sha: options.sha, branch: env.branch },
    branch: env.branch,
    project: config.project,
    environment: name,
    env: options.env ?? process.env,
  };
  const where = (suffix: string): string => `environments.${name}.${suffix}`;
  const abs = (path: string): string => (isAbsolute(path) ? path : resolve(dir, path));
  const resolved: ResolvedEnvironment = {
    name,
    project: config.project,
    projectDir: dir,
    branch: env.branch,
    remote: config.git?.remote ?? 'origin',
    sha: options.sha,
    confirm: env.confirm ?? false,
  };
  if (env.promoteFrom !== undefined) resolved.promoteFrom = env.promoteFrom;

  if (env.jenkins) {
    const url = env.jenkins.url ?? config.jenkins?.url ?? '';
    resolved.jenkins = {
      url: url.endsWith('/') ? url : `${url}/`,
      job: interpolateString(env.jenkins.job, values, where('jenkins.job')),
      multibranch: env.jenkins.multibranch ?? false,
      parameters: Object.fromEntries(
        Object.entries(env.jenkins.parameters ?? {}).map(([key, value]) => [
          key,
          interpolateString(String(value), values, where(`jenkins.parameters.${key}`)),
        ]),
      ),
      pollIntervalMs: parseDuration(env.jenkins.pollInterval ?? '') ?? DEFAULT_POLL_INTERVAL_MS,
      allowInsecureHttp: config.jenkins?.allowInsecureHttp ?? false,
    };
  }

  if (env.ansible) {
    const inventory = env.ansible.inventory;
    resolved.ansible = {
      playbook: abs(interpolateString(env.ansible.playbook, values, where('ansible.playbook'))),
      inventory:
        typeof inventory === 'string'
          ? [inventoryPath(interpolateString(inventory, values, where('ansible.inventory')), abs)]
          : Array.isArray(inventory)
            ? inventory.map((item, i) => inventoryPath(interpolateString(item, values, where(`ansible.inventory[${i}]`)), abs))
            : { ec2: interpolateDeep(inventory.ec2, values, where('ansible.inventory.ec2')) },
      extraVars: interpolateDeep(env.ansible.extraVars ?? {}, values, where('ansible.extraVars')),
      secretExtraVars: Object.fromEntries(
        Object.entries(env.ansible.secretExtraVars ?? {}).map(([key, ref]) => [key, /env\.([A-Za-z0-9_]+)/.exec(ref)?.[1] ?? key]),
      ),
      check: env.ansible.check ?? false,
    };
    if (env.ansible.limit !== undefined) resolved.ansible.limit = interpolateString(env.ansible.limit, values, where('ansible.limit'));
    if (env.ansible.tags !== undefined) resolved.ansible.tags = env.ansible.tags;
    if (env.ansible.skipTags !== undefined) resolved.ansible.skipTags = env.ansible.skipTags;
  }

  if (env.kubernetes) {
    const k = env.kubernetes;
    resolved.kubernetes = {
      namespace: interpolateString(k.namespace, values, where('kubernetes.namespace')),
      workloads: k.workloads,
      timeoutMs: options.timeoutMs ?? parseDuration(k.timeout ?? '') ?? DEFAULT_ROLLOUT_TIMEOUT_MS,
      crashLoopGraceMs: parseDuration(k.crashLoopGrace ?? '') ?? DEFAULT_CRASHLOOP_GRACE_MS,
    };
    if (k.kubeconfig !== undefined) resolved.kubernetes.kubeconfig = abs(interpolateString(k.kubeconfig, values, where('kubernetes.kubeconfig')));
    if (k.context !== undefined) resolved.kubernetes.context = interpolateString(k.context, values, where('kubernetes.context'));
    if (k.revisionAnnotation !== undefined) resolved.kubernetes.revisionAnnotation = k.revisionAnnotation;
  }

  if (env.aws) resolved.aws = interpolateDeep(env.aws, values, where('aws'));
  return resolved;
}

/** Inventory entries are paths unless they are Ansible's inline host lists ("host1,host2,"). */
function inventoryPath(entry: string, abs: (path: string) => string): string {
  return entry.includes(',') ? entry : abs(entry);
}
