import type { Output } from './output.js';
import type { Plan } from './types.js';

/**
 * What runs and how to stop it, on a terminal, as soon as the run is bound to its commit — before the
 * preflight asks anyone anything — in lines that fit the terminal.
 */
export function printRunHeader(output: Output, plan: Pick<Plan, 'command' | 'environment' | 'branch' | 'sha'>, columns = process.stdout.columns || 80): void {
  if (output.mode !== 'tty') return;
  const c = output.chalk;
  const what = `iac ${plan.command} ${plan.environment}`;
  const parts = [`${plan.branch} @ ${plan.sha.slice(0, 7)}`, 'Ctrl-C stops iac', 'a Jenkins build goes on unless --cancel-on-interrupt'];
  let line = what;
  const lines: string[] = [];
  for (const part of parts) {
    if (line.length + 3 + part.length > columns) {
      lines.push(line);
      line = `  ${part}`;
    } else line = `${line} · ${part}`;
  }
  lines.push(line);
  lines.forEach((text, i) => output.info(i === 0 ? `${c.bold(what)}${c.dim(text.slice(what.length))}` : c.dim(text)));
}
