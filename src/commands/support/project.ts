import { findConfigFile, loadConfigFile, type LoadedConfig } from '../../config/load.js';
import { openRepo, type GitRepo } from '../../git/repo.js';
import { setGitNetworkTimeout } from '../../git/run.js';
import { parseDuration } from '../../util/duration.js';
import type { CommandContext } from '../context.js';

export interface Project {
  loaded: LoadedConfig;
  repo: GitRepo;
  currentBranch: string | undefined;
}

/** iac.yaml plus the git repository it lives in. */
export async function loadProject(ctx: CommandContext): Promise<Project> {
  const file = findConfigFile(ctx.cwd, ctx.options.config);
  const loaded = await loadConfigFile(file, ctx.cwd, { writeCache: ctx.options.dryRun !== true });
  const gitTimeout = parseDuration(loaded.config.git?.timeout ?? '');
  if (gitTimeout !== undefined) setGitNetworkTimeout(gitTimeout);
  const repo = await openRepo(loaded.dir);
  return { loaded, repo, currentBranch: repo.startBranch };
}

/** How long a deploy lease outlives a run that died holding it (iac.yaml `lease.duration`, default 30s). */
export function leaseDurationMs(project: Project): number {
  return parseDuration(project.loaded.config.lease?.duration ?? '') ?? 30_000;
}
