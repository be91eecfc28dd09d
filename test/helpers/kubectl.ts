/**
 * The real kubectl against a Kubernetes sandbox: its own HOME and discovery cache per test
 * directory (kubectl caches discovery for 10 minutes, keyed by host:port), argument arrays only.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { execa } from 'execa';

export interface KubectlResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface Kubectl {
  (args: string[], options?: { input?: string; timeoutMs?: number }): Promise<KubectlResult>;
  /** Starts a long-running kubectl (`get -w`, `logs -f`); the caller ends it. */
  spawn(args: string[]): ChildProcessWithoutNullStreams;
}

export function kubectlFor(kubeconfig: string, dir: string): Kubectl {
  const base = ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'kube-cache')];
  const env = { HOME: dir, KUBECONFIG: '', PATH: process.env.PATH ?? '' };
  const run = (async (args: string[], options: { input?: string; timeoutMs?: number } = {}) => {
    const result = await execa('kubectl', [...base, ...args], {
      reject: false,
      env,
      extendEnv: false,
      timeout: options.timeoutMs ?? 60_000,
      ...(options.input === undefined ? {} : { input: options.input }),
    });
    return { stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode ?? -1 };
  }) as Kubectl;
  run.spawn = (args) => spawn('kubectl', [...base, ...args], { env });
  return run;
}

export interface OutputStream {
  readonly text: string;
  /** Resolves with all output so far once `done(output)` holds; rejects after `timeoutMs`. */
  until(done: (output: string) => boolean, timeoutMs: number): Promise<string>;
}

/** Collects a long-running kubectl's stdout from the start, for waiting on what it has printed. */
export function outputOf(child: ChildProcessWithoutNullStreams): OutputStream {
  let text = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    for (const waiter of [...waiters]) waiter();
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return {
    get text() {
      return text;
    },
    until(done, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (!done(text)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(text);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`kubectl output did not arrive within ${timeoutMs} ms; stdout so far:\n${text}\nstderr:\n${stderr}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

/** Resolves with the exit code (and output) when the process ends by itself. */
export function exitOf(child: ChildProcessWithoutNullStreams): Promise<{ code: number | null; stdout: string }> {
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout })));
}

/** Splits a kubectl table into rows of cells (runs of 2+ spaces separate columns). */
export function tableRows(text: string): string[][] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => line.trim().split(/\s{2,}/));
}
