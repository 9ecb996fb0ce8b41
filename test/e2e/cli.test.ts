/**
 * End to end through the real `tessera` command: `up --detach` (nats-server, cell-state, 3
 * schedulers, a 300-node sim agent, each its own process), submit JSON/YAML files (a bad one is
 * refused with the field path and nothing is submitted; one job fits no node), then the listings
 * against DESIGN §5 invariants, cell-state's conflict counters, `status`, `mode`, and `down`.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isProcessAlive, REPO_ROOT } from '@tessera/launcher';

const BIN = join(REPO_ROOT, 'cli/bin/tessera.mjs');
const CELL = `e2e${process.pid}`;
let dir: string;

interface Run { code: number; stdout: string; stderr: string; ms: number }

function tessera(...args: string[]): Promise<Run> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, '--data-dir', join(dir, 'cells'), '--cell', CELL, ...args], { cwd: dir, timeout: 180_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1;
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

async function tesseraJson<T>(...args: string[]): Promise<T> {
  const r = await tessera(...args, '--json');
  if (r.code !== 0) throw new Error(`tessera ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

interface JobJson { id: string; tenant: string; state: string; reason?: string; tasks: { id: string; name: string; state: string; node?: string }[] }
interface NodeJson { id: string; partition: number; state: string; labels: Record<string, string>; capacity: Record<string, number>; allocated: Record<string, number> }
interface StatusJson { cell: string; state: string; supervisorPid: number; natsUrl: string; services: { name: string; kind: string; pid?: number; alive: boolean; state: string; metricsUrl?: string }[] }

const GOOD_JSON = {
  jobs: [
    { id: 'etl-42', tenant: 'team-a', queue: 'default', priority: 100, gang: false,
      tasks: [{ name: 'map', count: 20, resources: { cpu_millis: 500, mem_mib: 256 }, duration_s: 2, command: ['sleep', '2'],
        constraints: [{ label: 'zone', op: 'in', values: ['a', 'b'] }] }] },
    { id: 'gang-7', tenant: 'team-a', gang: true,
      tasks: [{ name: 'worker', count: 8, resources: { cpu_millis: 4000, mem_mib: 4096 }, duration_s: 1 }] },
  ],
};
const GOOD_YAML = `# two jobs as YAML documents
id: web-1
tenant: team-b
tasks:
  - name: frontend
    count: 5
    resources: { cpu_millis: 1000, mem_mib: 1024 }
    duration_s: 1
  - name: backend
    count: 3
    resources: { cpu_millis: 2000, mem_mib: 2048 }
    duration_s: 2
---
id: batch-9
tenant: team-b
tasks:
  - name: t
    count: 40
    resources: { cpu_millis: 250, mem_mib: 128 }
    duration_s: 1
`;
const BAD_YAML = `jobs:
  - id: fine-1
    tasks: [{ name: a, count: 1, resources: { cpu_millis: 1 }, duration_s: 1 }]
  - id: fine-2
    tasks: [{ name: a, count: 1, resources: { cpu_millis: 1 }, duration_s: 1 }]
  - id: fine-3
    tasks: [{ name: a, count: 1, resources: { cpu_millis: 1 }, duration_s: 1 }]
  - id: broken-4
    tasks: [{ name: a, count: 1, resources: { cpu_millis: -1 }, duration_s: 1 }]
`;
const HUGE_JSON = { id: 'huge-1', tenant: 'team-c', tasks: [{ name: 'big', count: 1, resources: { cpu_millis: 10_000_000, mem_mib: 1 }, duration_s: 1 }] };
const QUEUES_YAML = `queues:
  - name: prod
    weight: 2
    guaranteed: { cpu_millis: 10000 }
    max: { cpu_millis: 50000 }
    queues: [ { name: web, guaranteed: { cpu_millis: 5000 } } ]
  - name: batch
`;
// A child guaranteed more than its parent: refused by the CLI before anything is sent.
const BAD_QUEUES_YAML = `queues:
  - name: prod
    guaranteed: { cpu_millis: 1000 }
    queues: [ { name: web, guaranteed: { cpu_millis: 5000 } } ]
`;
// Valid on its own, but guarantees more than the cell has: refused by cell-state.
const TOO_BIG_QUEUES_JSON = { queues: [{ name: 'prod', guaranteed: { cpu_millis: 1e12 } }] };
const PROD_JOB = { id: 'prod-1', tenant: 'team-a', queue: 'prod.web', tasks: [{ name: 'w', count: 2, resources: { cpu_millis: 1000, mem_mib: 64 }, duration_s: 600 }] };
const UNKNOWN_QUEUE_JOB = { id: 'lost-1', tenant: 'team-a', queue: 'nope', tasks: [{ name: 'w', count: 1, resources: { cpu_millis: 1 }, duration_s: 1 }] };
interface QueueJson { name: string; parent: string | null; weight: number; guaranteed: Record<string, number>; max: Record<string, number>; allocated: Record<string, number>; dominant_share: number; running_tasks: number }
const FEASIBLE: Record<string, number> = { 'etl-42': 20, 'gang-7': 8, 'web-1': 8, 'batch-9': 40 };

let upRun: Run;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-e2e-'));
  writeFileSync(join(dir, 'good.json'), JSON.stringify(GOOD_JSON, null, 2));
  writeFileSync(join(dir, 'good.yaml'), GOOD_YAML);
  writeFileSync(join(dir, 'bad.yaml'), BAD_YAML);
  writeFileSync(join(dir, 'huge.json'), JSON.stringify(HUGE_JSON));
  writeFileSync(join(dir, 'queues.yaml'), QUEUES_YAML);
  writeFileSync(join(dir, 'bad-queues.yaml'), BAD_QUEUES_YAML);
  writeFileSync(join(dir, 'too-big-queues.json'), JSON.stringify(TOO_BIG_QUEUES_JSON));
  writeFileSync(join(dir, 'prod.json'), JSON.stringify(PROD_JOB));
  writeFileSync(join(dir, 'unknown-queue.json'), JSON.stringify(UNKNOWN_QUEUE_JOB));
  upRun = await tessera('up', '--detach', '--nodes', '300', '--schedulers', '3', '--zones', 'a,b,c', '--queues', join(dir, 'queues.yaml'));
}, 180_000);

afterAll(async () => {
  // Whatever happened above, leave no process behind.
  const st = await tessera('status', '--json');
  if (st.code === 0 && (JSON.parse(st.stdout) as StatusJson).services.some((s) => s.alive)) await tessera('down');
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

async function waitForJobs(done: (jobs: JobJson[]) => boolean, timeoutMs = 90_000): Promise<JobJson[]> {
  const deadline = Date.now() + timeoutMs;
  let last: JobJson[] = [];
  while (Date.now() < deadline) {
    last = await tesseraJson<JobJson[]>('jobs');
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`jobs did not settle: ${JSON.stringify(last.map((j) => [j.id, j.state]))}`);
}

describe('tessera CLI end to end', () => {
  it('up --detach starts the cell and returns once it is ready', () => {
    // Nothing on stderr but the registration progress lines (shown while nodes register).
    expect(upRun.stderr.split('\n').filter((l) => l !== '' && !/^tessera: registering nodes: [\d,]+\/300$/.test(l))).toEqual([]);
    expect(upRun.code).toBe(0);
    expect(upRun.stdout).toMatch(/is up in [\d.]+ s: 300 nodes/);
    expect(upRun.stdout).toMatch(/cell-state .*http:\/\/127\.0\.0\.1:\d+\/metrics/);
    console.info(`tessera up --detach took ${upRun.ms} ms`);
  });

  it('status --json lists every service with pid, state and metrics URL', async () => {
    const s = await tesseraJson<StatusJson>('status');
    expect(s.cell).toBe(CELL);
    expect(s.state).toBe('running');
    expect(isProcessAlive(s.supervisorPid)).toBe(true);
    expect(s.services.map((x) => x.name)).toEqual(['nats', 'cell-state', 'scheduler-0', 'scheduler-1', 'scheduler-2', 'agent-0']);
    for (const x of s.services) {
      expect(x).toMatchObject({ state: 'running', alive: true });
      expect(x.pid).toBeGreaterThan(0);
      expect(x.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
    }
  });

  it('refuses a bad file with the path of the bad field, a non-zero exit, and submits nothing', async () => {
    const r = await tessera('submit', join(dir, 'good.json'), join(dir, 'bad.yaml'));
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('jobs[3].tasks[0].resources.cpu_millis: must be a finite number ≥ 0');
    const missing = await tessera('submit', join(dir, 'nope.json'));
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/^tessera: cannot read .*nope\.json: no such file\n$/);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await tesseraJson<JobJson[]>('jobs')).toEqual([]);
  });

  it('submits JSON and YAML files and a job larger than any node', async () => {
    const r = await tessera('submit', join(dir, 'good.json'), join(dir, 'good.yaml'), join(dir, 'huge.json'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('submitted 5 jobs');
  });

  it('places every feasible task exactly once, runs it to the end, and reports the infeasible job unschedulable', async () => {
    const jobs = await waitForJobs((js) => js.length === 5 && js.every((j) => j.state === 'finished' || j.state === 'unschedulable' || j.state === 'failed'));
    const byId = new Map(jobs.map((j) => [j.id, j]));
    for (const [id, count] of Object.entries(FEASIBLE)) {
      const j = byId.get(id)!;
      expect(j.state, id).toBe('finished');
      expect(j.tasks).toHaveLength(count);
      expect(new Set(j.tasks.map((t) => t.id)).size).toBe(count);
      for (const t of j.tasks) {
        expect(t.state).toBe('finished');
        expect(t.node).toMatch(/^node-\d{6}$/);
      }
      expect(Object.keys(j).sort()).toEqual(['id', 'state', 'tasks', 'tenant']);
    }
    const huge = byId.get('huge-1')!;
    expect(huge.state).toBe('unschedulable');
    expect(huge.reason).toBeTruthy();
    expect(huge.tasks.every((t) => t.node === undefined)).toBe(true);

    // The constraint held: every etl-42 task ran in zone a or b.
    const nodes = await tesseraJson<NodeJson[]>('nodes');
    const zone = new Map(nodes.map((n) => [n.id, n.labels.zone]));
    for (const t of byId.get('etl-42')!.tasks) expect(['a', 'b']).toContain(zone.get(t.node!));

    // Each task ran exactly once on the agent: starts and ends equal the number of feasible tasks.
    const status = await tesseraJson<StatusJson>('status');
    const agent = await (await fetch(status.services.find((s) => s.kind === 'node-agent')!.metricsUrl!)).text();
    const total = Object.values(FEASIBLE).reduce((a, b) => a + b, 0);
    expect(agent).toMatch(new RegExp(`^tessera_agent_tasks_started_total\\{[^}]*\\} ${total}$`, 'm'));
    expect(agent).toMatch(new RegExp(`^tessera_agent_tasks_total\\{[^}]*outcome="succeeded"[^}]*\\} ${total}$`, 'm'));
  });

  it('nodes --json: the §7 shape, every node ready, none over-committed', async () => {
    const nodes = await tesseraJson<NodeJson[]>('nodes');
    expect(nodes).toHaveLength(300);
    expect(new Set(nodes.map((n) => n.id)).size).toBe(300);
    for (const n of nodes) {
      expect(Object.keys(n).sort()).toEqual(['allocated', 'capacity', 'id', 'labels', 'partition', 'state']);
      expect(n.state).toBe('ready');
      expect(['a', 'b', 'c']).toContain(n.labels.zone);
      expect(n.labels.rack).toMatch(/^r\d+$/);
      for (const [r, used] of Object.entries(n.allocated)) expect(used, `${n.id} ${r}`).toBeLessThanOrEqual(n.capacity[r] ?? 0);
      expect(Object.keys(n.capacity)).toEqual(expect.arrayContaining(['cpu_millis', 'mem_mib']));
    }
  });

  it('a resubmission is deduplicated by job id', async () => {
    const r = await tessera('submit', join(dir, 'good.yaml'));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('2 already submitted');
    await new Promise((res) => setTimeout(res, 1000));
    expect(await tesseraJson<JobJson[]>('jobs')).toHaveLength(5);
  });

  it('cell-state /metrics has the commit and conflict counters', async () => {
    const status = await tesseraJson<StatusJson>('status');
    const text = await (await fetch(status.services.find((s) => s.kind === 'cell-state')!.metricsUrl!)).text();
    for (const name of ['tessera_commit_transactions_total', 'tessera_commit_claims_total', 'tessera_commit_conflicts_total', 'tessera_commit_batch_seconds', 'tessera_cell_nodes', 'tessera_cell_allocated_ratio']) {
      expect(text).toContain(name);
    }
    const committed = /^tessera_commit_claims_total\{[^}]*outcome="committed"[^}]*\} (\d+)/m.exec(text);
    expect(Number(committed?.[1])).toBeGreaterThanOrEqual(76);
  });

  it('partitions --json and mode', async () => {
    const parts = await tesseraJson<{ id: number; nodes: number }[]>('partitions');
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.reduce((n, p) => n + p.nodes, 0)).toBe(300);
    const m = await tessera('mode', 'quality-first');
    expect(m.code).toBe(0);
    expect(m.stdout).toContain('mode set to quality-first');
    const bad = await tessera('mode', 'fastest');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/^tessera: unknown mode "fastest"/);
  });

  it('replay submits a real trace sample and summarizes it', async () => {
    const r = await tessera('replay', join(REPO_ROOT, 'workloads/alibaba2017.sample.jobs.jsonl.gz'), '--limit', '5', '--speed', '1000', '--wait', '60', '--json');
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as { submitted: number; placements: number; conflictFraction?: number; delayP50S?: number; jobs: { jobs: number; tasks: number; placedTasks: number }; unfinished: number };
    expect(summary.submitted).toBe(5);
    expect(summary.jobs.jobs).toBe(5);
    expect(summary.placements).toBe(summary.jobs.tasks);
    expect(summary.jobs.placedTasks).toBe(summary.jobs.tasks);
    expect(summary.conflictFraction).toBeGreaterThanOrEqual(0);
    expect(summary.delayP50S).toBeGreaterThanOrEqual(0);
    expect(summary.unfinished).toBe(0);
  });

  it('up --queues applied the queue file: queues --json has the DESIGN §10 shape', async () => {
    expect(upRun.stdout).toMatch(/queues: \d+ applied from .*queues\.yaml/);
    const qs = await tesseraJson<QueueJson[]>('queues');
    expect(qs.map((q) => q.name).sort()).toEqual(['batch', 'default', 'prod', 'prod.web']);
    const prod = qs.find((q) => q.name === 'prod');
    expect(prod).toMatchObject({ parent: null, weight: 2, guaranteed: { cpu_millis: 10000 }, max: { cpu_millis: 50000 } });
    expect(qs.find((q) => q.name === 'prod.web')).toMatchObject({ parent: 'prod', guaranteed: { cpu_millis: 5000 } });
  });

  it('queues apply refuses a bad file whole (CLI or cell-state) and changes nothing', async () => {
    const config = (qs: QueueJson[]) => qs.map(({ name, parent, weight, guaranteed, max }) => ({ name, parent, weight, guaranteed, max }));
    const before = config(await tesseraJson<QueueJson[]>('queues'));
    const bad = await tessera('queues', 'apply', join(dir, 'bad-queues.yaml'));
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('queues[0]');
    const big = await tessera('queues', 'apply', join(dir, 'too-big-queues.json'));
    expect(big.code).not.toBe(0);
    expect(big.stderr).toMatch(/refused by cell-state: .*cpu_millis/);
    expect(config(await tesseraJson<QueueJson[]>('queues'))).toEqual(before);
  });

  it('submit refuses a job naming an unknown queue; a job of a leaf queue counts against it and its parent', async () => {
    const r = await tessera('submit', join(dir, 'unknown-queue.json'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/queue "nope" does not exist/);
    expect((await tesseraJson<JobJson[]>('jobs')).some((j) => j.id === 'lost-1')).toBe(false);
    expect((await tessera('submit', join(dir, 'prod.json'))).code).toBe(0);
    const deadline = Date.now() + 60_000;
    let qs: QueueJson[] = [];
    while (Date.now() < deadline) {
      qs = await tesseraJson<QueueJson[]>('queues');
      if (qs.find((q) => q.name === 'prod.web')?.allocated.cpu_millis === 2000) break;
      await new Promise((res) => setTimeout(res, 500));
    }
    expect(qs.find((q) => q.name === 'prod.web')?.allocated.cpu_millis).toBe(2000);
    expect(qs.find((q) => q.name === 'prod')?.allocated.cpu_millis).toBe(2000);
    expect(qs.find((q) => q.name === 'prod')?.dominant_share).toBeGreaterThan(0);
  });

  it('down stops every process; status then says stopped', async () => {
    const before = await tesseraJson<StatusJson>('status');
    const r = await tessera('down');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/stopped by its supervisor/);
    for (const s of before.services) expect(isProcessAlive(s.pid), s.name).toBe(false);
    expect(isProcessAlive(before.supervisorPid)).toBe(false);
    const after = await tesseraJson<StatusJson>('status');
    expect(after.state).toBe('stopped');
    const jobs = await tessera('jobs');
    expect(jobs.code).not.toBe(0);
    expect(jobs.stderr).toMatch(/^tessera: the local cell .* is not running/);
  });
});
