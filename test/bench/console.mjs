// Jenkins console-follow budget (DESIGN.md): following a 200 MB console fetches ≤ 1.1 × its size
// and peaks below 150 MB RSS. The sandbox runs in this process; the follower runs in a child
// process so its peak RSS is its own. Needs `npm run build` (imports ../../dist).
// Also checks that the follower received the console byte for byte (sha256).
// BENCH_CONSOLE_MB sets the size; BENCH_FOLLOWER_NODE_OPTIONS passes node flags to the follower (GC studies).
import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const SIZE_MB = Number(process.env.BENCH_CONSOLE_MB ?? 200);
const LINE_BYTES = 100;
const LINES = Math.ceil((SIZE_MB * 1024 * 1024) / LINE_BYTES);
const BYTES_BUDGET = 1.1;
const RSS_BUDGET_MB = 150;

async function follower(url) {
  const { JenkinsClient } = await import('../../dist/jenkins/client.js');
  const { followBuild } = await import('../../dist/jenkins/follow.js');
  const client = new JenkinsClient({ baseUrl: url });
  const hash = createHash('sha256');
  let received = 0;
  let result;
  const { queueId } = await client.trigger('big', {});
  for await (const event of followBuild(client, {
    jobPath: 'big',
    queueId,
    pollIntervalMs: 250,
    consoleSink: (chunk) => {
      received += Buffer.byteLength(chunk);
      hash.update(chunk);
    },
  })) {
    if (event.type === 'finished') result = event.result;
  }
  process.send({ result, received, sha256: hash.digest('hex'), fetched: client.stats.consoleBytes, maxRssKb: process.resourceUsage().maxRSS });
}

export async function run() {
  const { startJenkinsSandbox } = await import('../../dist/sandbox/jenkins.js');
  const sandbox = await startJenkinsSandbox({
    jobs: { big: { builds: [{ result: 'SUCCESS', durationMs: 4000, consoleLines: LINES, consoleLineBytes: LINE_BYTES }] } },
  });
  try {
    const child = fork(fileURLToPath(import.meta.url), ['--follow', sandbox.url], {
      execArgv: (process.env.BENCH_FOLLOWER_NODE_OPTIONS ?? '').split(' ').filter(Boolean), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const report = await new Promise((resolve, reject) => {
      child.once('message', resolve);
      child.once('exit', (code) => code !== 0 && reject(new Error(`follower exited with ${code}`)));
    });
    const size = sandbox.consoleSize('big', 1);
    const expected = createHash('sha256');
    // consoleText returns the raw log; stream it rather than holding 200 MB.
    const response = await fetch(`${sandbox.url}job/big/1/consoleText`);
    for await (const part of response.body) expected.update(part);
    const identical = expected.digest('hex') === report.sha256 && report.received === size;
    const ratio = report.fetched / size;
    const rssMb = report.maxRssKb / 1024;
    return [
      {
        benchmark: `console: bytes fetched / console size (${SIZE_MB} MB, ${identical ? 'byte-identical' : 'MISMATCH'})`,
        value: `${(report.fetched / 1048576).toFixed(1)} MiB / ${(size / 1048576).toFixed(1)} MiB`,
        ratio,
        budget: BYTES_BUDGET,
        ok: ratio <= BYTES_BUDGET && identical && report.result === 'SUCCESS',
      },
      {
        benchmark: 'console: follower peak RSS (MB)',
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

if (process.argv[2] === '--follow') {
  await follower(process.argv[3]);
} else if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await run();
  console.table(rows.map((r) => ({ ...r, ratio: Number(r.ratio.toFixed(3)) })));
  process.exit(rows.every((r) => r.ok) ? 0 : 1);
}
