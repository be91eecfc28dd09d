import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { IAC_BIN, runIac } from '../helpers/run-cli.js';
import { toolAvailable } from '../helpers/tools.js';

function scratchDir(output: string): string {
  const match = /a scratch project in (\S+),/.exec(output);
  if (!match) throw new Error(`no scratch dir in: ${output.slice(0, 300)}`);
  return match[1] as string;
}

describe.runIf(toolAvailable('ansible-playbook'))('iac demo', () => {
  it('runs up, status, promote and status against the sandboxes, exits 0 and leaves nothing behind', async () => {
    const result = await runIac(['demo'], { cwd: process.cwd(), timeoutMs: 120_000 });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    for (const step of ['▶ 1/4  iac up dev', '▶ 2/4  iac status', '▶ 3/4  iac promote develop main', '▶ 4/4  iac status']) expect(result.stdout).toContain(step);
    expect(result.stdout).toContain('⚠ 1 commit on develop not yet on main — run: iac promote develop main');
    expect(result.stdout).toMatch(/promoted: origin\/main \w{7} → \w{7} \(fast-forward, 1 commit\)/);
    expect(result.stdout).toContain('✔ demo complete');
    expect(result.stdout).not.toContain('11e5d3m0t0k3n');
    expect(existsSync(scratchDir(result.stdout))).toBe(false);
  });

  it.runIf(toolAvailable('script'))('draws the live task list on a terminal (pseudo-TTY via script)', async () => {
    const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(
        'script',
        ['-qfec', `stty cols 120 rows 40; ${JSON.stringify(process.execPath)} ${JSON.stringify(IAC_BIN)} demo`, '/dev/null'],
        { env: { ...process.env, TERM: 'xterm-256color', CI: '', NO_COLOR: '' }, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
        (error, out) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout: out }),
      );
    });
    expect(code).toBe(0);
    // Spinner frames and in-place updates: the listr2 live renderer, not plain lines.
    expect(stdout).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] /);
    expect(stdout).toContain('\x1b[');
    expect(stdout).toContain('Roll out 2 workloads');
    expect(stdout).not.toMatch(/^\[\d\d:\d\d:\d\d\] /m);
  });

  it('Ctrl-C stops the demo with exit 130 and removes the scratch project', async () => {
    const child = spawn(process.execPath, [IAC_BIN, 'demo'], { env: { ...process.env, NO_COLOR: '1', CI: '' } });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('jenkins: #1 running') && !child.killed) child.kill('SIGINT');
    });
    const code = await new Promise<number>((resolve) => child.on('close', (c, signal) => resolve(c ?? (signal ? 128 : 1))));
    expect(code).toBe(130);
    expect(existsSync(scratchDir(out))).toBe(false);
  });
});
