/** The pipeline's vocabulary: a Plan is an ordered list of fully resolved Steps. */

export const STEP_IDS = ['git', 'jenkins', 'ansible', 'rollout'] as const;
export type StepId = (typeof STEP_IDS)[number];

export interface Link {
  label: string;
  url: string;
}

/** One parallel unit inside a step (a workload in the rollout step). */
export interface SubtaskHandle {
  readonly title: string;
  progress(message: string): void;
  succeed(message?: string): void;
  fail(message: string): void;
}

/** Facts a step journals about a mutation (build number, queue id, recap): small scalars only. */
export type JournalDetail = Record<string, string | number | boolean>;

/** What a run changes in the world; each is journaled before (intent) and after (outcome). */
export type MutationAction = 'push' | 'merge' | 'trigger' | 'playbook';

/** What a running step may do. Steps never print: they report through this context. */
export interface StepContext {
  readonly signal: AbortSignal;
  /** `.iac/runs/<timestamp>/`: where steps save full logs. */
  readonly runDir: string;
  readonly verbose: boolean;
  /** One line of current state (queue reason, last console line, kubectl message). */
  progress(message: string): void;
  /** A transient glimpse (the console's last line): only the live TTY view shows it, overwritten by the next. */
  liveLine(text: string): void;
  /** Full output (console, ansible task lines): shown live with --verbose, always in --json. */
  log(text: string): void;
  link(label: string, url: string): void;
  warn(message: string): void;
  /** Registers a secret value so it is masked in every output, log and event. */
  secret(value: string): void;
  /** Masks every registered secret in `text` (for logs a step writes itself, e.g. ansible.log). */
  redact(text: string): string;
  /** Journals, durably, that a mutation is about to happen: a run that dies now leaves it "unknown". */
  intent(action: MutationAction, detail?: JournalDetail): void;
  /** Journals how the mutation went (call again with more detail as it progresses, e.g. a build number). */
  outcome(action: MutationAction, ok: boolean, detail?: JournalDetail): void;
  /** Runs `body` while showing one subtask per title; `body` settles each handle. */
  subtasks(titles: string[], body: (handles: SubtaskHandle[]) => Promise<void>): Promise<void>;
}

export interface StepResult {
  /** One line for the summary, e.g. "#42 SUCCESS" or "3 workloads rolled out". */
  summary?: string;
}

export interface Step {
  readonly id: StepId;
  readonly title: string;
  /** What the step would do, fully resolved, for --dry-run ("would …" lines). */
  describe(): string[];
  /** Read-only checks that must pass before any step changes anything (missing tool, syntax error). */
  preflight?(signal: AbortSignal): Promise<void>;
  run(ctx: StepContext): Promise<StepResult>;
  /**
   * Called when the run starts, before the first step: a step may start slow local work early (the
   * playbook's Python start-up, held before its first task) so it hides behind the steps before it.
   * Nothing may change the world before `run`. `cancel` aborts when the step will not run after all.
   * What it reports is shown once the step starts.
   */
  warmUp?(ctx: StepContext, cancel: AbortSignal): void;
  /** Told when the run is interrupted after this step started: what keeps running remotely. */
  onInterrupt?(): string | undefined;
}

export interface SkippedStep {
  id: StepId;
  reason: string;
}

/**
 * Checks around the run's steps that are about the run as a whole (the branch it deploys moving
 * under it). `beforeStep` may throw to stop the run before a step changes anything; `afterSteps`
 * may throw to fail a run whose steps all succeeded, and returns warnings for the summary.
 */
export interface RunGuard {
  /** Called once before the preflight: notes the state the run starts from. */
  start(signal: AbortSignal): Promise<void>;
  beforeStep(id: StepId, signal: AbortSignal): Promise<void>;
  /** The last step started: checks that `afterSteps` reports may begin now, off the critical path. */
  lastStepStarted?(id: StepId, signal: AbortSignal): void;
  afterSteps(signal: AbortSignal): Promise<string[]>;
}

export interface Plan {
  command: string;
  environment: string;
  branch: string;
  /** The one commit the run deploys, bound before anything runs. */
  sha: string;
  steps: Step[];
  skipped: SkippedStep[];
  guard?: RunGuard;
}

export type StepOutcome = 'success' | 'failed' | 'skipped' | 'interrupted' | 'not-run';

export interface StepReport {
  id: StepId;
  title: string;
  outcome: StepOutcome;
  durationMs: number;
  summary?: string;
  links: Link[];
  warnings: string[];
}
