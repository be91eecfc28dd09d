/**
 * What the Jenkins sandbox plays: jobs (with folders and multibranch projects), the builds each
 * trigger produces, users, and injected faults. All durations are milliseconds of real time.
 */

export type SandboxBuildResult = 'SUCCESS' | 'UNSTABLE' | 'FAILURE' | 'ABORTED' | 'NOT_BUILT';

/** How the build started by one trigger behaves. */
export interface SandboxBuildScenario {
  /** The result once the build finishes (ignored when `cancelInQueue`). */
  result: SandboxBuildResult;
  /**
   * Time the item spends as a `BuildableItem` ("Waiting for next available executor") after its
   * quiet period (and any blocking) ended, before it starts. Default 0.
   */
  queueDelayMs?: number;
  /** The item never starts: a stuck `BuildableItem` with "There are no nodes with the label ‘…’". */
  stuckLabel?: string;
  /** The item is cancelled instead of starting (a `LeftItem` with `cancelled: true`). */
  cancelInQueue?: boolean;
  /** Time from start to `building: false`. The console grows evenly over it. Default 200. */
  durationMs?: number;
  /**
   * The console between the standard header ("Started by user …") and footer ("Finished: RESULT"):
   * explicit lines (without "\n"), or a number of generated fixed-width lines (lazy, any size).
   */
  consoleLines?: string[] | number;
  /** Byte width of each generated line including "\n" (min 22). Default 64. */
  consoleLineBytes?: number;
  /** After the console lines: one generated line of this many bytes (a 40 MB single-line console, produced lazily). */
  consoleLongLineBytes?: number;
  /**
   * The git revision the build reports (BuildData.lastBuiltRevision, or SCMRevisionAction for
   * multibranch branches). Default: the GIT_SHA parameter of the trigger; null: report none.
   */
  revision?: string | null;
}

/** A job. Its i-th trigger plays `builds[i]`; when they run out, the last one repeats. */
export interface SandboxJob {
  /** Pipeline (`WorkflowJob`, default) or freestyle (`FreeStyleProject`). */
  kind?: 'pipeline' | 'freestyle';
  /** Parameter names, or names → default values. Present (even empty) = parameterized. */
  parameters?: string[] | Record<string, string>;
  /** A disabled job answers triggers with 409. */
  disabled?: boolean;
  /** The job's quiet period when a trigger has no `delay`. Default: the sandbox's (5000, as Jenkins). */
  quietPeriodMs?: number;
  /**
   * The quiet period applies even when the trigger passes `delay=0sec`: a stand-in for a Jenkins
   * whose items sit in the quiet period anyway ("In the quiet period. Expires in N sec").
   */
  quietPeriodAlways?: boolean;
  builds: SandboxBuildScenario[];
  /** Finished builds that exist before any trigger (oldest first), for `iac status`. */
  history?: Array<{ result: SandboxBuildResult; revision?: string; ageMs?: number; durationMs?: number }>;
}

export interface SandboxUser {
  user: string;
  /** API token: Basic auth with it needs no crumb. */
  token: string;
  /** Password: Basic auth with it needs a crumb + session cookie on POST, like Jenkins. */
  password?: string;
  /** Default true. False: the user is authenticated but lacks Job/Build (403 on triggers). */
  canBuild?: boolean;
}

export interface JenkinsSandboxFaults {
  /** Added before every answer. */
  latencyMs?: number;
  /** Every request is answered 503 (Jenkins restarting) until this epoch ms. See `unavailableFor`. */
  unavailableUntil?: number;
  /** 503 for `durationMs`, starting `afterMs` after each successful trigger. */
  unavailableAfterTrigger?: { afterMs: number; durationMs: number };
  /** Cut the connection after this many body bytes of a progressiveText answer… */
  dropConsoleAfterBytes?: number;
  /** …for this many answers (default 1). */
  dropConsoleTimes?: number;
  /** The trigger POST is recorded and queued, then answered only after this long (a slow proxy). */
  triggerAnswerDelayMs?: number;
  /** The trigger POST is recorded and queued, then answered with this status (e.g. 502 from a proxy). */
  triggerStatus?: number;
  /** `X-More-Data: true` on every console answer, also after the build ended (a broken proxy or plugin). */
  moreDataForever?: boolean;
  /**
   * A single-sign-on front end: requests with these methods (default POST) are answered 302 to
   * `location` and never reach Jenkins.
   */
  loginRedirect?: { location: string; methods?: Array<'GET' | 'POST'> };
  /** Every `api/json` answer carries this many extra bytes (a padding field; `tree=` ignored): a huge body. */
  jsonPaddingBytes?: number;
}

export interface JenkinsSandboxOptions {
  /** Jobs by full path: `deploy`, `shop/deploy` (folders are created as needed). */
  jobs?: Record<string, SandboxJob>;
  /** Multibranch projects by path → branch name (`feature/x`) → job. */
  multibranch?: Record<string, Record<string, SandboxJob>>;
  /**
   * When empty, security is off: anonymous may do everything (POSTs still need a crumb) and any
   * Basic credentials are accepted like an API token, so a client configured with a token works too.
   */
  users?: SandboxUser[];
  /** What an unauthenticated request may do. Default: 'build' without users, else 'none'. */
  anonymous?: 'none' | 'read' | 'build';
  /** CSRF protection (crumbs). Default true; false makes /crumbIssuer 404 like Jenkins. */
  csrf?: boolean;
  /** Context path such as `/jenkins`. Default none. */
  contextPath?: string;
  /** Root URL used in JSON `url` fields (Jenkins' configured URL). Default: the sandbox URL. */
  rootUrl?: string;
  /** `X-Jenkins` version. Default 2.528. */
  version?: string;
  /** Global quiet period. Default 5000 (Jenkins' default). */
  quietPeriodMs?: number;
  /** How long a queue item stays visible after it left the queue. Default 300000 (5 min, as Jenkins). */
  leftItemTtlMs?: number;
  /** Size of the writes of a console answer. Default 65536. */
  consoleWriteBytes?: number;
  /** Time from `/stop` to `building: false`. Default 100. */
  stopDelayMs?: number;
  faults?: JenkinsSandboxFaults;
}
