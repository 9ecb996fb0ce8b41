/**
 * The `tessera` command (DESIGN §7). Every listing has `--json`; every error is one line on
 * stderr (`tessera: …`) and a non-zero exit.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { ResourceSpace, type JobSpec } from '@tessera/core';
import { PLACEMENT_MODE_NAMES } from '@tessera/protocol';
import { table, usage } from './core/tables.ts';
import { formatSummary } from './core/summary.ts';
import { CliError } from './shell/errors.ts';
import { fetchJobs, fetchNodes, fetchPartitions, jobJson, nodeJson } from './shell/listings.ts';
import { setMode } from './shell/mode.ts';
import { loadReplayJobs, runReplay } from './shell/replay.ts';
import { runStart } from './shell/start.ts';
import { loadJobFile, publishJobs } from './shell/submit.ts';
import { connectTo, resolveTarget, type CellTarget, type GlobalOptions } from './shell/target.ts';
import { down, formatStatus, statusOf, upDetached, upForeground, type UpOptions } from './shell/up.ts';
import { withTemporaryCell } from './shell/temporary-cell.ts';
import { addAuthCommands } from './shell/auth.ts';
import { runConsole } from './shell/console-command.ts';
import { changeNodes, describeChange, waitDrained } from './shell/node-admin.ts';
import { fetchExplain, formatExplain } from './shell/explain.ts';
import { applyQueues, fetchQueues, formatQueues, knownQueues, loadQueueFile } from './shell/queues.ts';

const out = (s: string) => process.stdout.write(`${s}\n`);
const err = (s: string) => process.stderr.write(`${s}\n`);

function intArg(min: number) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`must be an integer ≥ ${min}`);
    return n;
  };
}
function positiveNumber(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
}

function positiveOrZero(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a number ≥ 0');
  return n;
}

function spaceOf(g: GlobalOptions): ResourceSpace {
  try {
    return ResourceSpace.of(g.resources.split(',').map((s) => s.trim()));
  } catch (e) {
    throw new CliError(`--resources: ${(e as Error).message}`, 2);
  }
}

async function withCell<T>(g: GlobalOptions, fn: (nc: Awaited<ReturnType<typeof connectTo>>, t: CellTarget) => Promise<T>): Promise<T> {
  const target = resolveTarget(g);
  const nc = await connectTo(target);
  try {
    return await fn(nc, target);
  } finally {
    await nc.close().catch(() => undefined);
  }
}

const json = (v: unknown) => out(JSON.stringify(v, null, 2));

export function buildProgram(): Command {
  const program = new Command('tessera')
    .description('tessera: a shared-state cluster scheduler with partitioned synchronization (Omega / ParSync) over NATS')
    .option('--nats <url>', 'NATS of the cell (default: the local cell\'s, from its state file)')
    .option('--nats-auth <file>', 'NATS credentials file ({user, pass, inboxPrefix?, ca?}; default: the local cell\'s admin credentials)')
    .option('--cell <name>', 'cell name', 'default')
    .option('--data-dir <dir>', 'where local cells keep their state (<dir>/<cell>/)', '.tessera')
    .option('--resources <list>', 'the cell\'s resource names', 'cpu_millis,mem_mib,gpu,gpu_milli')
    .showHelpAfterError('(tessera --help lists the commands)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s.startsWith('error:') ? `tessera: ${s.slice(7)}` : s) });
  const globals = (cmd: Command) => cmd.optsWithGlobals() as GlobalOptions & Record<string, unknown>;

  program.command('up')
    .description('start a local cell: nats-server, cell-state, K schedulers, sim node agents')
    .option('--nodes <n>', 'virtual nodes (default 1000; with --machines, every machine of the file)', intArg(0))
    .option('--schedulers <k>', 'scheduler replicas', intArg(1), 3)
    .option('--partitions <p>', 'node partitions (cell-state)', intArg(1))
    .addOption(new Option('--mode <mode>', 'placement mode').choices([...PLACEMENT_MODE_NAMES]))
    .option('--machines <file>', 'nodes from a machine file (alibaba2017, alibaba_gpu2023 or tessera format)')
    .option('--detach', 'leave the cell running in the background and return once it is ready', false)
    .option('--fresh', 'delete the cell\'s data folder first (streams, commit log, logs)', false)
    .option('--time-scale <x>', 'divide simulated task durations by x', positiveNumber)
    .option('--zones <list>', 'zone names for the zone/rack labels', 'a,b,c,d')
    .option('--nodes-per-agent <n>', 'at most this many nodes per agent process', intArg(1), 10_000)
    .option('--heartbeat-ms <ms>', 'agent heartbeat period', intArg(50))
    .option('--cpu-millis <n>', 'CPU per virtual node (1000 = one core)', intArg(0))
    .option('--mem-mib <n>', 'memory per virtual node', intArg(0))
    .option('--gpu <n>', 'GPUs per virtual node', intArg(0))
    .addOption(new Option('--log-level <level>', 'services\' log level').choices(['trace', 'debug', 'info', 'warn', 'error']))
    .option('--ready-timeout <s>', 'how long to wait for the cell to be ready', intArg(1), 120)
    .option('--no-auth', 'NATS without authentication (default: every connection authenticated, credentials under <data-dir>/<cell>/auth/)')
    .option('--tls', 'NATS over TLS (a CA and certificate made with openssl under <data-dir>/<cell>/auth/tls/)', false)
    .option('--tenants <list>', 'tenants that get a submitter identity', 'default')
    .option('--exec-agent', 'also start a node agent with the exec driver on this host (node exec-000000, label zone=host: real commands run)', false)
    .option('--console', 'also serve the web console on loopback (URL printed, with its access token)', false)
    .option('--console-port <n>', 'the console\'s port (default: a free one)', intArg(0))
    .option('--queues <file>', 'apply this queue file (YAML or JSON, DESIGN §10) once the cell is up; validated before anything starts')
    .action(async (_o, cmd: Command) => {
      const g = globals(cmd);
      const queueFile = g.queues as string | undefined;
      const queues = queueFile === undefined ? undefined : await loadQueueFile(queueFile, spaceOf(g));
      const applyFile = queues === undefined ? undefined : async () => {
        await withCell(g, async (nc, t) => {
          const r = await applyQueues(nc, t, queues, queueFile as string);
          out(`queues: ${r.queues} applied from ${queueFile} (version ${r.version})`);
        });
      };
      const o: UpOptions = { ...(g as unknown as UpOptions), readyTimeoutS: g.readyTimeout as number, onReady: applyFile };
      if (o.detach) await upDetached(g, process.argv.slice(2), o, out);
      else await upForeground(g, o, out, err);
    });

  program.command('console')
    .description('serve the live web console of the cell on loopback (nodes heatmap, staleness, conflicts, jobs, commit log, mode switch) until Ctrl-C')
    .option('--port <n>', 'port (default: a free one)', intArg(0))
    .option('--metrics <urls>', 'extra /metrics URLs to read (comma-separated; cell-state=URL for a cell-state), besides the local cell\'s')
    .action(async (_o, cmd: Command) => {
      const g = globals(cmd);
      await runConsole(g, g.port as number | undefined, g.metrics as string | undefined, out);
    });

  program.command('down')
    .description('stop the local cell (services in order, NATS last)')
    .option('--purge', 'also delete its data folder', false)
    .action(async (_o, cmd: Command) => {
      const g = globals(cmd);
      await down(g, g.purge === true, out);
    });

  program.command('status')
    .description('the local cell\'s services: pid, state, restarts, metrics URL')
    .option('--json', 'machine-readable output', false)
    .action((_o, cmd: Command) => {
      const g = globals(cmd);
      const s = statusOf(g);
      if (g.json) json(s); else out(formatStatus(s));
    });

  program.command('submit')
    .description('submit jobs from JSON, YAML or JSON-Lines files (.gz too); every job is validated first')
    .argument('<file...>', 'job files')
    .option('--json', 'machine-readable output', false)
    .action(async (files: string[], _o, cmd: Command) => {
      const g = globals(cmd);
      const space = spaceOf(g);
      const all: JobSpec[] = [];
      const perFile: JobSpec[][] = [];
      const seen = new Map<string, string>();
      for (const f of files) {
        const jobs = await loadJobFile(f, space);
        for (const job of jobs) {
          const prior = seen.get(job.id);
          if (prior !== undefined) throw new CliError(`${f}: job id "${job.id}" is also in ${prior}; nothing was submitted`);
          seen.set(job.id, f);
          all.push(job);
        }
        perFile.push(jobs);
      }
      await withCell(g, async (nc, t) => {
        // Refused here with a one-line reason when the cell can list its queues (a submitter-only
        // identity may not ask: then cell-state refuses such a job when it reads it).
        const queues = await knownQueues(nc, t).catch(() => undefined);
        const unknown = queues === undefined ? undefined : all.find((j) => !queues.has(j.queue));
        if (unknown !== undefined) throw new CliError(`${seen.get(unknown.id)}: job "${unknown.id}": queue "${unknown.queue}" does not exist (tessera queues lists them); nothing was submitted`, 2);
        const r = await publishJobs(nc, t.subjects, perFile, Date.now());
        if (g.json) json({ submitted: r.published, duplicates: r.duplicates, ids: all.map((j) => j.id) });
        else out(`submitted ${r.published} job${r.published === 1 ? '' : 's'}${r.duplicates > 0 ? ` (${r.duplicates} already submitted: ignored)` : ''}`);
      });
    });

  program.command('jobs')
    .description('jobs and their tasks')
    .option('--json', 'the DESIGN §7 shape: [{id, tenant, state, reason?, tasks: [{id, name, state, node?}]}]', false)
    .option('--limit <n>', 'at most n jobs', intArg(1))
    .action(async (_o, cmd: Command) => {
      const g = globals(cmd);
      await withCell(g, async (nc, t) => {
        const jobs = await fetchJobs(nc, t.subjects.queryJobs, g.limit as number | undefined);
        if (g.json) { json(jobs.map(jobJson)); return; }
        out(table(['ID', 'TENANT', 'STATE', 'TASKS', 'REASON'], jobs.map((j) => {
          const by: Record<string, number> = {};
          for (const task of j.tasks) by[task.state] = (by[task.state] ?? 0) + 1;
          return [j.id, j.tenant, j.state, `${j.tasks.length} (${Object.entries(by).map(([k, v]) => `${v} ${k}`).join(', ')})`, j.reason];
        })));
      });
    });

  program.command('nodes')
    .description('nodes with capacity and allocations')
    .option('--json', 'the DESIGN §7 shape: [{id, partition, state, labels, capacity, allocated}]', false)
    .option('--limit <n>', 'at most n nodes', intArg(1))
    .action(async (_o, cmd: Command) => {
      const g = globals(cmd);
      await withCell(g, async (nc, t) => {
        const nodes = await fetchNodes(nc, t.subjects.queryNodes, g.limit as number | undefined);
        if (g.json) { json(nodes.map(nodeJson)); return; }
        const res = ['cpu_millis', 'mem_mib', 'gpu'];
        out(table(['ID', 'PARTITION', 'STATE', 'ZONE', 'RACK', 'CPU', 'MEM', 'GPU'], nodes.map((n) => [
          n.id, n.partition, n.state, n.labels.zone, n.labels.rack, ...res.map((r) => usage(r, n.allocated[r], n.capacity[r])),
        ])));
      });
    });

  program.command('partitions')
    .description('partitions: version, nodes, allocation ratios')
    .option('--json', 'machine-readable output', false)
    .action(async (_o, cmd: Command) => {
      const g = globals(cmd);
      await withCell(g, async (nc, t) => {
        const parts = await fetchPartitions(nc, t.subjects.queryPartitions);
        if (g.json) { json(parts); return; }
        out(table(['PARTITION', 'VERSION', 'NODES', 'READY', 'ALLOCATED'], parts.map((p) => [
          p.id, p.version, p.nodes, p.ready, Object.entries(p.allocated_ratio).map(([k, v]) => `${k} ${(v * 100).toFixed(1)}%`).join(', '),
        ])));
      });
    });

  for (const [op, what] of [['cordon', 'no new placements on these nodes (running tasks stay)'], ['uncordon', 'let these nodes take placements again']] as const) {
    program.command(op)
      .description(`${what}; written to the commit log (survives restarts)`)
      .argument('<node...>', 'node ids')
      .option('--json', 'machine-readable output', false)
      .action(async (nodes: string[], _o, cmd: Command) => {
        const g = globals(cmd);
        await withCell(g, async (nc, t) => {
          const r = await changeNodes(nc, t, op, nodes);
          if (g.json) json(r); else out(describeChange(op, r));
        });
      });
  }

  program.command('queues')
    .description('queues with guaranteed/max quota, allocation, dominant share and backlog; `queues apply FILE` replaces the queue file live')
    .argument('[op]', '"apply" to replace the queue file')
    .argument('[file]', 'queue file (YAML or JSON) for apply')
    .option('--json', 'the DESIGN §10 shape: [{name, parent, weight, guaranteed, max, allocated, dominant_share, pending_jobs, pending_tasks, running_tasks}]', false)
    .action(async (op: string | undefined, file: string | undefined, _o, cmd: Command) => {
      const g = globals(cmd);
      if (op !== undefined && op !== 'apply') throw new CliError(`unknown queues operation "${op}": use 'tessera queues' or 'tessera queues apply FILE'`, 2);
      if (op === 'apply') {
        if (file === undefined) throw new CliError('tessera queues apply needs a FILE', 2);
        const doc = await loadQueueFile(file, spaceOf(g));
        await withCell(g, async (nc, t) => {
          const r = await applyQueues(nc, t, doc, file);
          if (g.json) json(r); else out(`applied ${file}: ${r.queues} queues (version ${r.version})`);
        });
        return;
      }
      await withCell(g, async (nc, t) => {
        const items = await fetchQueues(nc, t);
        if (g.json) json(items); else out(formatQueues(items));
      });
    });

  program.command('explain')
    .description('why a job is pending or unschedulable: per task group, the nodes each filter refused and why; its queue position; the committer\'s last refusals')
    .argument('<job>', 'job id')
    .option('--json', 'machine-readable output', false)
    .action(async (job: string, _o, cmd: Command) => {
      const g = globals(cmd);
      await withCell(g, async (nc, t) => {
        const r = await fetchExplain(nc, t, job);
        if (g.json) json(r); else out(formatExplain(r));
      });
    });

  program.command('drain')
    .description('cordon these nodes, then re-place their tasks elsewhere; they end drained (written to the commit log)')
    .argument('<node...>', 'node ids')
    .option('--deadline <s>', 'let tasks run up to this many seconds before they are stopped and re-placed', positiveOrZero, 0)
    .option('--no-wait', 'return once the drain is recorded instead of waiting for the nodes to be drained')
    .option('--json', 'machine-readable output', false)
    .action(async (nodes: string[], _o, cmd: Command) => {
      const g = globals(cmd);
      await withCell(g, async (nc, t) => {
        const r = await changeNodes(nc, t, 'drain', nodes, g.deadline as number);
        if (g.wait === false) { if (g.json) json(r); else out(describeChange('drain', r)); return; }
        const done = await waitDrained(nc, t, r.nodes.map((n) => n.id), (g.deadline as number) * 1000 + 60_000, g.json ? () => undefined : err);
        if (g.json) json({ ...r, nodes: done }); else out(done.map((n) => `${n.id}: ${n.state}`).join('\n'));
      });
    });

  program.command('mode')
    .description(`switch the schedulers' placement mode live (${PLACEMENT_MODE_NAMES.join(', ')})`)
    .argument('<mode>', 'placement mode')
    .action(async (mode: string, _o, cmd: Command) => {
      const g = globals(cmd);
      await withCell(g, async (nc, t) => {
        const r = await setMode(nc, t, mode);
        out(r.acknowledged ? `mode set to ${mode}` : `mode ${mode} stored; no scheduler answered right now (they read it when they start)`);
      });
    });

  program.command('replay')
    .description('replay a real trace (google2011, alibaba2017, alibaba_gpu2023 or tessera jobs) against the cell and summarize')
    .argument('<trace>', 'trace file (.jsonl.gz)')
    .option('--speed <x>', 'trace time divided by x', positiveNumber, 1)
    .option('--limit <n>', 'only the first n jobs', intArg(1))
    .option('--machines <file>', 'when no cell is running: start a temporary one with these machines')
    .option('--nodes <n>', 'when no cell is running: start a temporary one with n virtual nodes', intArg(1))
    .option('--wait <s>', 'how long to wait for placements after the last submission', intArg(0), 120)
    .option('--id-prefix <p>', 'prepended to job ids (default: a per-run prefix so replays do not collide)')
    .option('--metrics <url>', 'cell-state /metrics URL (default: from the local state file)')
    .option('--json', 'print the summary as JSON', false)
    .action(async (trace: string, _o, cmd: Command) => {
      const g = globals(cmd);
      const space = spaceOf(g);
      const jobs = await loadReplayJobs(trace, space, g.limit as number | undefined);
      const run = async (gg: GlobalOptions) => withCell(gg, async (nc, t) => {
        const summary = await runReplay(nc, t, jobs, {
          trace, speed: g.speed as number, limit: g.limit as number | undefined, waitS: g.wait as number, space,
          idPrefix: (g.idPrefix as string | undefined) ?? `r${Date.now().toString(36)}-`,
          cellMetricsUrl: (g.metrics as string | undefined) ?? t.state?.services.find((s) => s.kind === 'cell-state')?.metricsUrl,
          schedulerMetricsUrls: t.state?.services.filter((s) => s.kind === 'scheduler').flatMap((s) => (s.metricsUrl ? [s.metricsUrl] : [])) ?? [],
          progress: process.stderr.isTTY === true && !g.json, note: err,
        });
        if (g.json) json(summary); else out(formatSummary(summary));
      });
      await withTemporaryCell(g, { machines: g.machines as string | undefined, nodes: g.nodes as number | undefined, timeScale: g.speed as number }, run, err);
    });

  program.command('start')
    .description('npm start: a local cell (nats-server, cell-state, 3 schedulers, 1000 sim nodes) replaying a bundled real sample; Ctrl-C stops it')
    .option('--nodes <n>', 'virtual nodes', intArg(1), 1000)
    .option('--schedulers <k>', 'scheduler replicas', intArg(1), 3)
    .option('--trace <file>', 'trace to replay (default: the bundled alibaba2017 sample)')
    .option('--duration <s>', 'compress the trace into about this many seconds', positiveNumber, 60)
    .option('--limit <n>', 'only the first n jobs of the trace (0 = all; the whole bundled sample is 1.3 M tasks, far more than a minute on a laptop)', intArg(0), 100)
    .option('--no-wait', 'exit after the summary instead of running until Ctrl-C')
    .action(async (_o, cmd: Command) => {
      const g = globals(cmd);
      await runStart(g, {
        nodes: g.nodes as number, schedulers: g.schedulers as number, trace: g.trace as string | undefined,
        durationS: g.duration as number, limit: g.limit as number | undefined, keepRunning: g.wait !== false,
      }, out, err);
    });

  addAuthCommands(program, globals, out, json);
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return 0;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('commander.')) {
      if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') return 0;
      return (e as { exitCode?: number }).exitCode === 0 ? 0 : 2;
    }
    if (e instanceof CliError) {
      err(`tessera: ${e.message.split('\n')[0]}`);
      return e.exitCode;
    }
    err(`tessera: ${(e as Error)?.message?.split('\n')[0] ?? String(e)}`);
    return 1;
  }
}

const exitCode = await main(process.argv.slice(2));
// Foreground `up`/`start` exit from their own signal handlers; everything else ends here — once
// stdout is flushed (to a pipe it is asynchronous: exiting at once cut long --json listings).
await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
process.exit(exitCode);
