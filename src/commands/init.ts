import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { parseConfig } from '../config/parse.js';
import { UsageError } from '../errors.js';
import { openRepo } from '../git/repo.js';
import { gitText } from '../git/run.js';
import { fillTemplate, projectNameFrom, renderInitConfig, templatesDir, type InitFacts } from './support/init-config.js';
import type { CommandContext } from './context.js';

/** `iac init`: writes iac.yaml (and with --with-examples a Jenkinsfile, playbook and manifests) for this repo. */
export default async function init(ctx: CommandContext): Promise<number> {
  const repo = await openRepo(ctx.cwd);
  const root = await repo.toplevel();
  const target = join(root, 'iac.yaml');
  const force = ctx.options.force === true;
  if (existsSync(target) && !force) {
    throw new UsageError('init.exists', `${relative(ctx.cwd, target) || 'iac.yaml'} already exists; not overwriting it`, {
      hint: 'iac init --force to replace it (your current file is not backed up)',
    });
  }

  const remotes = await remoteNames(root);
  const remote = remotes.includes('origin') ? 'origin' : (remotes[0] ?? 'origin');
  const remoteBranches = remotes.includes(remote) ? await repo.remoteBranches(remote) : [];
  const facts: InitFacts = {
    project: projectNameFrom(basename(root)),
    remote,
    jenkinsUrl: ctx.env.IAC_JENKINS_URL ?? 'https://jenkins.example.com/',
    branches: [...new Set([...(await repo.branches()), ...remoteBranches])],
    currentBranch: await repo.currentBranch(),
  };
  const text = renderInitConfig(facts);
  parseConfig(text, target, 'iac.yaml'); // the template must always produce a valid file

  const written: string[] = [];
  const kept: string[] = [];
  if (ctx.options.dryRun) {
    ctx.output.info(`would write ${relative(ctx.cwd, target) || 'iac.yaml'}:\n${text}`);
  } else {
    await writeFile(target, text);
    written.push(target);
  }
  if (ctx.options.withExamples) await copyExamples(root, facts.project, force, ctx.options.dryRun === true, written, kept);

  const shown = (files: string[]): string => files.map((f) => relative(ctx.cwd, f) || f).join(', ');
  if (written.length > 0) ctx.output.info(`wrote ${shown(written)}`);
  if (kept.length > 0) ctx.output.info(`kept existing ${shown(kept)} (use --force to overwrite)`);
  if (remotes.length === 0) ctx.output.warn(`this repository has no remote yet; iac.yaml assumes "${remote}" (git remote add ${remote} <url>)`);
  ctx.output.info('next: edit jenkins.url and the environments, then run `iac up --dry-run`');
  return 0;
}

async function remoteNames(root: string): Promise<string[]> {
  return (await gitText(root, ['remote'])).split('\n').filter((name) => name !== '');
}

async function copyExamples(root: string, project: string, force: boolean, dryRun: boolean, written: string[], kept: string[]): Promise<void> {
  const source = join(templatesDir(), 'examples');
  for (const file of await listFiles(source)) {
    const dest = join(root, relative(source, file));
    if (existsSync(dest) && !force) {
      kept.push(dest);
      continue;
    }
    if (dryRun) continue;
    await mkdir(dirname(dest), { recursive: true });
    await writeFile(dest, fillTemplate(await readFile(file, 'utf8'), { project }));
    written.push(dest);
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)).sort();
}
