import { isAbsolute, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { parseDuration } from '../util/duration.js';
import { didYouMean } from '../util/suggest.js';
import { envReferences, interpolateDeep, interpolateString, type InterpolationValues } from './interpolate.js';
import type { LoadedConfig } from './load.js';
import type { Ec2Discovery, EnvironmentConfig, RawConfig } from './schema.js';

export const DEFAULT_ROLLOUT_TIMEOUT_MS = 5 * 60_000;
export const DEFAULT_CRASHLOOP_GRACE_MS = 60_000;
export const DEFAULT_POLL_INTERVAL_MS = 1000;

/** The parts of an environment that read `${env.NAME}` and can be unusable on their own. */
export type Section = 'jenkins' | 'ansible' | 'kubernetes' | 'aws';

/**
 * An environment as configured, with no commit in it: what `status`, `doctor`, `inventory` and the
 * promote preview need. Every path is absolute and every duration in ms. A section that reads an unset
 * environment variable keeps the `${env.NAME}` text and lists the name in `needs`: only a command
 * that uses that section fails (see {@link requireSection}).
 */
export interface EnvironmentTarget {
  name: string;
  project: string;
  projectDir: string;
  branch: string;
  remote: string;
  confirm: boolean;
  promoteFrom?: string;
  jenkins?: {
    url: string;
    job: string;
    multibranch: boolean;
    pollIntervalMs: number;
    /** Unset: the adapter's default (30 min). */
    queueTimeoutMs?: number;
    allowInsecureHttp: boolean;
  };
  ansible?: {
    playbook: string;
    inventory: string[] | { ec2: Ec2Discovery };
    limit?: string;
    tags?: string[];
    skipTags?: string[];
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
  /** Unset environment variables per section (a section listed here cannot be used yet). */
  needs: Partial<Record<Section, string[]>>;
  /** Every environment variable the environment reads (set or not), for `iac doctor`. */
  envVarsRead: string[];
  /** Unset variables of the Jenkins parameters and Ansible extra vars: only a run binding them fails. */
  unsetForRuns: string[];
}

/**
 * One run's environment: the target bound to the one commit the run deploys. The Jenkins parameters
 * and Ansible extra vars (the only places `${git.sha}` may appear) are resolved for that commit.
 */
export interface ResolvedEnvironment extends Omit<EnvironmentTarget, 'jenkins' | 'ansible'> {
  sha: string;
  jenkins?: NonNullable<EnvironmentTarget['jenkins']> & { parameters: Record<string, string> };
  ansible?: NonNullable<EnvironmentTarget['ansible']> & { extraVars: Record<string, unknown> };
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

export interface TargetOptions {
  env?: NodeJS.ProcessEnv;
  /** `--timeout` overrides the rollout deadline. */
  timeoutMs?: number;
}

/** Interpolation values for one environment; `sha` only when a run has bound one. */
function valuesFor(config: RawConfig, name: string, env: EnvironmentConfig, processEnv: NodeJS.ProcessEnv, sha?: string): InterpolationValues {
  return {
    git: { branch: env.branch, ...(sha !== undefined ? { sha } : {}) },
    branch: env.branch,
    project: config.project,
    environment: name,
    env: processEnv,
  };
}

export function resolveTarget(loaded: LoadedConfig, name: string, options: TargetOptions = {}): EnvironmentTarget {
  const { config, dir } = loaded;
  const env = config.environments[name] as EnvironmentConfig;
  const processEnv = options.env ?? process.env;
  const read = new Set<string>();
  const needs: Partial<Record<Section, string[]>> = {};
  // Each section collects its own unset variables, so one missing value blinds only its section.
  const section = (id: Section): { values: InterpolationValues; done: () => void } => {
    const missing = new Set<string>();
    const values = { ...valuesFor(config, name, env, processEnv), missing, read };
    return { values, done: () => void (missing.size > 0 && (needs[id] = [...missing])) };
  };
  const where = (suffix: string): string => `environments.${name}.${suffix}`;
  const abs = (path: string): string => (isAbsolute(path) ? path : resolve(dir, path));
  const target: EnvironmentTarget = {
    name,
    project: config.project,
    projectDir: dir,
    branch: env.branch,
    remote: config.git?.remote ?? 'origin',
    confirm: env.confirm ?? false,
    needs,
    envVarsRead: [],
    unsetForRuns: [],
  };
  const forRuns = new Set<string>();
  if (env.promoteFrom !== undefined) target.promoteFrom = env.promoteFrom;

  if (env.jenkins) {
    const { values, done } = section('jenkins');
    const url = env.jenkins.url ?? config.jenkins?.url ?? '';
    target.jenkins = {
      url: url.endsWith('/') ? url : `${url}/`,
      job: interpolateString(env.jenkins.job, values, where('jenkins.job')),
      multibranch: env.jenkins.multibranch ?? false,
      pollIntervalMs: parseDuration(env.jenkins.pollInterval ?? '') ?? DEFAULT_POLL_INTERVAL_MS,
      allowInsecureHttp: config.jenkins?.allowInsecureHttp ?? false,
    };
    if (env.jenkins.queueTimeout !== undefined) target.jenkins.queueTimeoutMs = parseDuration(env.jenkins.queueTimeout) as number;
    // Parameters are resolved when a run binds its commit; their variables still count as read.
    noteEnvReferences(env.jenkins.parameters, processEnv, read, forRuns);
    done();
  }

  if (env.ansible) {
    const { values, done } = section('ansible');
    const inventory = env.ansible.inventory;
    target.ansible = {
      playbook: abs(interpolateString(env.ansible.playbook, values, where('ansible.playbook'))),
      inventory:
        typeof inventory === 'string'
          ? [inventoryPath(interpolateString(inventory, values, where('ansible.inventory')), abs)]
          : Array.isArray(inventory)
            ? inventory.map((item, i) => inventoryPath(interpolateString(item, values, where(`ansible.inventory[${i}]`)), abs))
            : { ec2: interpolateDeep(inventory.ec2, values, where('ansible.inventory.ec2')) },
      secretExtraVars: Object.fromEntries(
        Object.entries(env.ansible.secretExtraVars ?? {}).map(([key, ref]) => [key, /env\.([A-Za-z0-9_]+)/.exec(ref)?.[1] ?? key]),
      ),
      check: env.ansible.check ?? false,
    };
    if (env.ansible.limit !== undefined) target.ansible.limit = interpolateString(env.ansible.limit, values, where('ansible.limit'));
    if (env.ansible.tags !== undefined) target.ansible.tags = env.ansible.tags;
    if (env.ansible.skipTags !== undefined) target.ansible.skipTags = env.ansible.skipTags;
    noteEnvReferences(env.ansible.extraVars, processEnv, read, forRuns);
    done();
  }

  if (env.kubernetes) {
    const { values, done } = section('kubernetes');
    const k = env.kubernetes;
    target.kubernetes = {
      namespace: interpolateString(k.namespace, values, where('kubernetes.namespace')),
      workloads: k.workloads,
      timeoutMs: options.timeoutMs ?? parseDuration(k.timeout ?? '') ?? DEFAULT_ROLLOUT_TIMEOUT_MS,
      crashLoopGraceMs: parseDuration(k.crashLoopGrace ?? '') ?? DEFAULT_CRASHLOOP_GRACE_MS,
    };
    if (k.kubeconfig !== undefined) target.kubernetes.kubeconfig = abs(interpolateString(k.kubeconfig, values, where('kubernetes.kubeconfig')));
    if (k.context !== undefined) target.kubernetes.context = interpolateString(k.context, values, where('kubernetes.context'));
    if (k.revisionAnnotation !== undefined) target.kubernetes.revisionAnnotation = k.revisionAnnotation;
    done();
  }

  if (env.aws) {
    const { values, done } = section('aws');
    target.aws = interpolateDeep(env.aws, values, where('aws'));
    done();
  }
  target.envVarsRead = [...read];
  target.unsetForRuns = [...forRuns];
  return target;
}

const SECTION_KEYS: Record<Section, string> = { jenkins: 'jenkins', ansible: 'ansible', kubernetes: 'kubernetes', aws: 'aws' };

/** The error for a section that reads unset environment variables; undefined when it is usable. */
export function sectionProblem(target: EnvironmentTarget, section: Section): UsageError | undefined {
  const missing = target.needs[section];
  if (missing === undefined || missing.length === 0) return undefined;
  const names = missing.join(', ');
  return new UsageError(
    'config.env-missing',
    `environments.${target.name}.${SECTION_KEYS[section]}: environment variable${missing.length === 1 ? '' : 's'} ${names} ${missing.length === 1 ? 'is' : 'are'} not set`,
    { hint: `export ${missing.map((n) => `${n}=...`).join(' ')} before running iac` },
  );
}

/** Throws when a section the command needs reads an unset environment variable. */
export function requireSection(target: EnvironmentTarget, section: Section): void {
  const problem = sectionProblem(target, section);
  if (problem) throw problem;
}

/**
 * Binds a target to the run's commit: the sections the run uses must be fully resolved, and the
 * Jenkins parameters and Ansible extra vars are interpolated with that one SHA.
 */
export function bindRun(loaded: LoadedConfig, target: EnvironmentTarget, sha: string, options: { env?: NodeJS.ProcessEnv; sections: Section[] }): ResolvedEnvironment {
  for (const section of options.sections) requireSection(target, section);
  const env = loaded.config.environments[target.name] as EnvironmentConfig;
  const values = valuesFor(loaded.config, target.name, env, options.env ?? process.env, sha);
  const where = (suffix: string): string => `environments.${target.name}.${suffix}`;
  const { jenkins, ansible, ...rest } = target;
  const bound: ResolvedEnvironment = { ...rest, sha };
  if (jenkins && options.sections.includes('jenkins')) {
    bound.jenkins = {
      ...jenkins,
      parameters: Object.fromEntries(
        Object.entries(env.jenkins?.parameters ?? {}).map(([key, value]) => [key, interpolateString(String(value), values, where(`jenkins.parameters.${key}`))]),
      ),
    };
  }
  if (ansible && options.sections.includes('ansible')) {
    bound.ansible = { ...ansible, extraVars: interpolateDeep(env.ansible?.extraVars ?? {}, values, where('ansible.extraVars')) };
  }
  return bound;
}

/** Target and binding in one step (tests, and callers that bind every section at once). */
export function resolveEnvironment(loaded: LoadedConfig, name: string, options: TargetOptions & { sha: string }): ResolvedEnvironment {
  const target = resolveTarget(loaded, name, options);
  const sections = (['jenkins', 'ansible', 'kubernetes', 'aws'] as const).filter((s) => target[s] !== undefined);
  return bindRun(loaded, target, options.sha, { ...(options.env ? { env: options.env } : {}), sections });
}

/** Records the environment variables a value will read when a run binds it, without resolving it. */
function noteEnvReferences(value: unknown, env: NodeJS.ProcessEnv, read: Set<string>, unset: Set<string>): void {
  const visit = (item: unknown): void => {
    if (typeof item === 'string') {
      for (const name of envReferences(item)) {
        read.add(name);
        if (env[name] === undefined) unset.add(name);
      }
    } else if (Array.isArray(item)) item.forEach(visit);
    else if (item !== null && typeof item === 'object') Object.values(item).forEach(visit);
  };
  visit(value);
}

/** Inventory entries are paths unless they are Ansible's inline host lists ("host1,host2,"). */
function inventoryPath(entry: string, abs: (path: string) => string): string {
  return entry.includes(',') ? entry : abs(entry);
}
