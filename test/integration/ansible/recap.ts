import type { HostStats } from '../../../src/ansible/events.js';

/** ansible-playbook's own PLAY RECAP (default callback) → per-host numbers. */
export function parsePlayRecap(text: string): Record<string, HostStats> {
  const recap: Record<string, HostStats> = {};
  const section = text.slice(text.lastIndexOf('PLAY RECAP'));
  const line = /^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)\s+rescued=(\d+)\s+ignored=(\d+)/gm;
  for (const m of section.matchAll(line)) {
    const [ok, changed, unreachable, failures, skipped, rescued, ignored] = m.slice(2).map(Number) as number[];
    recap[m[1] as string] = { ok, changed, unreachable, failures, skipped, rescued, ignored } as HostStats;
  }
  return recap;
}
