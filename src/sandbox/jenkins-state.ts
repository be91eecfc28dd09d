/**
 * The Jenkins sandbox's world: the item tree (folders, multibranch projects, jobs), the queue and
 * the builds, and their JSON exactly as Jenkins exports it (protocols/jenkins.md §3, §4, §7).
 * Time-driven and lazy: `tick(now)` moves queue items along; nothing runs on timers.
 */
import { ConcatText, type ConsoleText, GeneratedLines, LongLine, PrefixText, text } from './jenkins-console.js';
import type { JenkinsSandboxOptions, SandboxBuildResult, SandboxBuildScenario, SandboxJob } from './jenkins-scenario.js';

const CLASS = {
  pipelineJob: 'org.jenkinsci.plugins.workflow.job.WorkflowJob',
  freestyleJob: 'hudson.model.FreeStyleProject',
  pipelineRun: 'org.jenkinsci.plugins.workflow.job.WorkflowRun',
  freestyleRun: 'hudson.model.FreeStyleBuild',
  folder: 'com.cloudbees.hudson.plugins.folder.Folder',
  multibranch: 'org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject',
} as const;

/** Util.rawEncode, written out again here (not imported from the client) so the sandbox checks the client independently. */
function rawEncode(name: string): string {
  let out = '';
  for (const char of name) {
    if (/[A-Za-z0-9!$&'()*+,\-.=@_]/.test(char)) out += char;
    else for (const byte of Buffer.from(char, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** branch-api NameEncoder: the job name of a branch. */
function branchJobName(branch: string): string {
  if (branch === '') return '%00';
  if (branch === '.') return '%2E';
  if (branch === '..') return '%2E.';
  const map: Record<string, string> = { '#': '%23', '%': '%25', '/': '%2F', '?': '%3F', '[': '%5B', ']': '%5D', '\\': '%5C' };
  return [...branch].map((char) => map[char] ?? char).join('');
}

export interface ItemNode {
  kind: 'root' | 'folder' | 'multibranch' | 'job';
  name: string;
  fullName: string;
  /** Relative to the root URL: `job/a/job/b/`. */
  urlPath: string;
  children: Map<string, ItemNode>;
  job?: JobState;
}

export interface JobState {
  node: ItemNode;
  def: SandboxJob;
  kind: 'pipeline' | 'freestyle';
  isBranch: boolean;
  branch: string | undefined;
  /** undefined: not parameterized. */
  parameterDefaults: Record<string, string> | undefined;
  nextBuildNumber: number;
  builds: BuildRecord[];
  triggers: number;
}

export interface QueueEntry {
  id: number;
  job: JobState;
  params: Record<string, string> | undefined;
  scenario: SandboxBuildScenario;
  user: string | undefined;
  enqueuedAt: number;
  quietUntil: number;
  blockedUntil?: number;
  blockedBy?: number;
  startAt?: number;
  left?: { at: number; cancelled: boolean; build?: BuildRecord };
}

export interface BuildRecord {
  number: number;
  job: JobState;
  queueId: number;
  params: Record<string, string> | undefined;
  user: string | undefined;
  startedAt: number;
  endsAt: number;
  result: SandboxBuildResult;
  revision: string | undefined;
  console: ConsoleText;
  /** Bytes of header + body: the part that grows while building (the footer comes at the end). */
  growingBytes: number;
  stopped?: { at: number; available: number };
}

const RESULT_COLOR: Record<SandboxBuildResult, string> = {
  SUCCESS: 'blue',
  UNSTABLE: 'yellow',
  FAILURE: 'red',
  ABORTED: 'aborted',
  NOT_BUILT: 'notbuilt',
};

export class SandboxState {
  readonly root: ItemNode = { kind: 'root', name: '', fullName: '', urlPath: '', children: new Map() };
  readonly queue: QueueEntry[] = [];
  /** Root URL for JSON `url` fields, with trailing slash (set once the server listens). */
  rootUrl = 'http://127.0.0.1/';
  private nextQueueId = 1;

  constructor(
    private readonly options: JenkinsSandboxOptions,
    now: number,
  ) {
    for (const [path, def] of Object.entries(options.jobs ?? {})) this.addJob(path.split('/').filter(Boolean), def, undefined, now);
    for (const [path, branches] of Object.entries(options.multibranch ?? {})) {
      const names = path.split('/').filter(Boolean);
      const project = this.ensureContainers(names, 'multibranch');
      for (const [branch, def] of Object.entries(branches)) this.addJob([...names, branchJobName(branch)], def, branch, now, project);
    }
  }

  private ensureContainers(names: string[], lastKind: 'folder' | 'multibranch'): ItemNode {
    let node = this.root;
    names.forEach((name, index) => {
      let child = node.children.get(name);
      if (!child) {
        child = {
          kind: index === names.length - 1 ? lastKind : 'folder',
          name,
          fullName: node.fullName ? `${node.fullName}/${name}` : name,
          urlPath: `${node.urlPath}job/${rawEncode(name)}/`,
          children: new Map(),
        };
        node.children.set(name, child);
      }
      node = child;
    });
    return node;
  }

  private addJob(names: string[], def: SandboxJob, branch: string | undefined, now: number, parent?: ItemNode): void {
    const name = names[names.length - 1];
    if (name === undefined) throw new Error('a sandbox job needs a name');
    const container = parent ?? (names.length > 1 ? this.ensureContainers(names.slice(0, -1), 'folder') : this.root);
    const node: ItemNode = {
      kind: 'job',
      name,
      fullName: container.fullName ? `${container.fullName}/${name}` : name,
      urlPath: `${container.urlPath}job/${rawEncode(name)}/`,
      children: new Map(),
    };
    const parameterDefaults =
      def.parameters === undefined
        ? undefined
        : Array.isArray(def.parameters)
          ? Object.fromEntries(def.parameters.map((p) => [p, '']))
          : { ...def.parameters };
    const job: JobState = {
      node,
      def,
      kind: def.kind ?? 'pipeline',
      isBranch: branch !== undefined,
      branch,
      parameterDefaults,
      nextBuildNumber: 1,
      builds: [],
      triggers: 0,
    };
    node.job = job;
    container.children.set(name, node);
    for (const past of def.history ?? []) {
      const durationMs = past.durationMs ?? 1000;
      const startedAt = now - (past.ageMs ?? 3_600_000) - durationMs;
      const build = this.createBuild(job, { result: past.result, durationMs, revision: past.revision ?? null }, 0, undefined, undefined, startedAt);
      job.builds.push(build);
    }
  }

  /** Resolves decoded item names (`['shop', 'feature%2Fx']`). */
  find(names: string[]): ItemNode | undefined {
    let node: ItemNode | undefined = this.root;
    for (const name of names) {
      node = node.children.get(name);
      if (!node) return undefined;
    }
    return node;
  }

  /** The job whose full name (`shop/app/feature%2Fx`) is given. */
  jobByFullName(fullName: string): JobState | undefined {
    return this.find(fullName.split('/').filter(Boolean))?.job;
  }

  url(path: string): string {
    return `${this.rootUrl}${path}`;
  }

  // ——— queue ———

  /** Queues a build; an identical item still waiting absorbs it (Jenkins' duplicate collapsing). */
  enqueue(job: JobState, params: Record<string, string> | undefined, delayMs: number, user: string | undefined, now: number): { entry: QueueEntry; existing: boolean } {
    const same = this.queue.find((entry) => entry.job === job && !entry.left && sameParams(entry.params, params));
    if (same) return { entry: same, existing: true };
    const scenarios = job.def.builds;
    const scenario = scenarios[Math.min(job.triggers, scenarios.length - 1)] ?? { result: 'SUCCESS' };
    job.triggers++;
    const entry: QueueEntry = { id: this.nextQueueId++, job, params, scenario, user, enqueuedAt: now, quietUntil: now + delayMs };
    this.queue.push(entry);
    return { entry, existing: false };
  }

  quietPeriodMs(job: JobState): number {
    return job.def.quietPeriodMs ?? this.options.quietPeriodMs ?? 5000;
  }

  /** The delay a trigger gets: its `delay` parameter, unless the job keeps its quiet period regardless. */
  triggerDelayMs(job: JobState, requested: number | undefined): number {
    if (requested === undefined || job.def.quietPeriodAlways) return Math.max(requested ?? 0, this.quietPeriodMs(job));
    return requested;
  }

  /** Moves queue items along to `now`: quiet period → blocked → buildable → started | cancelled. */
  tick(now: number): void {
    for (const entry of this.queue) {
      if (entry.left || now < entry.quietUntil) continue;
      if (entry.startAt === undefined) {
        // A job without concurrent builds is blocked while its previous build runs.
        const blocker = this.blockerAt(entry, entry.quietUntil);
        entry.blockedUntil = Math.max(entry.quietUntil, blocker?.until ?? 0);
        entry.blockedBy = blocker?.number;
        entry.startAt = entry.blockedUntil + (entry.scenario.queueDelayMs ?? 0);
      }
      if (entry.scenario.stuckLabel !== undefined || now < entry.startAt) continue;
      if (entry.scenario.cancelInQueue) {
        entry.left = { at: entry.startAt, cancelled: true };
        continue;
      }
      const build = this.createBuild(entry.job, entry.scenario, entry.id, entry.params, entry.user, entry.startAt);
      entry.job.builds.push(build);
      entry.left = { at: entry.startAt, cancelled: false, build };
    }
  }

  private blockerAt(entry: QueueEntry, at: number): { until: number; number: number | undefined } | undefined {
    let blocker: { until: number; number: number | undefined } | undefined;
    for (const build of entry.job.builds) {
      if (build.endsAt > at && (!blocker || build.endsAt > blocker.until)) blocker = { until: build.endsAt, number: build.number };
    }
    for (const other of this.queue) {
      if (other.id >= entry.id || other.job !== entry.job || other.left || other.startAt === undefined) continue;
      if (other.scenario.cancelInQueue || other.scenario.stuckLabel !== undefined) continue;
      const until = other.startAt + (other.scenario.durationMs ?? 200);
      if (until > at && (!blocker || until > blocker.until)) blocker = { until, number: undefined };
    }
    return blocker;
  }

  /** A queue item by id, or undefined once it left more than `leftItemTtlMs` ago (Jenkins: 5 minutes). */
  queueItem(id: number, now: number): QueueEntry | undefined {
    const entry = this.queue.find((candidate) => candidate.id === id);
    if (!entry) return undefined;
    if (entry.left && now - entry.left.at > (this.options.leftItemTtlMs ?? 300_000)) return undefined;
    return entry;
  }

  /** `/queue/cancelItem`: 'cancelled', or 'left' when it already started or was cancelled. */
  cancel(entry: QueueEntry, now: number): 'cancelled' | 'left' {
    if (entry.left) return 'left';
    entry.left = { at: now, cancelled: true };
    return 'cancelled';
  }

  // ——— builds ———

  private createBuild(
    job: JobState,
    scenario: SandboxBuildScenario,
    queueId: number,
    params: Record<string, string> | undefined,
    user: string | undefined,
    startedAt: number,
  ): BuildRecord {
    const number = job.nextBuildNumber++;
    const revision = scenario.revision === null ? undefined : (scenario.revision ?? params?.GIT_SHA);
    const header = consoleHeader(job, user, revision);
    const body = bodyText(scenario);
    const footer = text(job.kind === 'pipeline' ? `[Pipeline] End of Pipeline\nFinished: ${scenario.result}\n` : `Finished: ${scenario.result}\n`);
    return {
      number,
      job,
      queueId,
      params,
      user,
      startedAt,
      endsAt: startedAt + (scenario.durationMs ?? 200),
      result: scenario.result,
      revision,
      console: new ConcatText([header, body, footer]),
      growingBytes: header.size + body.size,
    };
  }

  building(build: BuildRecord, now: number): boolean {
    return now < build.endsAt;
  }

  /** Bytes of the log written by `now`: it grows evenly over the build, may end mid-line or mid-character. */
  available(build: BuildRecord, now: number): number {
    if (!this.building(build, now)) return build.console.size;
    if (build.stopped) return build.stopped.available;
    const duration = Math.max(1, build.endsAt - build.startedAt);
    const fraction = Math.max(0, Math.min(1, (now - build.startedAt) / duration));
    return Math.floor(build.growingBytes * fraction);
  }

  /** `/stop`: the log is cut where it was, "Aborted by …" appended, ABORTED after the stop delay. */
  stop(build: BuildRecord, user: string | undefined, now: number): void {
    if (!this.building(build, now) || build.stopped) return;
    const available = this.available(build, now);
    const endsWithNewline = available === 0 || build.console.read(available - 1, available)[0] === 0x0a;
    build.console = new ConcatText([
      new PrefixText(build.console, available),
      text(`${endsWithNewline ? '' : '\n'}Aborted by ${user ?? 'anonymous'}\nFinished: ABORTED\n`),
    ]);
    build.growingBytes = available;
    build.result = 'ABORTED';
    build.stopped = { at: now, available };
    build.endsAt = now + (this.options.stopDelayMs ?? 100);
  }

  // ——— JSON ———

  private color(job: JobState, now: number): string {
    const last = job.builds[job.builds.length - 1];
    if (job.def.disabled) return 'disabled';
    if (!last) return 'notbuilt';
    const lastDone = [...job.builds].reverse().find((build) => !this.building(build, now));
    const base = lastDone ? RESULT_COLOR[lastDone.result] : 'notbuilt';
    return this.building(last, now) ? `${base}_anime` : base;
  }

  private taskJson(job: JobState, now: number): Record<string, unknown> {
    return { _class: jobClass(job), name: job.node.name, url: this.url(job.node.urlPath), color: this.color(job, now) };
  }

  queueItemJson(entry: QueueEntry, now: number): Record<string, unknown> {
    const actions: unknown[] = [];
    if (entry.params) actions.push(parametersAction(entry.params));
    actions.push(causeAction(entry.user));
    const common = {
      actions,
      blocked: false,
      buildable: false,
      id: entry.id,
      inQueueSince: entry.enqueuedAt,
      params: entry.params ? Object.entries(entry.params).map(([k, v]) => `\n${k}=${v}`).join('') : '',
      stuck: false,
      task: this.taskJson(entry.job, now),
      url: `queue/item/${entry.id}/`,
    };
    if (entry.left) {
      const build = entry.left.build;
      return {
        _class: 'hudson.model.Queue$LeftItem',
        ...common,
        why: null,
        cancelled: entry.left.cancelled,
        executable: build ? { _class: runClass(build.job), number: build.number, url: this.url(`${build.job.node.urlPath}${build.number}/`) } : null,
      };
    }
    if (now < entry.quietUntil || entry.startAt === undefined) {
      const seconds = Math.max(0, entry.quietUntil - now) / 1000;
      return {
        _class: 'hudson.model.Queue$WaitingItem',
        ...common,
        why: now < entry.quietUntil ? `In the quiet period. Expires in ${seconds.toFixed(1)} sec` : 'Finished waiting',
        timestamp: entry.quietUntil,
      };
    }
    if (entry.blockedUntil !== undefined && now < entry.blockedUntil) {
      const eta = Math.ceil((entry.blockedUntil - now) / 1000);
      return {
        _class: 'hudson.model.Queue$BlockedItem',
        ...common,
        blocked: true,
        why: entry.blockedBy !== undefined ? `Build #${entry.blockedBy} is already in progress (ETA: ${eta} sec)` : `Blocked by ‘${entry.job.node.fullName}’`,
        buildableStartMilliseconds: entry.quietUntil,
      };
    }
    const stuckLabel = entry.scenario.stuckLabel;
    return {
      _class: 'hudson.model.Queue$BuildableItem',
      ...common,
      buildable: true,
      stuck: stuckLabel !== undefined,
      why: stuckLabel !== undefined ? `There are no nodes with the label ‘${stuckLabel}’` : 'Waiting for next available executor',
      buildableStartMilliseconds: entry.blockedUntil ?? entry.quietUntil,
      pending: false,
    };
  }

  buildJson(build: BuildRecord, now: number): Record<string, unknown> {
    const job = build.job;
    const building = this.building(build, now);
    const actions: unknown[] = [];
    if (build.params) actions.push(parametersAction(build.params));
    actions.push(causeAction(build.user));
    if (build.revision) {
      if (job.isBranch) {
        actions.push({
          _class: 'jenkins.scm.api.SCMRevisionAction',
          revision: { _class: 'jenkins.plugins.git.AbstractGitSCMSource$SCMRevisionImpl', hash: build.revision },
        });
      }
      const branchRef = `refs/remotes/origin/${job.branch ?? 'main'}`;
      const rev = { SHA1: build.revision, branch: [{ SHA1: build.revision, name: branchRef }] };
      actions.push({
        _class: 'hudson.plugins.git.util.BuildData',
        buildsByBranchName: { [branchRef]: { _class: 'hudson.plugins.git.util.Build', buildNumber: build.number, buildResult: null, marked: rev, revision: rev } },
        lastBuiltRevision: rev,
        remoteUrls: [`https://git.example.test/${job.node.fullName.split('/')[0] ?? 'repo'}.git`],
        scmName: '',
      });
    }
    actions.push({});
    const previous = job.builds.filter((other) => other.number < build.number).at(-1);
    const next = job.builds.find((other) => other.number > build.number);
    const durationMs = build.endsAt - build.startedAt;
    const json: Record<string, unknown> = {
      _class: runClass(job),
      actions,
      artifacts: [],
      building,
      description: null,
      displayName: `#${build.number}`,
      duration: building ? 0 : durationMs,
      estimatedDuration: previous ? previous.endsAt - previous.startedAt : -1,
      executor: building ? (job.kind === 'pipeline' ? { _class: 'hudson.model.OneOffExecutor' } : {}) : null,
      fullDisplayName: `${job.node.fullName.split('/').join(' » ')} #${build.number}`,
      id: String(build.number),
      inProgress: building,
      keepLog: false,
      number: build.number,
      queueId: build.queueId,
      result: building ? null : build.result,
      timestamp: build.startedAt,
      url: this.url(`${job.node.urlPath}${build.number}/`),
    };
    if (job.kind === 'freestyle') {
      json.builtOn = '';
      json.changeSet = { _class: 'hudson.scm.EmptyChangeLogSet', items: [], kind: null };
      json.culprits = [];
    } else {
      json.changeSets = [];
      json.culprits = [];
      json.nextBuild = next ? { number: next.number, url: this.url(`${job.node.urlPath}${next.number}/`) } : null;
      json.previousBuild = previous ? { number: previous.number, url: this.url(`${job.node.urlPath}${previous.number}/`) } : null;
    }
    return json;
  }

  /** Job JSON; `deep` renders `builds` as whole build objects (for `tree=` pruning), else as depth-0 refs. */
  jobJson(job: JobState, now: number, deep: boolean): Record<string, unknown> {
    const node = job.node;
    const newestFirst = [...job.builds].reverse();
    const ref = (build: BuildRecord | undefined): Record<string, unknown> | null =>
      build ? { _class: runClass(job), number: build.number, url: this.url(`${node.urlPath}${build.number}/`) } : null;
    const done = newestFirst.filter((build) => !this.building(build, now));
    const queued = this.queue.find((entry) => entry.job === job && !entry.left);
    const parameterProperty =
      job.parameterDefaults === undefined
        ? []
        : [
            {
              _class: 'hudson.model.ParametersDefinitionProperty',
              parameterDefinitions: Object.entries(job.parameterDefaults).map(([name, value]) => ({
                _class: 'hudson.model.StringParameterDefinition',
                defaultParameterValue: { _class: 'hudson.model.StringParameterValue', name, value },
                description: '',
                name,
                type: 'StringParameterDefinition',
              })),
            },
          ];
    return {
      _class: jobClass(job),
      actions: [...parameterProperty, {}],
      description: '',
      displayName: job.branch ?? node.name,
      displayNameOrNull: job.branch ?? null,
      fullDisplayName: node.fullName.split('/').join(' » '),
      fullName: node.fullName,
      name: node.name,
      url: this.url(node.urlPath),
      buildable: !job.def.disabled,
      builds: newestFirst.slice(0, 100).map((build) => (deep ? this.buildJson(build, now) : ref(build))),
      color: this.color(job, now),
      firstBuild: ref(job.builds[0]),
      healthReport: [],
      inQueue: queued !== undefined,
      keepDependencies: false,
      lastBuild: ref(newestFirst[0]),
      lastCompletedBuild: ref(done[0]),
      lastFailedBuild: ref(done.find((build) => build.result === 'FAILURE')),
      lastStableBuild: ref(done.find((build) => build.result === 'SUCCESS')),
      lastSuccessfulBuild: ref(done.find((build) => build.result === 'SUCCESS' || build.result === 'UNSTABLE')),
      lastUnstableBuild: ref(done.find((build) => build.result === 'UNSTABLE')),
      lastUnsuccessfulBuild: ref(done.find((build) => build.result !== 'SUCCESS')),
      nextBuildNumber: job.nextBuildNumber,
      property: parameterProperty,
      queueItem: queued ? this.queueItemJson(queued, now) : null,
      concurrentBuild: false,
      disabled: job.def.disabled === true,
      ...(job.kind === 'pipeline' ? { resumeBlocked: false } : {}),
    };
  }

  /** Folder, multibranch project or the root (`hudson.model.Hudson`). */
  containerJson(node: ItemNode, now: number): Record<string, unknown> {
    const jobs = [...node.children.values()].map((child) => ({
      _class: child.job ? jobClass(child.job) : child.kind === 'multibranch' ? CLASS.multibranch : CLASS.folder,
      name: child.name,
      url: this.url(child.urlPath),
      ...(child.job ? { color: this.color(child.job, now) } : {}),
    }));
    if (node.kind === 'root') {
      return { _class: 'hudson.model.Hudson', mode: 'NORMAL', nodeDescription: 'the Jenkins sandbox', jobs, quietingDown: false, useCrumbs: this.options.csrf !== false, useSecurity: (this.options.users ?? []).length > 0, url: this.rootUrl };
    }
    return {
      _class: node.kind === 'multibranch' ? CLASS.multibranch : CLASS.folder,
      actions: [{}],
      description: null,
      displayName: node.name,
      displayNameOrNull: null,
      fullDisplayName: node.fullName.split('/').join(' » '),
      fullName: node.fullName,
      name: node.name,
      url: this.url(node.urlPath),
      healthReport: [],
      jobs,
    };
  }
}

function sameParams(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

function jobClass(job: JobState): string {
  return job.kind === 'pipeline' ? CLASS.pipelineJob : CLASS.freestyleJob;
}

function runClass(job: JobState): string {
  return job.kind === 'pipeline' ? CLASS.pipelineRun : CLASS.freestyleRun;
}

function parametersAction(params: Record<string, string>): Record<string, unknown> {
  return {
    _class: 'hudson.model.ParametersAction',
    parameters: Object.entries(params).map(([name, value]) => ({ _class: 'hudson.model.StringParameterValue', name, value })),
  };
}

function causeAction(user: string | undefined): Record<string, unknown> {
  return {
    _class: 'hudson.model.CauseAction',
    causes: [
      {
        _class: 'hudson.model.Cause$UserIdCause',
        shortDescription: user ? `Started by user ${user}` : 'Started by anonymous user',
        userId: user ?? null,
        userName: user ?? 'anonymous',
      },
    ],
  };
}

function consoleHeader(job: JobState, user: string | undefined, revision: string | undefined): ConsoleText {
  const lines = [user ? `Started by user ${user}` : 'Started by anonymous user'];
  if (job.kind === 'pipeline') lines.push('[Pipeline] Start of Pipeline', '[Pipeline] node', `Running on Jenkins in /var/jenkins_home/workspace/${job.node.fullName}`);
  else lines.push('Running as SYSTEM', `Building in workspace /var/jenkins_home/workspace/${job.node.fullName}`);
  // A multibranch branch job checks out its branch; a job given a SHA parameter checks out that commit detached.
  if (revision) lines.push(`Checking out Revision ${revision} (${job.branch !== undefined ? `refs/remotes/origin/${job.branch}` : 'detached'})`);
  return text(`${lines.join('\n')}\n`);
}

function bodyText(scenario: SandboxBuildScenario): ConsoleText {
  const lines = scenario.consoleLines ?? ['+ ./deploy.sh', 'deploying…', 'done'];
  const body = typeof lines === 'number' ? new GeneratedLines(lines, scenario.consoleLineBytes) : text(lines.map((line) => `${line}\n`).join(''));
  return scenario.consoleLongLineBytes ? new ConcatText([body, new LongLine(scenario.consoleLongLineBytes)]) : body;
}
