import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EnvironmentTarget } from '../../config/resolve.js';
import { isIacError, PreflightError, UnreachableError } from '../../errors.js';
import { describeJob } from '../../jenkins/paths.js';
import { connectJenkins, jobOf } from '../../steps/jenkins-connect.js';
import { kubeTarget } from '../../steps/kube-target.js';

export interface GateResult {
  /** Human line for the preview. */
  text: string;
  buildNumber?: number;
}

/**
 * The promotion gate: the source head must have a successful Jenkins build of exactly that SHA.
 * An environment without a Jenkins job has no gate.
 */
export async function checkGate(source: EnvironmentTarget, sha: string, options: { env: NodeJS.ProcessEnv; signal: AbortSignal; secret: (v: string) => void }): Promise<GateResult> {
  if (!source.jenkins) return { text: `no gate: environment ${source.name} has no Jenkins job` };
  const client = await connectJenkins(source.jenkins, options.env, options.secret);
  const job = jobOf(source.jenkins, source.branch);
  const { builds } = await client.lastBuilds(job, 20, options.signal);
  const short = sha.slice(0, 7);
  const ofSha = builds.filter((b) => b.sha !== undefined && (b.sha.startsWith(sha) || sha.startsWith(b.sha)));
  const passed = ofSha.find((b) => b.result === 'SUCCESS');
  if (passed) return { text: `✔ Jenkins ${describeJob(job)} #${passed.number} SUCCESS built ${short}`, buildNumber: passed.number };
  const latest = ofSha[0];
  const why = latest
    ? latest.building
      ? `build #${latest.number} of ${short} is still running`
      : `build #${latest.number} of ${short} ended ${latest.result ?? 'without a result'}`
    : `no build of ${short} among the last ${builds.length} builds of ${describeJob(job)}`;
  throw new PreflightError('promote.gate', `gate: ${source.branch} @ ${short} has no successful Jenkins build (${why})`, {
    hint: `run \`iac up ${source.name}\` first, or pass --skip-gate to promote anyway`,
  });
}

/** What runs in the target now, per workload; a cluster that can't be asked is said, not fatal. */
export async function runningRevisions(target: EnvironmentTarget, signal: AbortSignal): Promise<string[]> {
  const kube = target.kubernetes;
  if (!kube) return [`environment ${target.name} has no kubernetes section`];
  try {
    const { listWorkloads } = await import('../../kube/list-workloads.js');
    const health = await listWorkloads({
      ...kubeTarget(kube),
      refs: kube.workloads,
      ...(kube.revisionAnnotation !== undefined ? { revisionAnnotation: kube.revisionAnnotation } : {}),
      signal,
    });
    const short = (revision: string): string => (/^[0-9a-f]{40}$/.test(revision) ? revision.slice(0, 7) : revision);
    return health.map((w) => `${w.ref}: ${w.found ? `${w.revision ? short(w.revision) : 'unknown revision'} (${w.ready}/${w.desired} ready)` : 'not found'}`);
  } catch (error) {
    if (error instanceof UnreachableError || !isIacError(error)) return [`unknown: ${error instanceof Error ? error.message : String(error)}`];
    throw error;
  }
}

export interface PromotionRecord {
  time: string;
  from: { environment: string | undefined; branch: string; sha: string };
  to: { environment: string; branch: string; before: string; after: string };
  commits: number;
  mode: 'fast-forward' | 'merge' | 'up-to-date';
  gateBuild?: number;
  deployed: boolean;
  outcome: 'success' | 'failed' | 'interrupted' | 'pushed';
  exitCode: number;
}

/** Appends to `.iac/promotions.ndjson` (what `iac status` reads) and writes the run's promotion.json. */
export function recordPromotion(projectDir: string, runDir: string, record: PromotionRecord): void {
  writeFileSync(join(runDir, 'promotion.json'), `${JSON.stringify(record, null, 2)}\n`);
  appendFileSync(join(projectDir, '.iac', 'promotions.ndjson'), `${JSON.stringify(record)}\n`);
}
