/**
 * tessera node agent: hosts nodes (virtual ones with the `sim` driver, the real host with
 * `exec`), registers and heartbeats them, runs the tasks assigned to them and reports their ends.
 * Wiring only: decisions live in core/, NATS/timers/processes in shell/.
 */
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { ResourceSpace } from '@tessera/core';
import { subjectsFor } from '@tessera/protocol';
import { compileConfig, ConfigError, connectNats, createLogger, credentialsOfFlag, createRegistry, Lifecycle, startHttp, announceListening } from '@tessera/runtime';
import { agentConfigSchema, type AgentConfig } from './config.ts';
import { machineNodes, restrictCapacity, virtualNodes, type AgentNode } from './core/nodes.ts';
import { NodeAgent } from './shell/agent.ts';
import { ExecDriver, SimDriver, type TaskDriver } from './shell/drivers.ts';
import { loadMachineFile } from './shell/machines.ts';
import { agentMetrics } from './shell/metrics.ts';

function compile(argv: readonly string[]): AgentConfig {
  try {
    return compileConfig(agentConfigSchema, argv);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`node-agent: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
}

async function hostedNodes(cfg: AgentConfig, space: ResourceSpace): Promise<AgentNode[]> {
  const exec = cfg.driver === 'exec';
  const capacity: Record<string, number> = {
    cpu_millis: cfg.cpuMillis ?? (exec ? cpus().length * 1000 : 32_000),
    mem_mib: cfg.memMib ?? (exec ? Math.floor(totalmem() / 1_048_576) : 131_072),
    gpu: cfg.gpu,
  };
  if (cfg.gpu > 0) capacity.gpu_milli = cfg.gpu * 1000;
  const nodes = cfg.machines !== undefined
    ? machineNodes(await loadMachineFile(cfg.machines), { offset: cfg.nodeOffset, count: cfg.nodes, zones: cfg.zones, rackSize: cfg.rackSize })
    : virtualNodes({ count: cfg.nodes ?? 1, offset: cfg.nodeOffset, prefix: cfg.nodePrefix, capacity, zones: cfg.zones, rackSize: cfg.rackSize });
  return nodes.map((n) => ({ ...n, capacity: restrictCapacity(n.capacity, space.names) }));
}

async function main(): Promise<void> {
  const cfg = compile(process.argv.slice(2));
  const log = createLogger('node-agent', cfg.logLevel, { agent: cfg.id, cell: cfg.cell });
  const space = ResourceSpace.of(cfg.resources);
  const subjects = subjectsFor(cfg.cell);
  const nodes = await hostedNodes(cfg, space);
  if (nodes.length === 0) throw new ConfigError('the agent hosts no nodes (check --nodes / --machines)');

  const life = new Lifecycle(log);
  life.exitOnSignals();
  const registry = createRegistry('node-agent', { agent: cfg.id });
  const metrics = agentMetrics(registry);
  const credentials = credentialsOfFlag(cfg.natsAuth);
  const nc = await connectNats(cfg.nats.split(','), `node-agent ${cfg.id}`, log, credentials);
  life.onDrain('nats', () => nc.drain());

  const agent = new NodeAgent({ agentId: cfg.id, nodes, heartbeatMs: cfg.heartbeatMs }, { nc, subjects, log, metrics });
  const driver: TaskDriver = cfg.driver === 'sim'
    ? new SimDriver({ timeScale: cfg.timeScale, defaultDurationS: cfg.defaultDurationS }, agent.onTaskEnd)
    : new ExecDriver({ dataDir: resolve(cfg.dataDir ?? join('.tessera', cfg.cell, 'agents', cfg.id)), log }, agent.onTaskEnd);
  agent.attachDriver(driver);

  const http = await startHttp({ port: cfg.httpPort, registry, health: () => ({ ...agent.health(), state: life.state }) });
  life.onDrain('http', () => http.close());
  await agent.start();
  life.onDrain('agent', () => agent.stop());
  life.to('running');
  announceListening(log, { metrics: `${http.url}/metrics`, nodes: nodes.length, driver: cfg.driver, subject: subjects.assign(cfg.id) });
}

main().catch((e) => {
  process.stderr.write(`node-agent: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
