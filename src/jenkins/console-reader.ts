/**
 * Reads a build's console with `progressiveText`, resuming from the byte offset Jenkins reports in
 * `X-Text-Size`. A connection dropped mid-body is resumed right after the last byte handed out, so
 * every byte of the console is yielded exactly once.
 */
import { InterruptedError } from '../errors.js';
import type { JenkinsClient } from './client.js';
import { ConsoleDecoder } from './console-decode.js';
import { backoffDelay, sleep, unreachable } from './transport.js';

export class ConsoleReader {
  /** Raw log byte offset of the next byte to read. */
  nextStart = 0;
  /** Jenkins' `X-More-Data` from the last complete read: the log is still being written. */
  moreData = true;

  constructor(
    private readonly client: JenkinsClient,
    private readonly buildUrl: string,
  ) {}

  /** One progressiveText exchange from `nextStart` to the current end of the log, yielded as text chunks. */
  async *read(signal?: AbortSignal): AsyncGenerator<string> {
    const policy = this.client.retryPolicy;
    for (let failures = 0; ; ) {
      const start = this.nextStart;
      const stream = await this.client.openProgressiveText(this.buildUrl, start, signal);
      if (stream.textSize < start) {
        // Jenkins resends the whole log when start is past its end; we already have those bytes.
        for await (const _ of stream.body) void _;
        this.moreData = stream.moreData;
        return;
      }
      const decoder = new ConsoleDecoder();
      let emitted = 0;
      try {
        for await (const bytes of stream.body) {
          const chunk = decoder.push(bytes);
          if (chunk.bytes === 0) continue;
          emitted += chunk.bytes;
          this.nextStart = start + emitted;
          yield chunk.text;
        }
      } catch (error) {
        if (signal?.aborted) throw new InterruptedError();
        if (emitted > 0) failures = 0;
        if (++failures >= policy.attempts) throw unreachable(this.client.baseUrl, error, 'kept dropping the console stream');
        await sleep(backoffDelay(policy, failures - 1), signal);
        continue;
      }
      const tail = decoder.end();
      if (tail.bytes > 0) yield tail.text;
      this.nextStart = stream.textSize - tail.incompleteBytes;
      this.moreData = stream.moreData;
      return;
    }
  }
}

/** Cuts text into whole lines for `log` events, holding a partial trailing line (bounded) until it completes. */
export class LineBuffer {
  private partial = '';

  constructor(private readonly maxPartial = 64 * 1024) {}

  /** Whole lines now complete (each ending in `\n`), or undefined. */
  push(text: string): string | undefined {
    const combined = this.partial + text;
    const cut = combined.lastIndexOf('\n') + 1;
    if (cut === 0) {
      this.partial = combined;
      if (combined.length < this.maxPartial) return undefined;
      this.partial = '';
      return combined;
    }
    this.partial = combined.slice(cut);
    return combined.slice(0, cut);
  }

  flush(): string | undefined {
    const rest = this.partial;
    this.partial = '';
    return rest === '' ? undefined : rest;
  }
}
