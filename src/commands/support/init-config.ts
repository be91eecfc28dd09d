import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../util/package-root.js';

export interface InitFacts {
  project: string;
  remote: string;
  jenkinsUrl: string;
  /** Local and remote branch names, deduplicated. */
  branches: string[];
  currentBranch: string | undefined;
}

export interface InitEnvironment {
  name: string;
  branch: string;
  promoteFrom?: string;
}

export function templatesDir(): string {
  return join(packageRoot(), 'templates');
}

/** `develop` → dev, `main` (or `master`) → prod promoted from dev; otherwise the current branch → dev. */
export function environmentsFor(facts: InitFacts): InitEnvironment[] {
  const has = (b: string): boolean => facts.branches.includes(b);
  const envs: InitEnvironment[] = [];
  const prodBranch = has('main') ? 'main' : has('master') ? 'master' : undefined;
  if (has('develop')) envs.push({ name: 'dev', branch: 'develop' });
  if (prodBranch) envs.push({ name: 'prod', branch: prodBranch, ...(envs.length > 0 ? { promoteFrom: 'dev' } : {}) });
  if (envs.length === 0) envs.push({ name: 'dev', branch: facts.currentBranch ?? 'main' });
  return envs;
}

export function fillTemplate(text: string, values: Record<string, string>): string {
  return text.replace(/%%(\w+)%%/g, (whole, name: string) => values[name] ?? whole);
}

/** The iac.yaml text `iac init` writes. */
export function renderInitConfig(facts: InitFacts): string {
  const dir = templatesDir();
  const envTemplate = readFileSync(join(dir, 'environment.yaml'), 'utf8');
  const environments = environmentsFor(facts)
    .map((env) =>
      fillTemplate(envTemplate, {
        name: env.name,
        branch: env.branch,
        project: facts.project,
        promote: env.promoteFrom ? `    promoteFrom: ${env.promoteFrom}\n    confirm: true\n` : '',
      }),
    )
    .join('');
  return fillTemplate(readFileSync(join(dir, 'iac.yaml'), 'utf8'), {
    project: facts.project,
    remote: facts.remote,
    jenkinsUrl: facts.jenkinsUrl,
    environments: environments.trimEnd(),
  });
}

/** A project name Jenkins folders, namespaces and file names all accept. */
export function projectNameFrom(dirName: string): string {
  const name = dirName.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  return name === '' ? 'app' : name.slice(0, 50);
}
