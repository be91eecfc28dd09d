/**
 * Drives each workload's rollout over time, the way the controllers would: the spec changes, the
 * controller observes it, new pods come up (or fail to), old pods go away, and the workload's
 * status is recomputed from its pods after every step. Pod failure states come with the events and
 * logs a real kubelet would produce.
 */
import { randomBytes } from 'node:crypto';
import type { KubeStore, StoredObject } from './kubernetes-store.js';

export type SandboxWorkloadKind = 'deployment' | 'statefulset' | 'daemonset' | 'deploymentconfig';
export type PodFailure = 'ImagePullBackOff' | 'ErrImagePull' | 'InvalidImageName' | 'CreateContainerConfigError' | 'CrashLoopBackOff';

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

const RESOURCE_BY_KIND: Record<SandboxWorkloadKind, string> = {
  deployment: 'deployments',
  statefulset: 'statefulsets',
  daemonset: 'daemonsets',
  deploymentconfig: 'deploymentconfigs',
};

const CONTAINER = 'app';

interface SimPod {
  name: string;
  fresh: boolean;
  object: StoredObject;
}

function suffix(length: number): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...randomBytes(length)].map((byte) => alphabet[byte % alphabet.length]).join('');
}

function nowIso(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

/** One workload's simulated controller. */
class WorkloadSimulation {
  private readonly namespace: string;
  private readonly replicas: number;
  private readonly image: string;
  private readonly previousImage: string;
  private readonly stepMs: number;
  private readonly resource: string;
  private readonly labels: Record<string, string>;
  private oldPods: SimPod[] = [];
  private newPods: SimPod[] = [];
  private revision = 1;
  private observed = true;
  private extraStatus: Record<string, unknown> = {};
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly store: KubeStore,
    private readonly scenario: WorkloadScenario,
    private readonly logs: Map<string, string[]>,
  ) {
    this.namespace = scenario.namespace ?? 'default';
    this.replicas = scenario.replicas ?? 3;
    this.image = scenario.image ?? `registry.example.com/${scenario.name}:v2`;
    this.previousImage = scenario.previousImage ?? `registry.example.com/${scenario.name}:v1`;
    this.stepMs = scenario.stepMs ?? 200;
    this.resource = RESOURCE_BY_KIND[scenario.kind];
    this.labels = { app: scenario.name };
  }

  start(): void {
    const steady = this.scenario.outcome === 'steady';
    for (let i = 0; i < this.replicas; i++) this.oldPods.push(this.makePod(i, steady ? this.image : this.previousImage, false));
    for (const pod of this.oldPods) this.markReady(pod, false);
    this.writeReplicaSet(steady ? this.image : this.previousImage);
    this.writeWorkload(steady ? this.image : this.previousImage);
    if (steady) return;
    this.after(this.scenario.startDelayMs ?? 0, () => this.beginRollout());
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private after(ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.stopped) action();
    }, ms);
    this.timers.add(timer);
  }

  /** Runs the steps one stepMs apart. */
  private sequence(steps: (() => void)[]): void {
    const [first, ...rest] = steps;
    if (first === undefined) return;
    this.after(this.stepMs, () => {
      first();
      this.sequence(rest);
    });
  }

  private get ownerName(): string {
    if (this.scenario.kind === 'deployment') return `${this.scenario.name}-${this.templateHash(this.revision)}`;
    if (this.scenario.kind === 'deploymentconfig') return `${this.scenario.name}-${this.revision}`;
    return this.scenario.name;
  }

  private templateHash(revision: number): string {
    return `${this.scenario.name.length.toString(16)}${revision}f7c9d${revision}`.slice(0, 10);
  }

  private makePod(ordinal: number, image: string, fresh: boolean): SimPod {
    const kind = this.scenario.kind;
    const name =
      kind === 'statefulset' ? `${this.scenario.name}-${ordinal}` : `${this.ownerName}-${suffix(5)}`;
    const labels: Record<string, string> = { ...this.labels };
    if (kind === 'deployment') labels['pod-template-hash'] = this.templateHash(this.revision);
    if (kind === 'statefulset') labels['controller-revision-hash'] = `${this.scenario.name}-${this.templateHash(this.revision)}`;
    if (kind === 'deploymentconfig') {
      labels.deploymentconfig = this.scenario.name;
      labels.deployment = this.ownerName;
    }
    const ownerKind = { deployment: 'ReplicaSet', statefulset: 'StatefulSet', daemonset: 'DaemonSet', deploymentconfig: 'ReplicationController' }[kind];
    const object: StoredObject = {
      metadata: {
        name,
        namespace: this.namespace,
        labels,
        ownerReferences: [
          { apiVersion: kind === 'deploymentconfig' ? 'v1' : 'apps/v1', kind: ownerKind, name: this.ownerName, uid: `uid-${this.ownerName}`, controller: true },
        ],
      },
      spec: { containers: [{ name: CONTAINER, image }], nodeName: 'sandbox-node' },
      status: {
        phase: 'Pending',
        conditions: [{ type: 'PodScheduled', status: 'True' }],
        containerStatuses: [
          { name: CONTAINER, image, ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } },
        ],
      },
    };
    return { name, fresh, object };
  }

  private writePod(pod: SimPod): void {
    pod.object = this.store.put('pods', pod.object);
  }

  private setContainer(pod: SimPod, status: Record<string, unknown>, phase: string, ready: boolean): void {
    pod.object.status = {
      phase,
      conditions: [
        { type: 'PodScheduled', status: 'True' },
        { type: 'Ready', status: ready ? 'True' : 'False', ...(ready ? {} : { reason: 'ContainersNotReady' }) },
      ],
      containerStatuses: [{ name: CONTAINER, image: this.podImage(pod), ready, restartCount: 0, ...status }],
    };
    this.writePod(pod);
  }

  private podImage(pod: SimPod): string {
    const containers = (pod.object.spec?.containers ?? []) as { image?: string }[];
    return containers[0]?.image ?? '';
  }

  private markReady(pod: SimPod, write = true): void {
    pod.object.status = {
      phase: 'Running',
      conditions: [
        { type: 'PodScheduled', status: 'True' },
        { type: 'Ready', status: 'True' },
      ],
      containerStatuses: [
        { name: CONTAINER, image: this.podImage(pod), ready: true, restartCount: 0, state: { running: { startedAt: nowIso() } } },
      ],
    };
    if (write) this.writePod(pod);
    else pod.object = this.store.put('pods', pod.object);
  }

  private isReady(pod: SimPod): boolean {
    const statuses = (pod.object.status?.containerStatuses ?? []) as { ready?: boolean }[];
    return statuses.every((status) => status.ready === true);
  }

  private deletePod(pod: SimPod): void {
    this.store.delete('pods', this.namespace, pod.name);
  }

  private event(pod: SimPod, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const time = nowIso();
    this.store.put('events', {
      metadata: { name: `${pod.name}.${suffix(8)}`, namespace: this.namespace },
      involvedObject: { kind: 'Pod', name: pod.name, namespace: this.namespace, uid: pod.object.metadata.uid, apiVersion: 'v1' },
      type,
      reason,
      message,
      count: 1,
      firstTimestamp: time,
      lastTimestamp: time,
      source: { component: 'kubelet', host: 'sandbox-node' },
    });
  }

  /** Deployments own one ReplicaSet per revision (iac finds the new one by its revision annotation). */
  private writeReplicaSet(image: string): void {
    if (this.scenario.kind !== 'deployment') return;
    const hash = this.templateHash(this.revision);
    const labels = { ...this.labels, 'pod-template-hash': hash };
    this.store.put('replicasets', {
      metadata: {
        name: this.ownerName,
        namespace: this.namespace,
        labels,
        annotations: { 'deployment.kubernetes.io/revision': String(this.revision) },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: this.scenario.name, uid: `uid-${this.scenario.name}`, controller: true }],
      },
      spec: { replicas: this.replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: CONTAINER, image }] } } },
      status: { replicas: this.replicas, observedGeneration: 1 },
    });
  }

  /** Writes the workload object with its status derived from the pods. */
  private writeWorkload(image: string): void {
    const { kind, name } = this.scenario;
    const existing = this.store.get(this.resource, this.namespace, name);
    const template = {
      metadata: { labels: this.labels, ...(this.scenario.templateAnnotations ? { annotations: this.scenario.templateAnnotations } : {}) },
      spec: { containers: [{ name: CONTAINER, image }] },
    };
    const strategyType = this.scenario.strategy ?? 'RollingUpdate';
    const spec: Record<string, unknown> =
      kind === 'deploymentconfig'
        ? { replicas: this.replicas, selector: { deploymentconfig: name }, triggers: [{ type: 'ConfigChange' }], strategy: { type: 'Rolling' }, template }
        : {
            ...(kind === 'daemonset' ? {} : { replicas: this.replicas }),
            selector: { matchLabels: this.labels },
            template,
            // Left to defaulting unless set: StatefulSets then get rollingUpdate.partition 0, as on a real cluster.
            ...(kind === 'deployment' || this.scenario.strategy === undefined ? {} : { updateStrategy: { type: strategyType } }),
          };
    if (kind === 'deploymentconfig') template.metadata.labels = { ...this.labels, deploymentconfig: name };
    const generation = (existing?.metadata.generation ?? 0) + (existing === undefined || JSON.stringify(existing.spec?.template) !== JSON.stringify(template) ? 1 : 0);
    const annotations: Record<string, string> = kind === 'deployment' ? { 'deployment.kubernetes.io/revision': String(this.revision) } : {};
    this.store.put(this.resource, {
      metadata: { name, namespace: this.namespace, labels: this.labels, annotations },
      spec,
      status: this.status(this.observed ? generation : (existing?.metadata.generation ?? 1)),
    });
  }

  private status(observedGeneration: number): Record<string, unknown> {
    const all = [...this.oldPods, ...this.newPods];
    const ready = all.filter((pod) => this.isReady(pod)).length;
    const updated = this.newPods.length;
    switch (this.scenario.kind) {
      case 'deployment':
        return {
          observedGeneration,
          replicas: all.length,
          updatedReplicas: this.rolling ? updated : all.length,
          readyReplicas: ready,
          availableReplicas: ready,
          ...(all.length - ready > 0 ? { unavailableReplicas: all.length - ready } : {}),
          ...this.extraStatus,
        };
      case 'statefulset': {
        const currentRevision = `${this.scenario.name}-${this.templateHash(this.rolling ? this.revision - 1 : this.revision)}`;
        const updateRevision = `${this.scenario.name}-${this.templateHash(this.revision)}`;
        const done = this.rolling && updated === this.replicas && ready === this.replicas;
        return {
          observedGeneration,
          replicas: all.length,
          readyReplicas: ready,
          availableReplicas: ready,
          currentReplicas: this.rolling && !done ? this.oldPods.length : all.length,
          updatedReplicas: this.rolling ? updated : all.length,
          currentRevision: done ? updateRevision : currentRevision,
          updateRevision,
        };
      }
      case 'daemonset':
        return {
          observedGeneration,
          currentNumberScheduled: all.length,
          desiredNumberScheduled: this.replicas,
          numberReady: ready,
          numberAvailable: ready,
          updatedNumberScheduled: this.rolling ? updated : all.length,
          numberMisscheduled: 0,
        };
      case 'deploymentconfig':
        return {
          observedGeneration,
          latestVersion: this.revision,
          replicas: all.length,
          updatedReplicas: this.rolling ? updated : all.length,
          readyReplicas: ready,
          availableReplicas: ready,
          unavailableReplicas: Math.max(0, all.length - ready),
          ...this.extraStatus,
        };
    }
  }

  private rolling = false;

  private update(): void {
    this.writeWorkload(this.rolling || this.scenario.outcome === 'steady' ? this.image : this.previousImage);
  }

  private beginRollout(): void {
    // The spec changes; the controller has not observed it yet.
    this.observed = false;
    this.writeWorkload(this.image);
    const steps: (() => void)[] = [];
    const observe = (): void => {
      this.observed = true;
      this.rolling = true;
      this.revision++;
      this.writeReplicaSet(this.image);
      if (this.scenario.kind === 'deployment') {
        this.extraStatus = { conditions: [progressing('True', 'ReplicaSetUpdated', `ReplicaSet "${this.ownerName}" is progressing.`)] };
      }
      if (this.scenario.kind === 'deploymentconfig') {
        this.extraStatus = { conditions: [progressing('True', 'ReplicationControllerUpdated', `replication controller "${this.ownerName}" is progressing`)] };
      }
      this.update();
    };
    const outcome = this.scenario.outcome ?? 'complete';
    for (let i = 0; i < this.replicas; i++) {
      const ordinal = this.replicas - 1 - i;
      const last = i === this.replicas - 1;
      steps.push(() => {
        const pod = this.makePod(ordinal, this.image, true);
        if (this.scenario.kind !== 'deployment' && this.scenario.kind !== 'deploymentconfig') {
          // StatefulSet / DaemonSet replace a pod in place: the old one goes first.
          const old = this.scenario.kind === 'statefulset' ? this.oldPods.find((p) => p.name === pod.name) : this.oldPods[0];
          if (old !== undefined) {
            this.oldPods = this.oldPods.filter((p) => p !== old);
            this.deletePod(old);
          }
        }
        this.newPods.push(pod);
        this.writePod(pod);
        this.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${this.namespace}/${pod.name} to sandbox-node`);
        this.update();
        if (i === 0 && outcome !== 'complete') this.failFirstPod(pod, outcome);
      });
      if (i === 0 && outcome !== 'complete') break;
      const surge = this.scenario.kind === 'deployment' || this.scenario.kind === 'deploymentconfig';
      if (surge && last) {
        // Old pod goes before the new one is ready: kubectl shows "N-1 of N updated replicas are available".
        steps.push(() => this.retireOldPod());
        steps.push(() => this.readyNewest());
      } else {
        steps.push(() => {
          this.readyNewest(false);
          if (surge) this.retireOldPod(false);
          this.update();
        });
      }
    }
    if (outcome === 'complete') steps.push(() => this.complete());
    this.after(this.scenario.observeDelayMs ?? this.stepMs, () => {
      observe();
      this.sequence(steps);
    });
  }

  private readyNewest(write = true): void {
    const pod = this.newPods[this.newPods.length - 1];
    if (pod !== undefined) {
      this.event(pod, 'Normal', 'Started', `Started container ${CONTAINER}`);
      this.markReady(pod);
    }
    if (write) this.update();
  }

  private retireOldPod(write = true): void {
    const old = this.oldPods.shift();
    if (old !== undefined) this.deletePod(old);
    if (write) this.update();
  }

  private complete(): void {
    if (this.scenario.kind === 'deployment') {
      this.extraStatus = {
        conditions: [
          { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' },
          progressing('True', 'NewReplicaSetAvailable', `ReplicaSet "${this.ownerName}" has successfully progressed.`),
        ],
      };
    }
    if (this.scenario.kind === 'deploymentconfig') {
      this.extraStatus = {
        conditions: [progressing('True', 'NewReplicationControllerAvailable', `replication controller "${this.ownerName}" successfully rolled out`)],
      };
    }
    this.update();
  }

  /** Puts the first new pod into the scenario's failure state. */
  private failFirstPod(pod: SimPod, outcome: NonNullable<WorkloadScenario['outcome']>): void {
    const image = this.image;
    const podId = `${pod.name}_${this.namespace}(${pod.object.metadata.uid ?? ''})`;
    this.logs.set(pod.name, this.scenario.logs ?? [`starting ${this.scenario.name}`, 'loading configuration', 'fatal: cannot connect to database at db:5432']);
    switch (outcome) {
      case 'stuck':
      case 'steady':
      case 'complete':
        return;
      case 'progress-deadline':
        this.after(this.stepMs * 2, () => {
          this.extraStatus = {
            conditions: [progressing('False', 'ProgressDeadlineExceeded', `ReplicaSet "${this.ownerName}" has timed out progressing.`)],
          };
          this.update();
        });
        return;
      case 'ErrImagePull':
      case 'ImagePullBackOff': {
        const pullError = `rpc error: code = NotFound desc = failed to pull and unpack image "${image}": not found`;
        this.event(pod, 'Normal', 'Pulling', `Pulling image "${image}"`);
        this.event(pod, 'Warning', 'Failed', `Failed to pull image "${image}": ${pullError}`);
        this.event(pod, 'Warning', 'Failed', 'Error: ErrImagePull');
        this.setContainer(pod, { state: { waiting: { reason: 'ErrImagePull', message: pullError } } }, 'Pending', false);
        if (outcome === 'ImagePullBackOff') {
          this.after(this.stepMs, () => {
            this.event(pod, 'Normal', 'BackOff', `Back-off pulling image "${image}"`);
            this.event(pod, 'Warning', 'Failed', 'Error: ImagePullBackOff');
            this.setContainer(pod, { state: { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` } } }, 'Pending', false);
          });
        }
        return;
      }
      case 'InvalidImageName': {
        const message = `Failed to apply default image tag "${image}": couldn't parse image name "${image}": invalid reference format`;
        this.event(pod, 'Warning', 'InspectFailed', message);
        this.setContainer(pod, { state: { waiting: { reason: 'InvalidImageName', message } } }, 'Pending', false);
        return;
      }
      case 'CreateContainerConfigError': {
        const message = `secret "${this.scenario.name}-secrets" not found`;
        this.event(pod, 'Warning', 'Failed', `Error: ${message}`);
        this.setContainer(pod, { state: { waiting: { reason: 'CreateContainerConfigError', message } } }, 'Pending', false);
        return;
      }
      case 'CrashLoopBackOff': {
        const terminated = { exitCode: 1, reason: 'Error', message: 'fatal: cannot connect to database at db:5432', startedAt: nowIso(), finishedAt: nowIso() };
        this.setContainer(pod, { restartCount: 1, state: { terminated }, lastState: {} }, 'Running', false);
        this.after(this.stepMs, () => {
          this.event(pod, 'Warning', 'BackOff', `Back-off restarting failed container ${CONTAINER} in pod ${podId}`);
          this.setContainer(
            pod,
            { restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off 10s restarting failed container=${CONTAINER} pod=${podId}` } }, lastState: { terminated } },
            'Running',
            false,
          );
        });
        if (this.scenario.recoverAfterMs !== undefined) {
          this.after(this.scenario.recoverAfterMs, () => this.recover());
        }
        return;
      }
    }
  }

  /** CrashLoopBackOff that heals: the rest of the rollout proceeds normally. */
  private recover(): void {
    const steps: (() => void)[] = [() => this.readyNewest()];
    const surge = this.scenario.kind === 'deployment' || this.scenario.kind === 'deploymentconfig';
    for (let i = 1; i < this.replicas; i++) {
      const ordinal = this.replicas - 1 - i;
      steps.push(() => {
        if (surge) this.retireOldPod(false);
        else {
          const old = this.scenario.kind === 'statefulset' ? this.oldPods.find((p) => p.name === `${this.scenario.name}-${ordinal}`) : this.oldPods[0];
          if (old !== undefined) {
            this.oldPods = this.oldPods.filter((p) => p !== old);
            this.deletePod(old);
          }
        }
        const pod = this.makePod(ordinal, this.image, true);
        this.newPods.push(pod);
        this.writePod(pod);
        this.markReady(pod);
        this.update();
      });
    }
    steps.push(() => {
      while (this.oldPods.length > 0) this.retireOldPod(false);
      this.complete();
    });
    this.sequence(steps);
  }
}

function progressing(status: string, reason: string, message: string): Record<string, string> {
  const time = nowIso();
  return { type: 'Progressing', status, reason, message, lastUpdateTime: time, lastTransitionTime: time };
}

/** All workloads of a scenario, started together. */
export class ScenarioRunner {
  private readonly simulations: WorkloadSimulation[] = [];
  /** Container logs by pod name (the sandbox serves the tail of these). */
  readonly logs = new Map<string, string[]>();

  constructor(private readonly store: KubeStore) {}

  add(workloads: WorkloadScenario[]): void {
    for (const workload of workloads) {
      const simulation = new WorkloadSimulation(this.store, workload, this.logs);
      this.simulations.push(simulation);
      simulation.start();
    }
  }

  /** Removes a workload as `kubectl delete` would (watchers see DELETED). */
  deleteWorkload(kind: SandboxWorkloadKind, name: string, namespace = 'default'): void {
    this.store.delete(RESOURCE_BY_KIND[kind], namespace, name);
  }

  stop(): void {
    for (const simulation of this.simulations) simulation.stop();
  }
}
