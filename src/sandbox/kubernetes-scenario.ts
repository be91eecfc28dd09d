/**
 * Scenarios for tests: a workload that already runs `previousImage`, whose pod template is then
 * changed to `image` (as `kubectl set image` would) — the controllers carry out the rollout, and
 * pods of `image` behave as `outcome` says (start, hang, fail to pull, crash-loop...).
 */
import type { Controllers, RolloutTiming, WorkloadResource } from './kubernetes-controllers.js';
import type { ImageBehaviour, PodFailure } from './kubernetes-pods.js';
import type { KubeStore, StoredObject } from './kubernetes-store.js';

export type { PodFailure } from './kubernetes-pods.js';
export type SandboxWorkloadKind = 'deployment' | 'statefulset' | 'daemonset' | 'deploymentconfig';

export interface WorkloadScenario {
  kind: SandboxWorkloadKind;
  name: string;
  /** Default `default`. */
  namespace?: string;
  /** Desired replicas (DaemonSet: number of nodes). Default 3. */
  replicas?: number;
  /** The image rolled out. Default `registry.example.com/<name>:v2`. */
  image?: string;
  /** The image running before the rollout. Default `registry.example.com/<name>:v1`. */
  previousImage?: string;
  /** Milliseconds between controller steps. Default 200. */
  stepMs?: number;
  /** Delay before the spec changes. Default 0. */
  startDelayMs?: number;
  /** Delay between the spec change and the controller observing it. Default stepMs. */
  observeDelayMs?: number;
  /**
   * How the rollout ends: `complete`; `stuck` (new pod stays ContainerCreating); `progress-deadline`
   * (stuck, then Progressing=False/ProgressDeadlineExceeded); a pod failure; or `steady` (no
   * rollout: the workload already runs `image`).
   */
  outcome?: 'complete' | 'stuck' | 'progress-deadline' | 'steady' | PodFailure;
  /** CrashLoopBackOff only: the crashing pod becomes ready after this long and the rollout completes. */
  recoverAfterMs?: number;
  /** Container log lines of failing pods. */
  logs?: string[];
  /** Extra pod template annotations (e.g. a revision annotation for `iac status`). */
  templateAnnotations?: Record<string, string>;
  /** Workload update strategy; default RollingUpdate (`OnDelete` makes kubectl refuse). */
  strategy?: 'RollingUpdate' | 'OnDelete';
}

export const RESOURCE_BY_KIND: Record<SandboxWorkloadKind, WorkloadResource> = {
  deployment: 'deployments',
  statefulset: 'statefulsets',
  daemonset: 'daemonsets',
  deploymentconfig: 'deploymentconfigs',
};

const CONTAINER = 'app';

/** The workload object as a manifest would declare it. */
function manifest(scenario: WorkloadScenario, namespace: string, image: string): StoredObject {
  const { kind, name } = scenario;
  const labels = kind === 'deploymentconfig' ? { app: name, deploymentconfig: name } : { app: name };
  const template = {
    metadata: { labels, ...(scenario.templateAnnotations ? { annotations: { ...scenario.templateAnnotations } } : {}) },
    spec: { containers: [{ name: CONTAINER, image }] },
  };
  const replicas = scenario.replicas ?? 3;
  let spec: Record<string, unknown>;
  if (kind === 'deploymentconfig') {
    spec = { replicas, selector: { deploymentconfig: name }, triggers: [{ type: 'ConfigChange' }], strategy: { type: 'Rolling' }, template };
  } else {
    spec = {
      ...(kind === 'daemonset' ? {} : { replicas }),
      selector: { matchLabels: { app: name } },
      template,
      ...(kind === 'statefulset' ? { serviceName: name } : {}),
      // Left to defaulting unless set: StatefulSets then get rollingUpdate.partition 0, as on a real cluster.
      ...(kind === 'deployment' || scenario.strategy === undefined ? {} : { updateStrategy: { type: scenario.strategy } }),
    };
  }
  return { metadata: { name, namespace, labels: { app: name } }, spec };
}

function behaviour(scenario: WorkloadScenario): ImageBehaviour {
  const outcome = scenario.outcome ?? 'complete';
  if (outcome === 'complete' || outcome === 'steady') return { outcome: 'complete' };
  if (outcome === 'stuck' || outcome === 'progress-deadline') return { outcome: 'stuck' };
  return { outcome, ...(scenario.recoverAfterMs === undefined ? {} : { recoverAfterMs: scenario.recoverAfterMs }), ...(scenario.logs ? { logs: scenario.logs } : {}) };
}

/** Starts scenarios: seeds their workloads and changes their images on time. */
export class ScenarioRunner {
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly store: KubeStore,
    private readonly controllers: Controllers,
  ) {}

  add(workloads: WorkloadScenario[]): void {
    for (const scenario of workloads) this.start(scenario);
  }

  private start(scenario: WorkloadScenario): void {
    const namespace = scenario.namespace ?? 'default';
    const resource = RESOURCE_BY_KIND[scenario.kind];
    const image = scenario.image ?? `registry.example.com/${scenario.name}:v2`;
    const previousImage = scenario.previousImage ?? `registry.example.com/${scenario.name}:v1`;
    const stepMs = scenario.stepMs ?? 200;
    const timing: Partial<RolloutTiming> = {
      stepMs,
      observeDelayMs: scenario.observeDelayMs ?? stepMs,
      ...(scenario.outcome === 'progress-deadline' ? { progressDeadlineMs: stepMs * 2 } : {}),
      ...(scenario.kind === 'daemonset' ? { nodes: scenario.replicas ?? 3 } : {}),
    };
    this.controllers.setTiming(resource, namespace, scenario.name, timing);
    const target = { resource, namespace, name: scenario.name };
    this.controllers.setImageBehaviour(image, behaviour(scenario), target);
    const steady = scenario.outcome === 'steady';
    if (this.store.get(resource, namespace, scenario.name) === undefined) {
      this.controllers.seed(resource, manifest(scenario, namespace, steady ? image : previousImage));
    }
    if (steady) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.setImage(resource, namespace, scenario.name, image);
    }, scenario.startDelayMs ?? 0);
    this.timers.add(timer);
  }

  /** What `kubectl set image <workload> app=<image>` does: a new pod template. */
  private setImage(resource: string, namespace: string, name: string, image: string): void {
    const current = this.store.get(resource, namespace, name);
    if (current === undefined) return;
    const next = structuredClone(current);
    const containers = ((next.spec?.template as { spec?: { containers?: { image?: string }[] } } | undefined)?.spec?.containers ?? []);
    const first = containers[0];
    if (first === undefined || first.image === image) return;
    first.image = image;
    this.store.put(resource, next);
  }

  /** Removes a workload as `kubectl delete` would (watchers see DELETED; the garbage collector takes its pods). */
  deleteWorkload(kind: SandboxWorkloadKind, name: string, namespace = 'default'): void {
    this.store.delete(RESOURCE_BY_KIND[kind], namespace, name);
  }

  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
