// Jenkins console and polling budgets (DESIGN.md), measured on the Jenkins sandbox:
// 1. following a 200 MB console through the Jenkins step (saved log, redaction, display lines):
//    bytes fetched ≤ 1.1 × console size, saved log byte-identical, follower peak RSS < 150 MB;
// 2. a 40 MB single-line console through the same step: peak RSS < 200 MB, the saved log keeps
//    every byte, the screen gets one cut line;
// 3. a line shows within 1 s of appearing in the console (max over all lines of a moderate build);
// 4. trigger → end noticed, polling from Jenkins' hints vs a fixed 1 s poll (the script a user
//    would write), quiet period 1 s, builds of 2–2.75 s, alternating runs, medians: ratio ≤ 0.9,
//    and the lateness after the build's end: ratio ≤ 0.5.
// The sandbox runs in this process; each follower runs in a child process so its peak RSS is its
// own. Needs `npm run build` (imports ../../dist). BENCH_CONSOLE_MB sets the size of (1);
// BENCH_FOLLOWER_NODE_OPTIONS passes node flags to the followers (GC studies).
import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, mkdtempSync, openSync, readdirSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SIZE_MB = Number(process.env.BENCH_CONSOLE_MB ?? 200);
const LINE_BYTES = 100;
const BYTES_BUDGET = 1.1;
const RSS_BUDGET_MB = 150;
const LONG_LINE_MB = 40;
const LONG_LINE_RSS_BUDGET_MB = 200;
const LINE_LATENCY_BUDGET_MS = 1000;
const END_NOTICED_BUDGET = 0.9;
const END_LATENESS_BUDGET = 0.5;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

// ——— child side ———

/** Runs the real Jenkins step (as `iac up` does) against `url`, job `job`; reports what it measured. */
async function stepFollower(url, job) {
  const { jenkinsBuildStep } = await import('../../dist/steps/jenkins-build.js');
  const { Redactor } = await import('../../dist/util/redact.js');
  const runDir = mkdtempSync(join(tmpdir(), 'iac-bench-console-'));
  const redactor = new Redactor();
  // A registered secret, so the redaction path is exercised on every byte (it never occurs here).
  redactor.addCredential('bench', 'bench-token-0123456789abcdef');
  const settings = { url, job, multibranch: false, parameters: {}, pollIntervalMs: 1000, allowInsecureHttp: false };
  const env = { name: 'bench', branch: 'main', sha: '0'.repeat(40), jenkins: settings };
  const step = jenkinsBuildStep(env, settings, { cancelOnInterrupt: false, env: {}, secret: () => {}, redactor });
  let lines = 0;
  let cutLines = 0;
  let longestLine = 0;
  const seen = []; // [line number, ms when shown] for generated lines
  const controller = new AbortController();
  const ctx = {
    signal: controller.signal,
    runDir,
    verbose: true,
    progress() {},
    liveLine() {},
    log(line) {
      lines++;
      longestLine = Math.max(longestLine, line.length);
      if (line.includes('[line cut at')) cutLines++;
      const match = /^line (\d{9}) /.exec(line);
      if (match && (Number(match[1]) % 97 === 0 || seen.length === 0)) seen.push([Number(match[1]), Date.now()]);
    },
    link() {},
    warn() {},
    secret() {},
    redact: (text) => redactor.redact(text),
    intent() {},
    outcome() {},
    async subtasks() {},
  };
  const result = await step.run(ctx);
  const maxRssKb = process.resourceUsage().maxRSS;
  const [saved] = readdirSync(runDir).filter((f) => f.endsWith('.log'));
  const file = join(runDir, saved);
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk);
    size += chunk.length;
  }
  // Where the generated lines start in the log (after the header), for the latency computation.
  const head = Buffer.alloc(4096);
  const fd = openSync(file, 'r');
  const headLength = readSync(fd, head, 0, head.length, 0);
  closeSync(fd);
  const headerBytes = Math.max(0, head.subarray(0, headLength).indexOf('line 000000001 '));
  rmSync(runDir, { recursive: true, force: true });
  reply({
    summary: result.summary,
    savedBytes: size,
    sha256: hash.digest('hex'),
    lines,
    cutLines,
    longestLine,
    seen,
    headerBytes,
    maxRssKb,
  });
}

/** Sends the report to the parent and ends the child (the IPC channel would keep it alive). */
function reply(message) {
  process.send(message, () => process.exit(0));
}

/** Follows one triggered build and reports when its end was noticed (epoch ms), hint-driven (followBuild) or by fixed 1 s polls. */
async function endNoticer(url, job, mode) {
  const { JenkinsClient } = await import('../../dist/jenkins/client.js');
  const { followBuild } = await import('../../dist/jenkins/follow.js');
  const client = new JenkinsClient({ baseUrl: url });
  await client.getJob(job); // warm the connection, as iac's preflight does
  const triggeredAt = Date.now();
  const { queueId } = await client.trigger(job, {});
  if (mode === 'hints') {
    for await (const event of followBuild(client, { jobPath: job, queueId, pollIntervalMs: 1000 })) {
      if (event.type === 'finished') return reply({ triggeredAt, noticedAt: Date.now(), requests: client.stats.requests });
    }
  }
  // The script a user would write: poll the queue item, then the build, every second.
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  let number;
  while (number === undefined) {
    const item = await (await fetch(`${url}queue/item/${queueId}/api/json`)).json();
    if (item.executable) number = item.executable.number;
    else await sleep(1000);
  }
  for (;;) {
    const build = await (await fetch(`${url}job/${job}/${number}/api/json`)).json();
    if (!build.building) return reply({ triggeredAt, noticedAt: Date.now() });
    await sleep(1000);
  }
}

// ——— parent side ———

function child(args) {
  const proc = fork(fileURLToPath(import.meta.url), args, {
    execArgv: (process.env.BENCH_FOLLOWER_NODE_OPTIONS ?? '').split(' ').filter(Boolean),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    proc.once('message', resolve);
    proc.once('exit', (code) => code !== 0 && reject(new Error(`bench child ${args.join(' ')} exited with ${code}`)));
  });
}

async function consoleHash(sandbox, job) {
  const expected = createHash('sha256');
  // consoleText returns the raw log; stream it rather than holding 200 MB.
  const response = await fetch(`${sandbox.url}job/${job}/1/consoleText`);
  for await (const part of response.body) expected.update(part);
  return expected.digest('hex');
}

async function bigConsole(startJenkinsSandbox) {
  const lines = Math.ceil((SIZE_MB * 1024 * 1024) / LINE_BYTES);
  const sandbox = await startJenkinsSandbox({
    jobs: { big: { builds: [{ result: 'SUCCESS', durationMs: 4000, consoleLines: lines, consoleLineBytes: LINE_BYTES }] } },
  });
  try {
    const report = await child(['--step', sandbox.url, 'big']);
    const size = sandbox.consoleSize('big', 1);
    const identical = (await consoleHash(sandbox, 'big')) === report.sha256 && report.savedBytes === size;
    const fetched = sandbox.stats.consoleBytesSent;
    const ratio = fetched / size;
    const rssMb = report.maxRssKb / 1024;
    return [
      {
        benchmark: `console: bytes fetched / console size (${SIZE_MB} MB, saved log ${identical ? 'byte-identical' : 'MISMATCH'})`,
        value: `${(fetched / 1048576).toFixed(1)} MiB / ${(size / 1048576).toFixed(1)} MiB`,
        ratio,
        budget: BYTES_BUDGET,
        ok: ratio <= BYTES_BUDGET && identical && /SUCCESS/.test(report.summary),
      },
      {
        benchmark: `console: follower peak RSS, ${SIZE_MB} MB console through the step (MB)`,
        value: `${rssMb.toFixed(1)} MB`,
        ratio: rssMb / RSS_BUDGET_MB,
        budget: 1,
        ok: rssMb < RSS_BUDGET_MB,
      },
    ];
  } finally {
    await sandbox.close();
  }
}

async function longLine(startJenkinsSandbox) {
  const sandbox = await startJenkinsSandbox({
    jobs: { long: { builds: [{ result: 'SUCCESS', durationMs: 2000, consoleLines: ['before'], consoleLongLineBytes: LONG_LINE_MB * 1024 * 1024 }] } },
  });
  try {
    const report = await child(['--step', sandbox.url, 'long']);
    const size = sandbox.consoleSize('long', 1);
    const identical = (await consoleHash(sandbox, 'long')) === report.sha256 && report.savedBytes === size;
    const rssMb = report.maxRssKb / 1024;
    return [
      {
        benchmark: `console: follower peak RSS, one ${LONG_LINE_MB} MB line (saved log ${identical ? 'byte-identical' : 'MISMATCH'}, ${report.cutLines} cut line, longest shown ${report.longestLine} chars)`,
        value: `${rssMb.toFixed(1)} MB`,
        ratio: rssMb / LONG_LINE_RSS_BUDGET_MB,
        budget: 1,
        ok: rssMb < LONG_LINE_RSS_BUDGET_MB && identical && report.cutLines === 1 && report.longestLine < 8192,
      },
    ];
  } finally {
    await sandbox.close();
  }
}

async function lineLatency(startJenkinsSandbox) {
  // A build that writes 2 MB of 100-byte lines evenly over 6 s.
  const durationMs = 6000;
  const count = 20_000;
  const sandbox = await startJenkinsSandbox({
    jobs: { steady: { builds: [{ result: 'SUCCESS', durationMs, consoleLines: count, consoleLineBytes: LINE_BYTES }] } },
  });
  try {
    const report = await child(['--step', sandbox.url, 'steady']);
    const build = await (await fetch(`${sandbox.url}job/steady/1/api/json`)).json();
    const growing = report.headerBytes + count * LINE_BYTES;
    // Line k (1-based) is complete once the log has grown past its last byte.
    const latencies = report.seen.map(([k, shownAt]) => shownAt - (build.timestamp + ((report.headerBytes + k * LINE_BYTES) / growing) * durationMs));
    const worst = Math.max(...latencies);
    return [
      {
        benchmark: `console: a line shows within 1 s (worst of ${latencies.length} sampled lines, median ${median(latencies).toFixed(0)} ms)`,
        value: `${worst.toFixed(0)} ms`,
        ratio: worst / LINE_LATENCY_BUDGET_MS,
        budget: 1,
        ok: worst <= LINE_LATENCY_BUDGET_MS,
      },
    ];
  } finally {
    await sandbox.close();
  }
}

async function endNoticed(startJenkinsSandbox) {
  // Quiet period 1 s (even with delay=0sec) and builds of 2 s … 2.75 s, each with a previous build of
  // the same length so Jenkins has an estimate. The varied lengths put the build's end at every
  // phase of a 1 s poller, as real timings do (in the sandbox a 2 s build ends exactly on a poll).
  const durations = [2000, 2250, 2500, 2750];
  const jobs = {};
  for (let round = 0; round < ROUNDS; round++) {
    const durationMs = durations[round % durations.length];
    const job = { quietPeriodMs: 1000, quietPeriodAlways: true, builds: [{ result: 'SUCCESS', durationMs, consoleLines: 50 }], history: [{ result: 'SUCCESS', durationMs }] };
    jobs[`hints${round}`] = job;
    jobs[`fixed${round}`] = job;
  }
  const sandbox = await startJenkinsSandbox({ jobs });
  try {
    const total = { hints: [], fixed: [] };
    const late = { hints: [], fixed: [] };
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which goes first so drift or warm-up favours neither.
      for (const mode of round % 2 === 0 ? ['hints', 'fixed'] : ['fixed', 'hints']) {
        const report = await child(['--end', sandbox.url, `${mode}${round}`, mode]);
        const build = await (await fetch(`${sandbox.url}job/${mode}${round}/2/api/json`)).json();
        total[mode].push(report.noticedAt - report.triggeredAt);
        late[mode].push(report.noticedAt - (build.timestamp + build.duration));
      }
    }
    if (process.env.BENCH_VERBOSE) console.error(JSON.stringify({ total, late }));
    const ms = (value) => `${Math.round(value)} ms`;
    return [
      {
        benchmark: `jenkins: trigger → end noticed, Jenkins' hints vs fixed 1 s polls (quiet 1 s + build 2–2.75 s, median of ${ROUNDS})`,
        value: `${(median(total.hints) / 1000).toFixed(2)} s vs ${(median(total.fixed) / 1000).toFixed(2)} s`,
        ratio: median(total.hints) / median(total.fixed),
        budget: END_NOTICED_BUDGET,
        ok: median(total.hints) / median(total.fixed) <= END_NOTICED_BUDGET,
      },
      {
        benchmark: 'jenkins: build end → noticed (lateness), hints vs fixed 1 s polls (median)',
        value: `${ms(median(late.hints))} vs ${ms(median(late.fixed))}`,
        ratio: median(late.hints) / median(late.fixed),
        budget: END_LATENESS_BUDGET,
        ok: median(late.hints) / median(late.fixed) <= END_LATENESS_BUDGET,
      },
    ];
  } finally {
    await sandbox.close();
  }
}

export async function run() {
  const { startJenkinsSandbox } = await import('../../dist/sandbox/jenkins.js');
  // BENCH_CONSOLE_ONLY=end,long runs a subset (while working on one of them).
  const only = (process.env.BENCH_CONSOLE_ONLY ?? '').split(',').filter(Boolean);
  const parts = { big: bigConsole, long: longLine, latency: lineLatency, end: endNoticed };
  const rows = [];
  for (const [name, part] of Object.entries(parts)) if (only.length === 0 || only.includes(name)) rows.push(...(await part(startJenkinsSandbox)));
  return rows;
}

if (process.argv[2] === '--step') {
  await stepFollower(process.argv[3], process.argv[4]);
} else if (process.argv[2] === '--end') {
  await endNoticer(process.argv[3], process.argv[4], process.argv[5]);
} else if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await run();
  console.table(rows.map((r) => ({ ...r, ratio: Number(r.ratio.toFixed(3)) })));
  process.exit(rows.every((r) => r.ok) ? 0 : 1);
}
