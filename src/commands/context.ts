import type { Output } from '../pipeline/output.js';
import type { StepReport } from '../pipeline/types.js';

/** Flags every command may see (commander's optsWithGlobals, plus positional arguments by name). */
export interface CommandOptions {
  config?: string;
  json?: boolean;
  verbose?: boolean;
  yes?: boolean;
  dryRun?: boolean;
  color?: boolean;
  only?: string;
  skip?: string;
  timeout?: string;
  cancelOnInterrupt?: boolean;
  [name: string]: unknown;
}

/** What a command gets: no globals, so commands run in tests with a temp cwd and their own streams. */
export interface CommandContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  options: CommandOptions;
  output: Output;
  signal: AbortSignal;
  /** True when a person can answer a prompt (stdin and stdout are terminals). */
  interactive: boolean;
  /** Ask a yes/no question on the terminal. */
  confirm(question: string): Promise<boolean>;
  /** Step reports to include in the final `result` event. */
  reportSteps(reports: StepReport[]): void;
}
