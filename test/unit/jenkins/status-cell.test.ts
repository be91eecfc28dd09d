import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import type { EnvironmentStatus, StatusReport } from '../../../src/status/model.js';
import { renderStatus } from '../../../src/status/render.js';

const NOW = Date.parse('2026-11-27T10:00:00Z');
const HEAD = '3f2a9c1d'.padEnd(40, '0');
const OTHER = '77aa0b1c'.padEnd(40, '1');

function reportWith(buildSha: string): StatusReport {
  const env: EnvironmentStatus = {
    name: 'dev',
    branch: 'develop',
    git: { state: 'ok', durationMs: 1, value: { branch: 'develop', localSha: HEAD, remoteSha: HEAD, ahead: 0, behind: 0, fetched: true } },
    jenkins: {
      state: 'ok',
      durationMs: 1,
      value: { job: 'shop/deploy', queued: false, queueWhy: null, last: { number: 7, result: 'SUCCESS', building: false, timestamp: NOW - 60_000, sha: buildSha, url: 'https://ci.example.test/job/shop/job/deploy/7/' } },
    },
  };
  return { project: 'shop', generatedAt: new Date(NOW).toISOString(), exitCode: 0, stale: [], environments: [env] };
}

const render = (report: StatusReport): string => renderStatus(report, { width: 200, chalk: new Chalk({ level: 0 }), now: NOW });
const jenkinsLine = (report: StatusReport): string =>
  render(report)
    .split('\n')
    .find((line) => line.trimStart().startsWith('jenkins')) as string;

describe('status: the Jenkins cell', () => {
  it('a build of the branch head shows its commit plainly, and the verdict is healthy', () => {
    const line = jenkinsLine(reportWith(HEAD));
    expect(line).toContain('#7 SUCCESS');
    expect(line).toContain('3f2a9c1');
    expect(line).not.toContain('⚠');
    expect(render(reportWith(HEAD))).toContain('everything healthy');
  });

  it('a build of another commit than the branch head says so, and the verdict no longer says healthy', () => {
    const line = jenkinsLine(reportWith(OTHER));
    expect(line).toContain('77aa0b1  ⚠ another commit than the develop head 3f2a9c1');
    const text = render(reportWith(OTHER));
    expect(text).not.toContain('everything healthy');
    expect(text).toContain('! dev: the last Jenkins build #7 built 77aa0b1, not the develop head 3f2a9c1');
  });
});
