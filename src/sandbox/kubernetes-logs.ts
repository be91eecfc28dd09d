/**
 * `GET .../pods/<name>/log`: the container's lines (`tailLines`, `previous`, `timestamps`,
 * `limitBytes`), and with `follow=true` a stream that goes on until the pod is gone or the client
 * disconnects — what `kubectl logs -f deployment/web` sees across a rollout.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpStatusError, notFound } from './kubernetes-http.js';
import { containersOf, type PodLifecycle } from './kubernetes-pods.js';
import type { KubeStore, ResourceType } from './kubernetes-store.js';

const FOLLOW_POLL_MS = 250;
/** A followed log ends after this long at the latest (every wait has a deadline). */
const FOLLOW_LIMIT_MS = 30 * 60_000;

export function serveLog(
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  target: { type: ResourceType; namespace: string; name: string },
  store: KubeStore,
  pods: PodLifecycle,
): void {
  const { namespace, name } = target;
  const pod = store.get('pods', namespace, name);
  if (pod === undefined) throw notFound(target.type, name);
  const names = containersOf(pod).map((c) => c.name);
  const container = url.searchParams.get('container') ?? (names.length === 1 ? names[0] : undefined);
  if (container === undefined) {
    throw new HttpStatusError(400, 'BadRequest', `a container name must be specified for pod ${name}, choose one of: [${names.join(' ')}]`);
  }
  if (!names.includes(container)) throw new HttpStatusError(400, 'BadRequest', `container ${container} is not valid for pod ${name}`);
  const previous = url.searchParams.get('previous') === 'true';
  const read = (): string[] | undefined => pods.logLines(namespace, name, container, previous);
  const lines = read();
  if (lines === undefined) {
    if (previous) throw new HttpStatusError(400, 'BadRequest', `previous terminated container "${container}" in pod "${name}" not found`);
    throw new HttpStatusError(400, 'BadRequest', `container "${container}" in pod "${name}" is waiting to start: ContainerCreating`);
  }
  const timestamps = url.searchParams.get('timestamps') === 'true';
  const format = (line: string): string => `${timestamps ? `${new Date().toISOString().replace('Z', '000000Z').replace(/(\.\d{9})\d*Z$/, '$1Z')} ` : ''}${line}\n`;
  const tailText = url.searchParams.get('tailLines');
  const tail = tailText === null ? lines.length : Math.max(0, Number(tailText) || 0);
  const limitText = url.searchParams.get('limitBytes');
  const limit = limitText === null ? Infinity : Math.max(0, Number(limitText) || 0);
  let text = lines.slice(Math.max(0, lines.length - tail)).map(format).join('');
  if (Buffer.byteLength(text) > limit) text = Buffer.from(text).subarray(0, limit).toString('utf8');

  if (url.searchParams.get('follow') !== 'true' || previous) {
    response.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
    response.end(text);
    return;
  }
  response.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
  response.write(text);
  let seen = lines.length;
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    clearInterval(poll);
    clearTimeout(deadline);
    unsubscribe();
    response.end();
  };
  const flush = (): void => {
    const now = read() ?? [];
    if (now.length > seen) response.write(now.slice(seen).map(format).join(''));
    seen = Math.max(seen, now.length);
  };
  const poll = setInterval(flush, FOLLOW_POLL_MS);
  const deadline = setTimeout(end, FOLLOW_LIMIT_MS);
  const unsubscribe = store.subscribe((event) => {
    if (event.resource === 'pods' && event.type === 'DELETED' && event.object.metadata.namespace === namespace && event.object.metadata.name === name) {
      flush();
      end();
    }
  });
  request.on('close', end);
}
