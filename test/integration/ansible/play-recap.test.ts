import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { countResult, emptyCounts, sumStats, type HostStats } from '../../../src/ansible/events.js';
import { runPlaybook, type AnsibleEvent } from '../../../src/ansible/run-playbook.js';
import { AnsibleError } from '../../../src/errors.js';
import { toolAvailable } from '../../helpers/tools.js';
import { parsePlayRecap } from './recap.js';

const PLAYBOOKS = new URL('../../fixtures/ansible/playbooks/', import.meta.url).pathname;
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Per-task results summed per host, with the strategy's counting rules. */
function perHost(events: AnsibleEvent[]): Record<string, HostStats> {
  const out: Record<string, HostStats> = {};
  for (const e of events) {
    if (e.type !== 'host') continue;
    const c = emptyCounts();
    countResult(c, e.status, e.changed);
    const s = (out[e.host] ??= { ok: 0, changed: 0, failures: 0, unreachable: 0, skipped: 0, rescued: 0, ignored: 0 });
    s.ok += c.ok;
    s.changed += c.changed;
    s.failures += c.failed;
    s.unreachable += c.unreachable;
    s.skipped += c.skipped;
    s.rescued += c.rescued;
    s.ignored += c.ignored;
  }
  return out;
}

async function runRecap(check: boolean): Promise<{ events: AnsibleEvent[]; log: string; error: unknown; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'iac-recap-'));
  dirs.push(dir);
  cpSync(PLAYBOOKS, dir, { recursive: true });
  mkdirSync(join(dir, 'out'));
  const events: AnsibleEvent[] = [];
  const logFile = join(dir, 'run', 'ansible.log');
  let error: unknown;
  try {
    await runPlaybook({
      cwd: dir,
      playbook: 'recap.yml',
      inventory: 'recap.ini',
      extraVars: { out_dir: join(dir, 'out') },
      check,
      diff: check,
      logFile,
      onEvent: (event) => events.push(event),
    });
  } catch (caught) {
    error = caught;
  }
  return { events, log: readFileSync(logFile, 'utf8'), error, dir };
}

describe.runIf(toolAvailable('ansible-playbook'))('numbers equal PLAY RECAP (real ansible-playbook, same run)', () => {
  it('normal mode: loops, when, ignore_errors, block/rescue/always, handlers, include_tasks, delegate_to, run_once, an unreachable host', async () => {
    const { events, log, error } = await runRecap(false);
    const recap = parsePlayRecap(log);
    expect(Object.keys(recap).sort()).toEqual(['web1', 'web2']);
    const stats = events.find((e) => e.type === 'stats');
    expect(stats?.type === 'stats' && stats.hosts).toEqual(recap);
    expect(perHost(events)).toEqual(recap);
    // The shapes that used to be miscounted: an ignored failure, a rescued one.
    expect(recap.web1).toMatchObject({ rescued: 1, failures: 0, ignored: 1 });
    expect(sumStats(recap).ignored).toBe(2);
    // The failure report names only what failed the play: web2 unreachable, not the rescued task.
    expect(error).toBeInstanceOf(AnsibleError);
    const err = error as AnsibleError;
    expect(err.exitCode).toBe(31);
    expect(err.message).toMatch(/^host web2 unreachable at task "Reach the host"/);
    expect(`${err.message}\n${err.details.join('\n')}`).not.toMatch(/Fails in block|Ignored failure/);
    // Ansible's own output is in the log once: debug messages included.
    expect(log).toContain('"msg": "rescued Fails in block"');
    expect(log.match(/TASK \[Run once\]/g)).toHaveLength(1);
  }, 180_000);

  it('check mode: the same equality, and the diff is in the log and in the events', async () => {
    const { events, log } = await runRecap(true);
    const recap = parsePlayRecap(log);
    const stats = events.find((e) => e.type === 'stats');
    expect(stats?.type === 'stats' && stats.hosts).toEqual(recap);
    expect(perHost(events)).toEqual(recap);
    expect(log).toContain('+hello web1');
    const diffs = events.filter((e) => e.type === 'diff');
    expect(diffs).toHaveLength(2);
    expect(JSON.stringify(diffs)).toContain('+hello web2');
  }, 180_000);
});
