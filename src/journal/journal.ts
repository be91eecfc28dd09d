import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { JournalRecord, RunRecord } from './records.js';

/** Distributes Omit over the union, so each record keeps its own fields. */
type WithoutStamp<T> = T extends unknown ? Omit<T, 'run' | 'time'> : never;
export type NewRecord = WithoutStamp<JournalRecord>;

/** `.iac/history.ndjson`: every run's records in one compact index, kept when run directories are pruned. */
export function historyFile(projectDir: string): string {
  return join(projectDir, '.iac', 'history.ndjson');
}

/**
 * Appends one line and makes it durable before returning: a journal must be readable after any kind
 * of death, SIGKILL and power loss included, so every record is fsync'd.
 */
function appendDurably(file: string, line: string): void {
  const fd = openSync(file, 'a', 0o600);
  try {
    writeSync(fd, line);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** One run's journal: its run directory's `journal.ndjson`, mirrored into the project's history index. */
export class RunJournal {
  private constructor(
    readonly run: string,
    private readonly files: string[],
  ) {}

  /** Opens the journal of a new run by writing its `run` record (who, where, which commit). */
  static open(projectDir: string, runDir: string, header: Omit<RunRecord, 'type' | 'run' | 'time'>): RunJournal {
    mkdirSync(join(projectDir, '.iac'), { recursive: true });
    const journal = new RunJournal(basename(runDir), [join(runDir, 'journal.ndjson'), historyFile(projectDir)]);
    journal.append({ type: 'run', ...header });
    return journal;
  }

  append(record: NewRecord): void {
    const line = `${JSON.stringify({ ...record, run: this.run, time: new Date().toISOString() })}\n`;
    for (const file of this.files) appendDurably(file, line);
  }
}
