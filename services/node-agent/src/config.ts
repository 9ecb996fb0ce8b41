/** The node agent's flags (compiled once with `compileConfig`). */
import { AGENT_ID } from '@tessera/protocol';
import { z } from 'zod';
import { natsAuthFlag } from '@tessera/runtime';

const csv = (s: string) => s.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
const count = z.coerce.number().int().nonnegative();
const amount = z.coerce.number().finite().nonnegative();

export const agentConfigSchema = z
  .object({
    nats: z.string({ required_error: 'required (nats://host:port[,…])' }).min(1),
    /** NATS credentials file (`tessera auth show`'s fields: user, pass, inboxPrefix, ca); none: connect without. */
    natsAuth: natsAuthFlag,
    cell: z.string().default('default'),
    httpPort: z.coerce.number().int().min(0).max(65535).default(0),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    resources: z.string().default('cpu_millis,mem_mib,gpu,gpu_milli').transform(csv),
    /** The agent's id: its assignments arrive on `assign(id)`. */
    id: z.string().regex(AGENT_ID, 'agent ids are 1-64 of A-Z a-z 0-9 _ -').default('agent-0'),
    driver: z.enum(['sim', 'exec']).default('sim'),
    /** Nodes hosted (virtual: default 1, the host with exec; --machines: default every machine in the file). */
    nodes: count.optional(),
    /** Ordinal of the first node, so several agents of one cell get disjoint node ids. */
    nodeOffset: count.default(0),
    nodePrefix: z.string().regex(/^[A-Za-z0-9_.:-]{0,100}$/, 'use A-Z a-z 0-9 _ . : -').default('node-'),
    /** Capacity per node; exec defaults to the host's cores and memory. */
    cpuMillis: amount.optional(),
    memMib: amount.optional(),
    gpu: amount.default(0),
    /** A machine file (read with @tessera/workloads) instead of virtual nodes. */
    machines: z.string().min(1).optional(),
    zones: z.string().default('a,b,c,d').transform(csv).pipe(z.array(z.string().regex(/^[A-Za-z0-9_.-]{1,63}$/)).min(1)),
    rackSize: z.coerce.number().int().positive().default(40),
    /** Simulated durations are divided by this. */
    timeScale: z.coerce.number().positive().finite().default(1),
    /** For sim tasks without duration_s; "Infinity" = until the cell says stop. */
    defaultDurationS: z.coerce.number().positive().default(60),
    /**
     * Heartbeat period. cell-state marks a node lost after `--heartbeat-timeout-ms` (10 s) without
     * a heartbeat, so keep this a small fraction of it (≤ 1/5; the launcher uses 1 s against 10 s).
     * A heartbeat request times out after one period and the next one goes out on schedule, so a
     * lost heartbeat costs about two periods of silence, never a whole liveness window.
     */
    heartbeatMs: z.coerce.number().int().min(50).max(600_000).default(2000),
    /** Where exec tasks' output goes (one log file per task under `<dataDir>/logs`). */
    dataDir: z.string().min(1).optional(),
  })
  .strict();

export type AgentConfig = z.output<typeof agentConfigSchema>;
