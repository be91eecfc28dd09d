import type { ChalkInstance } from 'chalk';
import type { Cell, EnvironmentStatus, StatusReport, WorkloadStatus } from './model.js';

type Style = 'bold' | 'dim' | 'green' | 'red' | 'yellow' | 'cyan';
type Segment = [text: string, style?: Style];

export interface RenderOptions {
  /** Terminal width; every line is cut to fit (no wrapping garbage). */
  width: number;
  chalk: ChalkInstance;
  now: number;
}

/** The status screen as text: one block per environment, each line cut to the terminal width. */
export function renderStatus(report: StatusReport, options: RenderOptions): string {
  const lines: Segment[][] = [[[`${report.project}`, 'bold'], [` — status at ${report.generatedAt.slice(11, 19)} UTC`, 'dim']]];
  for (const env of report.environments) {
    lines.push([]);
    lines.push(...environmentLines(env, options.now));
  }
  lines.push([], ...verdictLines(report));
  return lines.map((segments) => paint(fit(segments, options.width), options.chalk)).join('\n');
}

/** The closing lines: healthy only when nothing failed, nothing is behind and everything was asked. */
function verdictLines(report: StatusReport): Segment[][] {
  const lines: Segment[][] = [];
  if (report.exitCode === 40) lines.push([['✖ a workload is failing (exit 40)', 'red']]);
  else if (report.exitCode === 4) lines.push([['! some sources could not be reached (exit 4)', 'yellow']]);
  for (const stale of report.stale) {
    lines.push([
      [`! ${stale.environment} runs an older commit: ${stale.behind} commit${stale.behind === 1 ? '' : 's'} behind ${stale.branch}`, 'yellow'],
      [' — deploy it: '],
      [`iac up ${stale.environment}`, 'bold'],
    ]);
  }
  for (const env of report.environments) {
    const other = builtOtherCommit(env);
    if (other) {
      lines.push([[`! ${env.name}: the last Jenkins build #${other.number} built ${other.built.slice(0, 7)}, not the ${env.branch} head ${other.head.slice(0, 7)}`, 'yellow']]);
    }
  }
  for (const env of report.environments) {
    const needs = [env.jenkins, env.workloads, env.ec2].filter((cell) => cell?.state === 'needs').map((cell) => cell?.reason ?? '');
    if (needs.length > 0) lines.push([[`! ${env.name}: not checked, ${[...new Set(needs)].join('; ')}`, 'yellow']]);
  }
  for (const env of report.environments) {
    const pinned = env.journal?.pinned;
    if (pinned) {
      const ahead = pinned.branchAhead !== undefined && pinned.branchAhead > 0 ? `; ${env.branch} is ahead by ${pinned.branchAhead}` : '';
      lines.push([
        [`! ${env.name} runs ${pinned.sha.slice(0, 7)} (rolled back${pinned.from ? ` from ${pinned.from.slice(0, 7)}` : ''} at ${clock(pinned.time)} by ${shortName(pinned.user)})${ahead}`, 'yellow'],
        [' — '],
        [`iac up ${env.name}`, 'bold'],
        [` redeploys ${env.branch}`],
      ]);
    }
    const lease = env.journal?.lease;
    if (lease) {
      lines.push(
        lease.expired
          ? [[`! ${env.name}: the deploy lease of ${shortName(lease.user)}'s ${lease.command} of ${lease.commit.slice(0, 7)} is stale (its run died); the next run takes it over`, 'yellow']]
          : [[`… ${env.name} is being deployed: ${lease.command} of ${lease.commit.slice(0, 7)} by ${shortName(lease.user)} on ${lease.host} since ${clock(lease.since)}`, 'cyan'], [' — '], [`iac unlock ${env.name}`, 'bold'], [' only if that run is dead']],
      );
    }
    const unfinished = env.journal?.unfinished;
    if (lease && !lease.expired && unfinished?.state === 'running' && unfinished.run === lease.run) continue;
    if (unfinished?.state === 'unknown') {
      lines.push([
        [`! ${env.name}: the last run was killed${unfinished.pending ? ` during ${unfinished.pending}` : ''} (${unfinished.command} of ${unfinished.sha.slice(0, 7)} by ${shortName(unfinished.user)}, ${clock(unfinished.time)}): its outcome is unknown`, 'yellow'],
        [' — '],
        [`iac up ${env.name}`, 'bold'],
        [' resumes it'],
      ]);
    } else if (unfinished?.state === 'running') {
      lines.push([[`… ${env.name}: ${unfinished.command} of ${unfinished.sha.slice(0, 7)} by ${shortName(unfinished.user)} on ${unfinished.host} is running since ${clock(unfinished.time)}`, 'cyan']]);
    }
  }
  if (lines.length === 0) lines.push([['✔ all sources answered; everything healthy', 'green']]);
  return lines;
}

function environmentLines(env: EnvironmentStatus, now: number): Segment[][] {
  const lines: Segment[][] = [];
  const git = env.git;
  const head: Segment[] = [[env.name, 'bold'], [`  ${env.branch}`, 'cyan']];
  if (git.value?.localSha) head.push([`  ${git.value.localSha.slice(0, 7)}`]);
  head.push(['  '], ...gitSummary(env));
  lines.push(head);

  const promotion = env.promotion;
  if (promotion?.state === 'ok' && promotion.value && promotion.value.pending > 0) {
    const p = promotion.value;
    lines.push([
      ['  ⚠ ', 'yellow'],
      [`${p.pending} commit${p.pending === 1 ? '' : 's'} on ${p.fromBranch} not yet on ${env.branch}`, 'yellow'],
      [' — run: '],
      [p.command, 'bold'],
    ]);
  } else if (promotion && promotion.state !== 'ok') {
    lines.push([['  promotion  '], ...unreachable(promotion)]);
  }

  if (env.jenkins) lines.push([['  jenkins   '], ...jenkinsSummary(env, now)]);
  if (env.workloads) {
    if (env.workloads.state !== 'ok' || !env.workloads.value) lines.push([['  workloads '], ...unreachable(env.workloads)]);
    else {
      const width = Math.max(...env.workloads.value.map((w) => w.ref.length));
      for (const workload of env.workloads.value) lines.push([['  '], ...workloadSummary(workload, width, env.branch)]);
    }
  }
  if (env.ec2) {
    const ec2 = env.ec2;
    if (ec2.state !== 'ok' || !ec2.value) lines.push([['  ec2       '], ...unreachable(ec2)]);
    else {
      const states = Object.entries(ec2.value.byState).map(([state, n]) => `${n} ${state}`).join(', ');
      lines.push([['  ec2       '], [`${ec2.value.total} instance${ec2.value.total === 1 ? '' : 's'}${states ? `: ${states}` : ''}`]]);
    }
  }
  if (env.lastPromotion) {
    const p = env.lastPromotion;
    lines.push([['  promoted  ', 'dim'], [`${p.time.slice(0, 16).replace('T', ' ')} from ${p.from}: ${p.before.slice(0, 7)} → ${p.after.slice(0, 7)} (${p.outcome})`, 'dim']]);
  }
  return lines;
}

function gitSummary(env: EnvironmentStatus): Segment[] {
  const git = env.git;
  if (!git.value) return unreachable(git);
  const { ahead, behind, remoteSha, localSha } = git.value;
  const parts: Segment[] = [];
  if (!remoteSha) parts.push(['not on the remote yet', 'yellow']);
  else if (!localSha) parts.push(['no local branch', 'dim']);
  else if (ahead === 0 && behind === 0) parts.push(git.state === 'ok' ? ['✔ in sync with the remote', 'green'] : ['in sync with the last fetched remote state', 'dim']);
  else {
    if (ahead > 0) parts.push([`↑${ahead} to push`, 'yellow']);
    if (behind > 0) parts.push([`${ahead > 0 ? ' ' : ''}↓${behind} to pull`, 'yellow']);
  }
  if (git.state !== 'ok') parts.push([`  (${git.reason ?? 'remote unreachable: last fetched state'})`, 'dim']);
  return parts;
}

function jenkinsSummary(env: EnvironmentStatus, now: number): Segment[] {
  const cell = env.jenkins as Cell<NonNullable<EnvironmentStatus['jenkins']>['value']>;
  const value = cell.value;
  if (cell.state !== 'ok' || !value) return unreachable(cell);
  const parts: Segment[] = [];
  const last = value.last;
  if (!last) parts.push([`${value.job}: never built`, 'dim']);
  else {
    const result = last.building ? 'BUILDING' : (last.result ?? 'UNKNOWN');
    const style: Style = result === 'SUCCESS' ? 'green' : result === 'BUILDING' ? 'cyan' : result === 'UNSTABLE' ? 'yellow' : 'red';
    parts.push([`#${last.number} `], [result, style]);
    if (last.timestamp !== undefined) parts.push([`  ${age(now - last.timestamp)} ago`, 'dim']);
    if (last.sha) parts.push([`  ${last.sha.slice(0, 7)}`]);
    const other = builtOtherCommit(env);
    if (other) parts.push([`  ⚠ another commit than the ${env.branch} head ${other.head.slice(0, 7)}`, 'yellow']);
    parts.push([`  ${last.url}`, 'dim']);
  }
  if (value.queued) parts.push([`  queued${value.queueWhy ? `: ${value.queueWhy}` : ''}`, 'cyan']);
  return parts;
}

/** The last Jenkins build built another commit than the branch head (remote, else local): not healthy. */
function builtOtherCommit(env: EnvironmentStatus): { number: number; built: string; head: string } | undefined {
  const last = env.jenkins?.state === 'ok' ? env.jenkins.value?.last : undefined;
  const head = env.git.value?.remoteSha ?? env.git.value?.localSha;
  if (!last?.sha || !head || sameCommit(last.sha, head)) return undefined;
  return { number: last.number, built: last.sha, head };
}

function sameCommit(a: string, b: string): boolean {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x.length >= 7 && y.length >= 7 && (x.startsWith(y) || y.startsWith(x));
}

function workloadSummary(w: WorkloadStatus, width: number, branch: string): Segment[] {
  const mark: Segment = w.state === 'ready' ? ['✔', 'green'] : w.state === 'failing' ? ['✖', 'red'] : ['…', 'cyan'];
  const parts: Segment[] = [[w.ref.padEnd(width)], [`  ${`${w.ready}/${w.desired}`.padStart(5)}  `], mark];
  if (w.revision) {
    parts.push([` runs ${w.revision.length >= 40 ? w.revision.slice(0, 7) : w.revision}`]);
    if (w.behindHead === 0) parts.push([` (${branch} head)`, 'dim']);
    else if (w.behindHead !== undefined) parts.push([`, ${w.behindHead} commit${w.behindHead === 1 ? '' : 's'} behind ${branch}`, 'yellow']);
  }
  if (w.state !== 'ready') parts.push([`  ${w.message}`, w.state === 'failing' ? 'red' : 'dim']);
  return parts;
}

function unreachable<T>(cell: Cell<T>): Segment[] {
  if (cell.state === 'needs') return [[cell.reason ?? 'needs an environment variable', 'yellow']];
  return [[cell.state === 'unreachable' ? 'unreachable' : 'error', 'red'], [`: ${cell.reason ?? 'unknown'}`, 'dim']];
}

/** "Ana Lima" of "Ana Lima <ana@example.com>": the screen has no room for addresses (history shows them). */
function shortName(user: string): string {
  return user.replace(/\s*<[^>]*>$/, '') || user;
}

/** "2026-12-02 14:02" from an ISO time (UTC, as the journal records it). */
function clock(iso: string): string {
  return `${iso.slice(11, 16)} UTC`;
}

function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** Cuts segments to `width` visible characters, ending with "…" when something was cut. */
function fit(segments: Segment[], width: number): Segment[] {
  const total = segments.reduce((n, [text]) => n + [...text].length, 0);
  if (total <= width) return segments;
  const out: Segment[] = [];
  let room = Math.max(0, width - 1);
  for (const [text, style] of segments) {
    if (room <= 0) break;
    const chars = [...text];
    out.push([chars.slice(0, room).join(''), style]);
    room -= Math.min(room, chars.length);
  }
  out.push(['…', 'dim']);
  return out;
}

function paint(segments: Segment[], chalk: ChalkInstance): string {
  return segments.map(([text, style]) => (style ? chalk[style](text) : text)).join('').trimEnd();
}
