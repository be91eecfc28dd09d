/**
 * Reads a build's console with `progressiveText`, resuming from the byte offset Jenkins reports in
 * `X-Text-Size`. A connection dropped mid-body is resumed right after the last byte handed out, so
 * every byte of the console is yielded exactly once.
 */
import type { JenkinsClient } from './client.js';
import { ConsoleDecoder } from './console-decode.js';

export class ConsoleReader {
  /** Raw log byte offset of the next byte to read. */
  nextStart = 0;
  /** Jenkins' `X-More-Data` from the last complete read: the log is still being written. */
  moreData = true;

  constructor(
    private readonly client: JenkinsClient,
    private readonly buildUrl: string,
  ) {}

  /**
   * One progressiveText exchange from `nextStart` to the current end of the log, yielded as text
   * chunks. Failures (opening or mid-body) are retried under the client's one retry policy; a
   * retry resumes after the last byte handed out, and progress ends the failure streak.
   */
  async *read(signal?: AbortSignal): AsyncGenerator<string> {
    const retries = this.client.retries(signal);
    for (;;) {
      const start = this.nextStart;
      let emitted = 0;
      try {
        const stream = await this.client.openProgressiveText(this.buildUrl, start, signal);
        if (stream.textSize < start) {
          // Jenkins resends the whole log when start is past its end; we already have those bytes.
          for await (const _ of stream.body) void _;
          this.moreData = stream.moreData;
          return;
        }
        const decoder = new ConsoleDecoder();
        for await (const bytes of stream.body) {
          const chunk = decoder.push(bytes);
          if (chunk.bytes === 0) continue;
          emitted += chunk.bytes;
          this.nextStart = start + emitted;
          yield chunk.text;
        }
        const tail = decoder.end();
        if (tail.bytes > 0) yield tail.text;
        this.nextStart = stream.textSize - tail.incompleteBytes;
        this.moreData = stream.moreData;
        return;
      } catch (error) {
        if (emitted > 0) retries.succeeded();
        await retries.failed(error);
      }
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
