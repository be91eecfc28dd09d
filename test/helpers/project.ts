import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createTempRepos, type TempRepos } from './git-repos.js';

export interface ProjectOptions {
  jenkinsUrl?: string;
  /** Extra environment sections merged over the defaults (dev on develop, prod on main). */
  environments?: Record<string, Record<string, unknown>>;
}

/**
 * A temp work repo (develop checked out, main and develop on a bare remote) with an iac.yaml
 * committed on develop. Everything real: git, files, the CLI run against it.
 */
export function createProject(options: ProjectOptions = {}): TempRepos & { configText: string } {
  const repos = createTempRepos({ branches: ['develop'] });
  const config = {
    project: 'shop',
    git: { remote: 'origin' },
    ...(options.jenkinsUrl ? { jenkins: { url: options.jenkinsUrl } } : {}),
    environments: options.environments ?? {
      dev: { branch: 'develop', jenkins: { job: 'shop/deploy', parameters: { ENV: 'dev', GIT_SHA: '${git.sha}' }, pollInterval: '50ms' } },
    },
  };
  const configText = stringify(config);
  writeFileSync(join(repos.work, 'iac.yaml'), configText);
  repos.git('add', 'iac.yaml');
  repos.git('commit', '-q', '-m', 'add iac.yaml');
  return { ...repos, configText };
}
