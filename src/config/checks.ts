import { parseWorkloadRef } from '../kube/workload-ref.js';
import { SECRET_NAME } from '../util/redact.js';
import { didYouMean } from '../util/suggest.js';
import { COMMIT_VARIABLES, envReferences, referenceProblems } from './interpolate.js';
import type { ConfigIssue } from './load.js';
import type { ConfigPath } from './locate.js';
import type { RawConfig } from './schema.js';


/** Rules a schema cannot express: cross-references, duplicates, literal secrets, variables, workload refs. */
export function checkConfigSemantics(config: RawConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const envNames = Object.keys(config.environments);
  const branchOwner = new Map<string, string>();

  for (const [name, env] of Object.entries(config.environments)) {
    const base: ConfigPath = ['environments', name];
    const owner = branchOwner.get(env.branch);
    if (owner !== undefined) {
      issues.push({ path: [...base, 'branch'], message: `branch "${env.branch}" is already used by environment "${owner}"` });
    } else {
      branchOwner.set(env.branch, name);
    }
    if (env.jenkins && !env.jenkins.url && !config.jenkins?.url) {
      issues.push({ path: [...base, 'jenkins'], atKey: true, message: 'a Jenkins job needs jenkins.url (top level or in this environment)' });
    }
    env.kubernetes?.workloads.forEach((ref, i) => {
      const parsed = parseWorkloadRef(ref);
      if (!parsed.ok) issues.push({ path: [...base, 'kubernetes', 'workloads', i], message: parsed.error });
    });
    for (const [key, value] of Object.entries(env.ansible?.secretExtraVars ?? {})) {
      if (!/^\$\{\s*env\.[A-Za-z_][A-Za-z0-9_]*\s*\}$/.test(value)) {
        issues.push({
          path: [...base, 'ansible', 'secretExtraVars', key],
          message: 'secret values must come from the environment, e.g. ${env.DB_PASSWORD}',
        });
      }
    }
    issues.push(...literalSecrets(env.jenkins?.parameters, [...base, 'jenkins', 'parameters']));
    issues.push(...secretExtraVarKeys(env.ansible?.extraVars, [...base, 'ansible', 'extraVars']));
  }

  for (const [name, env] of Object.entries(config.environments)) {
    const from = env.promoteFrom;
    if (from === undefined) continue;
    if (from === name || from === env.branch) {
      issues.push({ path: ['environments', name, 'promoteFrom'], message: 'an environment cannot promote from itself' });
    } else if (!envNames.includes(from) && !branchOwner.has(from)) {
      issues.push({
        path: ['environments', name, 'promoteFrom'],
        message: `unknown environment "${from}"${didYouMean(from, envNames)}; known: ${envNames.join(', ')}`,
      });
    }
  }

  visitStrings(config, [], (text, path) => {
    for (const message of referenceProblems(text)) issues.push({ path, message });
    const commitVariable = COMMIT_VARIABLES.find((name) => new RegExp(`\\$\\{\\s*${name.replace('.', '\\.')}\\s*\\}`).test(text));
    if (commitVariable !== undefined && !bindsCommit(path)) {
      issues.push({
        path,
        message: `\${${commitVariable}} is only allowed in jenkins.parameters and ansible.extraVars (the values a run binds to its commit)`,
      });
    }
  });
  return issues;
}

/** Where a run's commit may be referenced: what it hands to Jenkins and Ansible. */
function bindsCommit(path: ConfigPath): boolean {
  const [top, , section, key] = path;
  return top === 'environments' && ((section === 'jenkins' && key === 'parameters') || (section === 'ansible' && key === 'extraVars'));
}

/** A value under a secret-looking name must be a ${env.NAME} reference, never the secret itself. */
function literalSecrets(values: Record<string, unknown> | undefined, base: ConfigPath): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const [key, value] of Object.entries(values ?? {})) {
    if (!SECRET_NAME.test(key) || typeof value !== 'string' || value === '') continue;
    if (envReferences(value).length > 0) continue;
    issues.push({
      path: [...base, key],
      message: `looks like a literal secret: secrets never live in iac.yaml; use \${env.${key.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}}`,
    });
  }
  return issues;
}

/**
 * extraVars reach ansible-playbook's command line (/proc/<pid>/cmdline, `ps`) and ansible.log: a key that
 * looks like a secret, at any depth, belongs in secretExtraVars, which travel through a pipe.
 */
function secretExtraVarKeys(values: unknown, base: ConfigPath): ConfigIssue[] {
  if (values === null || typeof values !== 'object') return [];
  const issues: ConfigIssue[] = [];
  for (const [key, value] of Object.entries(values)) {
    const path: ConfigPath = [...base, Array.isArray(values) ? Number(key) : key];
    if (!Array.isArray(values) && SECRET_NAME.test(key)) {
      issues.push({
        path,
        atKey: true,
        message: `"${key}" looks like a secret: move it to secretExtraVars (${key}: "\${env.${key.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}}"), which reach Ansible through a pipe, never the command line`,
      });
    } else {
      issues.push(...secretExtraVarKeys(value, path));
    }
  }
  return issues;
}

function visitStrings(value: unknown, path: ConfigPath, visit: (text: string, path: ConfigPath) => void): void {
  if (typeof value === 'string') visit(value, path);
  else if (Array.isArray(value)) value.forEach((item, i) => visitStrings(item, [...path, i], visit));
  else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) visitStrings(item, [...path, key], visit);
  }
}
