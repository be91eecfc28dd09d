import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import type { StatusReport } from '../../../src/status/model.js';
import { renderStatus } from '../../../src/status/render.js';

const NOW = Date.parse('2026-11-27T10:00:00Z');
const report: StatusReport = {
  project: 'shop',
  generatedAt: '2026-11-27T10:00:00.000Z',
  exitCode: 4,
  stale: [{ environment: 'prod', branch: 'main', behind: 3 }],
  environments: [
    {
      name: 'dev',
      branch: 'develop',
      git: { state: 'ok', durationMs: 12, value: { branch: 'develop', localSha: '3f2a9c1d'.padEnd(40, '0'), remoteSha: '3f2a9c1d'.padEnd(40, '0'), ahead: 2, behind: 0, fetched: true } },
      jenkins: {
        state: 'ok',
        durationMs: 210,
        value: { job: 'shop/deploy', queued: false, queueWhy: null, last: { number: 142, result: 'SUCCESS', building: false, timestamp: NOW - 5 * 60_000, sha: '3f2a9c1d'.padEnd(40, '0'), url: 'https://ci.example.com/job/shop/job/deploy/142/' } },
      },
      workloads: {
        state: 'ok',
        durationMs: 180,
        value: [
          { ref: 'deployment/web', found: true, ready: 3, desired: 3, message: 'deployment "web" successfully rolled out', state: 'ready', revision: '3f2a9c1d'.padEnd(40, '0'), behindHead: 0 },
          { ref: 'statefulset/db', found: true, ready: 1, desired: 2, message: 'Waiting for 1 pods to be ready...', state: 'progressing', revision: '15.4' },
        ],
      },
      ec2: { state: 'ok', durationMs: 300, value: { total: 3, byState: { running: 2, stopped: 1 }, instances: [] } },
    },
    {
      name: 'prod',
      branch: 'main',
      git: { state: 'ok', durationMs: 12, value: { branch: 'main', localSha: 'a1b2c3d4'.padEnd(40, '0'), remoteSha: 'a1b2c3d4'.padEnd(40, '0'), ahead: 0, behind: 0, fetched: true } },
      promotion: {
        state: 'ok',
        durationMs: 5,
        value: { from: 'dev', fromBranch: 'develop', pending: 3, commits: [], command: 'iac promote develop main' },
      },
      jenkins: { state: 'unreachable', durationMs: 10_000, reason: 'cannot reach Jenkins at https://ci.example.com/: connect ECONNREFUSED 10.0.0.1:443' },
      workloads: {
        state: 'ok',
        durationMs: 180,
        value: [{ ref: 'deployment/web', found: true, ready: 3, desired: 3, message: 'deployment "web" successfully rolled out', state: 'ready', revision: 'a1b2c3d4'.padEnd(40, '0'), behindHead: 3 }],
      },
      lastPromotion: { time: '2026-11-26T16:20:00.000Z', from: 'develop', before: '9'.repeat(40), after: 'a1b2c3d4'.padEnd(40, '0'), outcome: 'success' },
    },
  ],
};

const plain = new Chalk({ level: 0 });

describe('status rendering', () => {
  it('fits 80 columns: no line longer than the terminal, cut lines end with …', () => {
    const text = renderStatus(report, { width: 80, chalk: plain, now: NOW });
    for (const line of text.split('\n')) expect([...line].length).toBeLessThanOrEqual(80);
    expect(text).toMatchSnapshot();
  });

  it('uses the room of 160 columns', () => {
    const text = renderStatus(report, { width: 160, chalk: plain, now: NOW });
    for (const line of text.split('\n')) expect([...line].length).toBeLessThanOrEqual(160);
    expect(text).toContain('https://ci.example.com/job/shop/job/deploy/142/');
    expect(text).toContain('a1b2c3d, 3 commits behind main');
    expect(text).toMatchSnapshot();
  });

  it('a healthy screen with an environment behind its branch says so instead of "everything healthy"', () => {
    const healthy: StatusReport = { ...report, exitCode: 0, environments: report.environments.map((env) => ({ ...env, jenkins: undefined })) };
    const text = renderStatus(healthy, { width: 160, chalk: plain, now: NOW });
    expect(text).toContain('! prod runs an older commit: 3 commits behind main — deploy it: iac up prod');
    expect(text).not.toContain('everything healthy');
    expect(renderStatus({ ...healthy, stale: [] }, { width: 160, chalk: plain, now: NOW })).toContain('everything healthy');
  });

  it('a section that reads an unset variable shows "needs NAME" in its cell and is not counted as unreachable', () => {
    const needing: StatusReport = {
      ...report,
      exitCode: 0,
      stale: [],
      environments: [{ ...(report.environments[1] as StatusReport['environments'][number]), jenkins: undefined, ec2: { state: 'needs', reason: 'needs PROD_REGION', durationMs: 0 } }],
    };
    const text = renderStatus(needing, { width: 160, chalk: plain, now: NOW });
    expect(text).toContain('ec2       needs PROD_REGION');
    expect(text).toContain('! prod: not checked, needs PROD_REGION');
  });

  it('colours only when asked, and never changes the text', () => {
    const colored = renderStatus(report, { width: 160, chalk: new Chalk({ level: 1 }), now: NOW });
    // eslint-disable-next-line no-control-regex
    expect(colored.replace(/\x1b\[[0-9;]*m/g, '')).toBe(renderStatus(report, { width: 160, chalk: plain, now: NOW }));
  });

  it('the --json shape is stable', () => {
    expect(JSON.parse(JSON.stringify(report))).toMatchSnapshot();
  });
});
