import { UsageError } from '../errors.js';
import { didYouMean } from '../util/suggest.js';

/**
 * `${...}` interpolation in iac.yaml values. The variables are few and fixed so a typo is caught
 * when the file is loaded, not halfway through a deploy.
 */

export const FIXED_VARIABLES = ['git.sha', 'git.shortSha', 'git.branch', 'branch', 'project', 'environment'] as const;
const REFERENCE = /\$\{([^}]*)\}/g;
const ENV_NAME = /^env\.([A-Za-z_][A-Za-z0-9_]*)$/;

/** Variables that only a run has: they name the commit being deployed. */
export const COMMIT_VARIABLES = ['git.sha', 'git.shortSha'] as const;

export interface InterpolationValues {
  /** `sha` is set once a run has bound its commit (see config/resolve.ts). */
  git: { sha?: string; branch: string };
  branch: string;
  project: string;
  environment: string;
  env: NodeJS.ProcessEnv;
  /** When given, an unset `${env.NAME}` is recorded here and left as written instead of throwing. */
  missing?: Set<string>;
  /** When given, every environment variable name read is recorded here. */
  read?: Set<string>;
}

/** Problems with the references in one string (unknown variables, malformed syntax); empty when fine. */
export function referenceProblems(text: string): string[] {
  const problems: string[] = [];
  for (const match of text.matchAll(REFERENCE)) {
    const name = (match[1] ?? '').trim();
    if (ENV_NAME.test(name) || (FIXED_VARIABLES as readonly string[]).includes(name)) continue;
    problems.push(`unknown variable \${${name}}${didYouMean(name, [...FIXED_VARIABLES, 'env.NAME'])}`);
  }
  if (/\$\{[^}]*$/.test(text)) problems.push('unterminated "${" (expected ${name})');
  return problems;
}

/** Names of the environment variables a string reads. */
export function envReferences(text: string): string[] {
  return [...text.matchAll(REFERENCE)].map((m) => ENV_NAME.exec((m[1] ?? '').trim())?.[1]).filter((n): n is string => !!n);
}

export function interpolateString(text: string, values: InterpolationValues, where: string): string {
  return text.replace(REFERENCE, (_whole, raw: string) => {
    const name = raw.trim();
    const envName = ENV_NAME.exec(name)?.[1];
    if (envName !== undefined) {
      values.read?.add(envName);
      const value = values.env[envName];
      if (value === undefined && values.missing) {
        values.missing.add(envName);
        return `\${env.${envName}}`;
      }
      if (value === undefined) {
        throw new UsageError('config.env-missing', `${where}: environment variable ${envName} is not set`, {
          hint: `export ${envName}=... before running iac`,
        });
      }
      return value;
    }
    switch (name) {
      case 'git.sha':
      case 'git.shortSha': {
        // Config checks keep commit variables where a run binds them; elsewhere there is no commit.
        if (values.git.sha === undefined) throw new UsageError('config.variable', `${where}: \${${name}} is only known when a run deploys a commit`);
        return name === 'git.sha' ? values.git.sha : values.git.sha.slice(0, 7);
      }
      case 'git.branch':
        return values.git.branch;
      case 'branch':
        return values.branch;
      case 'project':
        return values.project;
      case 'environment':
        return values.environment;
      default:
        throw new UsageError('config.variable', `${where}: unknown variable \${${name}}`);
    }
  });
}

/** Interpolates every string inside a JSON-like value, keeping numbers and booleans as they are. */
export function interpolateDeep<T>(value: T, values: InterpolationValues, where: string): T {
  if (typeof value === 'string') return interpolateString(value, values, where) as T;
  if (Array.isArray(value)) return value.map((item, i) => interpolateDeep(item, values, `${where}[${i}]`)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, interpolateDeep(item, values, `${where}.${key}`)]),
    ) as T;
  }
  return value;
}
