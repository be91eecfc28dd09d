/**
 * Pods as the kubelet would report them: built from a workload's pod template, scheduled onto a
 * sandbox node, then ContainerCreating → Running/Ready, or into one of the failure states a broken
 * image or config produces — with the events and container logs that go with each.
 */
import { createHash, randomBytes } from 'node:crypto';
import { applyPodSpecDefaults, nowIso, type KubeStore, type OwnerReference, type StoredObject } from './kubernetes-store.js';

export type PodFailure = 'ImagePullBackOff' | 'ErrImagePull' | 'InvalidImageName' | 'CreateContainerConfigError' | 'CrashLoopBackOff';

/** How pods running an image behave. */
export interface ImageBehaviour {
  /** `complete`: starts; `stuck`: stays ContainerCreating; or a failure state. */
  outcome: 'complete' | 'stuck' | PodFailure;
  /** CrashLoopBackOff only: the container starts working after this long. */
  recoverAfterMs?: number;
  /** Container log lines (failing pods). */
  logs?: string[];
}

export const NODES = ['sandbox-node-1', 'sandbox-node-2', 'sandbox-node-3'];
const HOST_IPS = ['172.18.0.2', '172.18.0.3', '172.18.0.4'];

type Json = Record<string, unknown>;

export function randomSuffix(length: number): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...randomBytes(length)].map((byte) => alphabet[byte % alphabet.length]).join('');
}

interface Container {
  name: string;
  image: string;
}

export function containersOf(pod: StoredObject): Container[] {
  const containers = (pod.spec?.containers ?? []) as { name?: unknown; image?: unknown }[];
  return containers.map((c) => ({ name: String(c.name ?? ''), image: String(c.image ?? '') }));
}

/** The image the first container runs: what failure scenarios and `iac status` key on. */
export function primaryImage(template: unknown): string {
  const spec = (template as { spec?: { containers?: { image?: string }[] } } | undefined)?.spec;
  return spec?.containers?.[0]?.image ?? '';
}

/** `registry/name:tag` → `registry/name@sha256:<digest of the reference>`: stable per image, like a pulled digest. */
function imageId(image: string): string {
  const repository = image.replace(/@.*$/, '').replace(/:[^/:]+$/, '');
  return `${repository}@sha256:${createHash('sha256').update(image).digest('hex')}`;
}

function conditions(ready: boolean, notReadyContainers: string[], since: string): Json[] {
  const notReady = { reason: 'ContainersNotReady', message: `containers with unready status: [${notReadyContainers.join(' ')}]` };
  return [
    { type: 'PodReadyToStartContainers', status: 'True', lastProbeTime: null, lastTransitionTime: since },
    { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: since },
    { type: 'Ready', status: ready ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: since, ...(ready ? {} : notReady) },
    { type: 'ContainersReady', status: ready ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: since, ...(ready ? {} : notReady) },
    { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: since },
  ];
}

export interface PodPlacement {
  name: string;
  namespace: string;
  template: Json;
  labels: Record<string, string>;
  owner: OwnerReference;
  generateName?: string;
}

/** Per-pod facts the simulation needs beyond the object: how it behaves, where its logs are. */
export interface PodState {
  behaviour: ImageBehaviour;
  /** Becomes Ready at the owning controller's next step. */
  startable: boolean;
  logs: Map<string, string[]>;
  /** Crash-looping container: what it logged before it died. */
  previousLogs?: string[];
  runningSince?: number;
  timers: NodeJS.Timeout[];
}

let podIpCounter = 10;

/**
 * Creates, starts, fails and removes pods; keeps their logs. Owning controllers decide when; this
 * class knows how a pod looks at each stage.
 */
export class PodLifecycle {
  private readonly states = new Map<string, PodState>();
  private nodeCursor = 0;

  constructor(
    private readonly store: KubeStore,
    /** Called when a pod's own timers change something its owner should react to. */
    private readonly onChange: (pod: StoredObject) => void,
  ) {}

  state(namespace: string, name: string): PodState | undefined {
    return this.states.get(`${namespace}/${name}`);
  }

  /** A new pod in ContainerCreating (or already Running when `settled`). */
  create(placement: PodPlacement, behaviour: ImageBehaviour, options: { settled?: boolean; node?: string } = {}): StoredObject {
    const now = nowIso();
    const templateSpec = structuredClone(((placement.template.spec ?? {}) as Json)) as Json;
    const templateMeta = ((placement.template.metadata ?? {}) as { annotations?: Record<string, string> });
    const nodeIndex = options.node !== undefined ? Math.max(0, NODES.indexOf(options.node)) : this.nodeCursor++ % NODES.length;
    applyPodSpecDefaults(templateSpec);
    const containers = (templateSpec.containers ?? []) as Json[];
    const ip = `10.244.${Math.floor(podIpCounter / 250) % 250}.${(podIpCounter++ % 250) + 2}`;
    const object: StoredObject = {
      metadata: {
        name: placement.name,
        ...(placement.generateName === undefined ? {} : { generateName: placement.generateName }),
        namespace: placement.namespace,
        labels: placement.labels,
        ...(templateMeta.annotations === undefined ? {} : { annotations: { ...templateMeta.annotations } }),
        ownerReferences: [{ ...placement.owner, controller: true, blockOwnerDeletion: true }],
      },
      spec: {
        restartPolicy: 'Always',
        terminationGracePeriodSeconds: 30,
        dnsPolicy: 'ClusterFirst',
        serviceAccountName: 'default',
        serviceAccount: 'default',
        securityContext: {},
        schedulerName: 'default-scheduler',
        enableServiceLinks: true,
        priority: 0,
        preemptionPolicy: 'PreemptLowerPriority',
        tolerations: [
          { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
          { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        ],
        ...templateSpec,
        containers,
        nodeName: NODES[nodeIndex],
      },
      status: {
        phase: 'Pending',
        hostIP: HOST_IPS[nodeIndex],
        hostIPs: [{ ip: HOST_IPS[nodeIndex] }],
        podIP: ip,
        podIPs: [{ ip }],
        startTime: now,
        qosClass: 'BestEffort',
        conditions: conditions(false, containers.map((c) => String(c.name)), now),
        containerStatuses: containers.map((c) => ({
          name: c.name,
          image: c.image,
          imageID: '',
          ready: false,
          restartCount: 0,
          started: false,
          state: { waiting: { reason: 'ContainerCreating' } },
          lastState: {},
        })),
      },
    };
    const state: PodState = { behaviour, startable: behaviour.outcome === 'complete', logs: new Map(), timers: [] };
    this.states.set(`${placement.namespace}/${placement.name}`, state);
    if (options.settled === true && behaviour.outcome === 'complete') {
      this.setRunning(object, state);
      return this.store.put('pods', object);
    }
    const stored = this.store.put('pods', object);
    this.event(stored, 'Normal', 'Scheduled', `Successfully assigned ${placement.namespace}/${placement.name} to ${String(stored.spec?.nodeName)}`, 'default-scheduler');
    if (behaviour.outcome !== 'complete' && behaviour.outcome !== 'stuck') this.fail(stored, state);
    else if (behaviour.outcome === 'complete') {
      for (const container of containersOf(stored)) this.event(stored, 'Normal', 'Pulling', `Pulling image "${container.image}"`, 'kubelet', container.name);
    }
    return stored;
  }

  /** Is this pod ContainerCreating and able to start at its owner's next step? */
  isStartable(pod: StoredObject): boolean {
    const state = this.state(pod.metadata.namespace, pod.metadata.name);
    return state?.startable === true && !isReady(pod) && pod.metadata.deletionTimestamp === undefined;
  }

  /** ContainerCreating (or recovered) → Running and Ready, with the kubelet's events. */
  start(pod: StoredObject): StoredObject {
    const state = this.state(pod.metadata.namespace, pod.metadata.name);
    const object = structuredClone(pod);
    for (const container of containersOf(object)) {
      if (state?.behaviour.outcome === 'complete') {
        this.event(object, 'Normal', 'Pulled', `Successfully pulled image "${container.image}" in 812ms (812ms including waiting). Image size: 18436212 bytes.`, 'kubelet', container.name);
      }
      this.event(object, 'Normal', 'Created', `Created container: ${container.name}`, 'kubelet', container.name);
      this.event(object, 'Normal', 'Started', `Started container ${container.name}`, 'kubelet', container.name);
    }
    if (state !== undefined) this.setRunning(object, state);
    return this.store.put('pods', object);
  }

  private setRunning(object: StoredObject, state: PodState): void {
    const now = nowIso();
    const status = (object.status ??= {});
    const containers = containersOf(object);
    const previous = new Map(((status.containerStatuses ?? []) as Json[]).map((s) => [String(s.name), s]));
    status.phase = 'Running';
    status.conditions = conditions(true, [], now);
    status.containerStatuses = containers.map((container) => ({
      name: container.name,
      image: container.image,
      imageID: imageId(container.image),
      containerID: `containerd://${randomBytes(32).toString('hex')}`,
      ready: true,
      started: true,
      restartCount: Number(previous.get(container.name)?.restartCount ?? 0),
      state: { running: { startedAt: now } },
      lastState: previous.get(container.name)?.lastState ?? {},
    }));
    state.startable = false;
    state.runningSince = Date.now();
    const app = String(object.metadata.labels?.app ?? object.metadata.name);
    for (const container of containers) {
      state.logs.set(container.name, [
        `${now} INFO starting ${app} (${container.image})`,
        `${now} INFO configuration loaded from /etc/${app}`,
        `${now} INFO listening on :8080`,
      ]);
    }
  }

  /** Marks a pod Terminating (it keeps serving logs until `remove`). */
  terminate(pod: StoredObject): StoredObject {
    const object = structuredClone(pod);
    object.metadata.deletionTimestamp = nowIso();
    object.metadata.deletionGracePeriodSeconds = 30;
    for (const container of containersOf(object)) this.event(object, 'Normal', 'Killing', `Stopping container ${container.name}`, 'kubelet', container.name);
    return this.store.put('pods', object);
  }

  remove(namespace: string, name: string): void {
    const state = this.states.get(`${namespace}/${name}`);
    for (const timer of state?.timers ?? []) clearTimeout(timer);
    this.states.delete(`${namespace}/${name}`);
    this.store.delete('pods', namespace, name);
  }

  /** The pod was deleted by someone else (API, garbage collector). */
  forget(namespace: string, name: string): void {
    const state = this.states.get(`${namespace}/${name}`);
    for (const timer of state?.timers ?? []) clearTimeout(timer);
    this.states.delete(`${namespace}/${name}`);
  }

  stop(): void {
    for (const state of this.states.values()) for (const timer of state.timers) clearTimeout(timer);
  }

  /**
   * Log lines of one container. A running container keeps logging health checks, one every 10 s
   * since it started (computed, so idle pods cost nothing).
   */
  logLines(namespace: string, name: string, container: string, previous: boolean): string[] | undefined {
    const state = this.state(namespace, name);
    if (state === undefined) return undefined;
    if (previous) return state.previousLogs;
    const base = state.logs.get(container);
    if (base === undefined) return undefined;
    if (state.runningSince === undefined) return base;
    const ticks = Math.floor((Date.now() - state.runningSince) / 10_000);
    const since = state.runningSince;
    const heartbeats = Array.from({ length: ticks }, (_, i) => `${new Date(since + (i + 1) * 10_000).toISOString().replace(/\.\d+Z$/, 'Z')} INFO GET /healthz 200 (0.4 ms)`);
    return [...base, ...heartbeats];
  }

  event(pod: StoredObject, type: 'Normal' | 'Warning', reason: string, message: string, component = 'kubelet', container?: string): void {
    writeEvent(this.store, {
      namespace: pod.metadata.namespace,
      involved: { kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid ?? '', apiVersion: 'v1', ...(container === undefined ? {} : { fieldPath: `spec.containers{${container}}` }) },
      type,
      reason,
      message,
      component,
      host: String(pod.spec?.nodeName ?? ''),
    });
  }

  private after(state: PodState, ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      state.timers = state.timers.filter((t) => t !== timer);
      action();
    }, ms);
    state.timers.push(timer);
  }

  private update(pod: StoredObject, change: (status: Json, first: Json) => void, phase: string): StoredObject | undefined {
    const current = this.store.get('pods', pod.metadata.namespace, pod.metadata.name);
    if (current === undefined) return undefined;
    const object = structuredClone(current);
    const status = (object.status ??= {});
    status.phase = phase;
    const first = ((status.containerStatuses ?? []) as Json[])[0];
    if (first !== undefined) change(status, first);
    const stored = this.store.put('pods', object);
    this.onChange(stored);
    return stored;
  }

  /** Puts a pod into its image's failure state (the first container fails; events and logs as a kubelet would). */
  private fail(pod: StoredObject, state: PodState): void {
    const outcome = state.behaviour.outcome;
    const container = containersOf(pod)[0] ?? { name: 'app', image: '' };
    const image = container.image;
    const podId = `${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid ?? ''})`;
    const app = String(pod.metadata.labels?.app ?? pod.metadata.name);
    const logs = state.behaviour.logs ?? [`starting ${app}`, 'loading configuration', 'fatal: cannot connect to database at db:5432'];
    state.logs.set(container.name, logs);
    const waiting = (reason: string, message: string) => (_status: Json, first: Json) => {
      first.state = { waiting: { reason, message } };
    };
    switch (outcome) {
      case 'ErrImagePull':
      case 'ImagePullBackOff': {
        const pullError = `rpc error: code = NotFound desc = failed to pull and unpack image "${image}": not found`;
        this.event(pod, 'Normal', 'Pulling', `Pulling image "${image}"`, 'kubelet', container.name);
        this.event(pod, 'Warning', 'Failed', `Failed to pull image "${image}": ${pullError}`, 'kubelet', container.name);
        this.event(pod, 'Warning', 'Failed', 'Error: ErrImagePull', 'kubelet', container.name);
        this.update(pod, waiting('ErrImagePull', pullError), 'Pending');
        if (outcome === 'ImagePullBackOff') {
          this.after(state, 200, () => {
            this.event(pod, 'Normal', 'BackOff', `Back-off pulling image "${image}"`, 'kubelet', container.name);
            this.event(pod, 'Warning', 'Failed', 'Error: ImagePullBackOff', 'kubelet', container.name);
            this.update(pod, waiting('ImagePullBackOff', `Back-off pulling image "${image}"`), 'Pending');
          });
        }
        return;
      }
      case 'InvalidImageName': {
        const message = `Failed to apply default image tag "${image}": couldn't parse image name "${image}": invalid reference format`;
        this.event(pod, 'Warning', 'InspectFailed', message, 'kubelet', container.name);
        this.update(pod, waiting('InvalidImageName', message), 'Pending');
        return;
      }
      case 'CreateContainerConfigError': {
        const message = `secret "${app}-secrets" not found`;
        this.event(pod, 'Warning', 'Failed', `Error: ${message}`, 'kubelet', container.name);
        this.update(pod, waiting('CreateContainerConfigError', message), 'Pending');
        return;
      }
      case 'CrashLoopBackOff': {
        const terminated = { exitCode: 1, reason: 'Error', message: 'fatal: cannot connect to database at db:5432', startedAt: nowIso(), finishedAt: nowIso(), containerID: `containerd://${randomBytes(32).toString('hex')}` };
        state.previousLogs = logs;
        this.event(pod, 'Normal', 'Pulled', `Container image "${image}" already present on machine`, 'kubelet', container.name);
        this.event(pod, 'Normal', 'Created', `Created container: ${container.name}`, 'kubelet', container.name);
        this.event(pod, 'Normal', 'Started', `Started container ${container.name}`, 'kubelet', container.name);
        this.update(pod, (_status, first) => {
          first.restartCount = 1;
          first.imageID = imageId(image);
          first.state = { terminated };
          first.lastState = {};
        }, 'Running');
        this.after(state, 200, () => {
          this.event(pod, 'Warning', 'BackOff', `Back-off restarting failed container ${container.name} in pod ${podId}`, 'kubelet', container.name);
          this.update(pod, (_status, first) => {
            first.restartCount = 2;
            first.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off 10s restarting failed container=${container.name} pod=${podId}` } };
            first.lastState = { terminated };
          }, 'Running');
        });
        if (state.behaviour.recoverAfterMs !== undefined) {
          this.after(state, state.behaviour.recoverAfterMs, () => {
            state.startable = true;
            const current = this.store.get('pods', pod.metadata.namespace, pod.metadata.name);
            if (current !== undefined) this.onChange(current);
          });
        }
        return;
      }
    }
  }
}

export function isReady(pod: StoredObject): boolean {
  const statuses = (pod.status?.containerStatuses ?? []) as { ready?: boolean }[];
  return statuses.length > 0 && statuses.every((status) => status.ready === true);
}

export function isActive(pod: StoredObject): boolean {
  return pod.metadata.deletionTimestamp === undefined;
}

export interface EventInput {
  namespace: string;
  involved: { kind: string; name: string; uid: string; apiVersion: string; fieldPath?: string };
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  component: string;
  host?: string;
}

/** A core/v1 Event as the kubelet and controllers record them. */
let lastEventNanos = 0n;

export function writeEvent(store: KubeStore, input: EventInput): void {
  const time = nowIso();
  // Like the event recorder: `<object>.<nanoseconds in hex>`, so a list sorts them by time.
  const nanos = BigInt(Date.now()) * 1_000_000n;
  lastEventNanos = nanos > lastEventNanos ? nanos : lastEventNanos + 1n;
  store.put('events', {
    metadata: { name: `${input.involved.name}.${lastEventNanos.toString(16)}`, namespace: input.namespace },
    involvedObject: { ...input.involved, namespace: input.namespace },
    reason: input.reason,
    message: input.message,
    source: { component: input.component, ...(input.host ? { host: input.host } : {}) },
    firstTimestamp: time,
    lastTimestamp: time,
    count: 1,
    type: input.type,
    eventTime: null,
    reportingComponent: input.component,
    reportingInstance: input.host ?? '',
  });
}
