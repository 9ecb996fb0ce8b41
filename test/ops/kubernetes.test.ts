/**
 * deploy/kubernetes, offline (no cluster): the base and the example overlay are assembled
 * (kustomize's namespace, images, replicas and JSON-patch steps, done here so no kubectl is needed;
 * where kubectl is installed its `kubectl kustomize` must give the same objects), every object is
 * validated against the Kubernetes / prometheus-operator JSON schemas (kubernetes-models), every
 * tessera container's flags pass that service's own flag schema, and the PrometheusRule carries
 * exactly deploy/prometheus's rules.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { DaemonSet, Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { PrometheusRule, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { cellStateFlags } from '@tessera/cell-state';
import { REPO_ROOT } from '@tessera/launcher';
import { agentConfigSchema } from '@tessera/node-agent';
import { compileConfig } from '@tessera/runtime';
import { schedulerFlags } from '@tessera/scheduler';

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [k: string]: unknown };
const K8S = join(REPO_ROOT, 'deploy/kubernetes');
const MODELS: Record<string, new (o: never) => { validate(): void }> = {
  ConfigMap, Service, StatefulSet, Deployment, DaemonSet, PodDisruptionBudget, ServiceMonitor, PrometheusRule,
} as never;

/** JSON-pointer add/replace (the only JSON 6902 operations the overlays use). */
function jsonPatch(target: Record<string, unknown>, ops: { op: string; path: string; value: unknown }[]): void {
  for (const o of ops) {
    const keys = o.path.split('/').slice(1).map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
    let at = target as Record<string, unknown>;
    for (const k of keys.slice(0, -1)) at = (at[k] ??= {}) as Record<string, unknown>;
    const last = keys[keys.length - 1];
    if (o.op === 'replace' && !(last in at)) throw new Error(`replace of missing ${o.path}`);
    if (o.op !== 'add' && o.op !== 'replace') throw new Error(`unsupported op ${o.op}`);
    at[last] = o.value;
  }
}

/** `kustomize build` for what tessera's kustomizations use: resources, labels, namespace, images, replicas, patches. */
function build(dir: string): Obj[] {
  const k = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as Record<string, never>;
  const objs: Obj[] = [];
  for (const r of k.resources as string[]) {
    const p = join(dir, r);
    if (r.endsWith('.yaml')) objs.push(...parseAllDocuments(readFileSync(p, 'utf8')).map((d) => d.toJS() as Obj).filter((o) => o !== null));
    else objs.push(...build(p));
  }
  for (const l of (k.labels ?? []) as { pairs: Record<string, string> }[]) for (const o of objs) o.metadata.labels = { ...o.metadata.labels, ...l.pairs };
  if (k.namespace !== undefined) for (const o of objs) o.metadata.namespace = k.namespace;
  for (const img of (k.images ?? []) as { name: string; newName?: string; newTag?: string }[]) {
    for (const o of objs) {
      const containers = ((o.spec as { template?: { spec?: { containers?: { image: string }[] } } } | undefined)?.template?.spec?.containers) ?? [];
      for (const c of containers) {
        const [name, tag] = c.image.split(':');
        if (name === img.name) c.image = `${img.newName ?? name}:${img.newTag ?? tag ?? 'latest'}`;
        else if (name === img.newName && img.newTag !== undefined && dir.includes('overlays')) c.image = `${name}:${img.newTag}`;
      }
    }
  }
  for (const r of (k.replicas ?? []) as { name: string; count: number }[]) {
    const o = objs.find((x) => x.metadata.name === r.name && ['StatefulSet', 'Deployment'].includes(x.kind));
    if (o === undefined) throw new Error(`replicas: no ${r.name}`);
    (o.spec as { replicas: number }).replicas = r.count;
  }
  for (const p of (k.patches ?? []) as { target: { kind: string; name: string }; patch: string }[]) {
    const o = objs.find((x) => x.kind === p.target.kind && x.metadata.name === p.target.name);
    if (o === undefined) throw new Error(`patch target ${p.target.kind}/${p.target.name} not found`);
    jsonPatch(o, parse(p.patch) as never);
  }
  return objs;
}

const bases = { base: join(K8S, 'base'), overlay: join(K8S, 'overlays/example') };

function podSpecOf(o: Obj) {
  return (o.spec as { template: { spec: { containers: { name: string; image: string; command?: string[]; args: string[] }[] } } }).template.spec;
}

/** A tessera container's flags with $(VAR) (Kubernetes) / $VAR (shell) taken from the ConfigMap and the pod. */
function serviceArgs(args: string[], command: string[] | undefined, env: Record<string, string>): { entry: string; flags: string[] } {
  const sub = (s: string) => s.replace(/\$\(([A-Z_]+)\)/g, (_, v: string) => env[v] ?? `$(${v})`);
  if (command?.[0] === 'sh') {
    const line = args[0].replace(/"\$\(printf .*?cut -c1-64\)"/, env.AGENT_ID).replace(/"\$([A-Z_]+)"/g, (_, v: string) => env[v]);
    const words = line.split(/\s+/).filter((w) => w !== '');
    const at = words.indexOf('tsx');
    return { entry: words[at + 1], flags: words.slice(at + 2) };
  }
  return { entry: args[0], flags: args.slice(1).map(sub) };
}
const SCHEMAS: Record<string, Parameters<typeof compileConfig>[0]> = {
  'services/cell-state/src/main.ts': cellStateFlags,
  'services/scheduler/src/main.ts': schedulerFlags,
  'services/node-agent/src/main.ts': agentConfigSchema,
};

describe.each(Object.entries(bases))('deploy/kubernetes %s', (which, dir) => {
  const objs = build(dir);

  it('every object passes the Kubernetes / prometheus-operator schema', () => {
    expect(objs.map((o) => o.kind).sort()).toEqual([
      'ConfigMap', 'ConfigMap', 'DaemonSet', 'Deployment', 'PodDisruptionBudget', 'PodDisruptionBudget', 'PodDisruptionBudget', 'PrometheusRule',
      'Service', 'Service', 'Service', 'Service', 'Service', 'ServiceMonitor', 'ServiceMonitor', 'ServiceMonitor', 'StatefulSet', 'StatefulSet',
    ]);
    for (const o of objs) {
      const Model = MODELS[o.kind];
      expect(Model, o.kind).toBeDefined();
      expect(() => new Model(o as never).validate(), `${o.kind}/${o.metadata.name}`).not.toThrow();
    }
    // A broken object is caught (the validation is not vacuous).
    expect(() => new StatefulSet({ ...objs.find((o) => o.kind === 'StatefulSet'), spec: { replicas: 'three' } } as never).validate()).toThrow();
  });

  it('has the DESIGN §14 shape: 3 NATS, cell-state ×2, N schedulers with their index from the ordinal, agents per machine, PDBs', () => {
    const get = (kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name) as Obj & { spec: Record<string, never> };
    const cfg = get('ConfigMap', 'tessera-config').data as unknown as Record<string, string>;
    expect(get('StatefulSet', 'nats').spec.replicas).toBe(3);
    expect(get('Deployment', 'cell-state').spec.replicas).toBe(2);
    const schedulers = get('StatefulSet', 'scheduler').spec.replicas as number;
    expect(schedulers).toBe(which === 'base' ? 3 : 5);
    expect(cfg.TESSERA_SCHEDULERS).toBe(String(schedulers));
    expect(cfg.TESSERA_NATS.split(',')).toHaveLength(3);
    expect(JSON.stringify(get('StatefulSet', 'scheduler'))).toContain("metadata.labels['apps.kubernetes.io/pod-index']");
    for (const name of ['nats', 'cell-state', 'scheduler']) expect(get('PodDisruptionBudget', name)).toBeDefined();
    if (which === 'overlay') {
      for (const o of objs) expect(o.metadata.namespace).toBe('tessera-prod');
      expect(podSpecOf(get('DaemonSet', 'node-agent')).containers[0].image).toBe('registry.example.com/tessera:0.1.0');
    }
  });

  it('every tessera container\'s flags pass its service\'s flag schema; requests and limits are set', () => {
    const cfg = objs.find((o) => o.metadata.name === 'tessera-config')!.data as Record<string, string>;
    const env = { ...cfg, POD_NAME: 'scheduler-0', POD_INDEX: '0', AGENT_ID: 'worker-1' };
    let checked = 0;
    for (const o of objs.filter((x) => ['StatefulSet', 'Deployment', 'DaemonSet'].includes(x.kind))) {
      for (const c of podSpecOf(o).containers) {
        expect((c as { resources?: { requests?: unknown; limits?: unknown } }).resources, `${o.metadata.name} resources`).toMatchObject({ requests: expect.anything(), limits: expect.anything() });
        if (c.image.startsWith('nats:')) continue;
        const { entry, flags } = serviceArgs(c.args, c.command, env);
        expect(SCHEMAS[entry], `${o.metadata.name}: ${entry}`).toBeDefined();
        expect(() => compileConfig(SCHEMAS[entry], flags), `${o.metadata.name} ${flags.join(' ')}`).not.toThrow();
        expect(flags.join(' ')).not.toMatch(/\$\(/);
        checked++;
      }
    }
    expect(checked).toBe(3);
  });

  it('the PrometheusRule carries exactly deploy/prometheus\'s rules and alerts', () => {
    const rule = objs.find((o) => o.kind === 'PrometheusRule') as Obj & { spec: { groups: unknown[] } };
    const files = ['tessera.rules.yml', 'tessera.alerts.yml'].flatMap((f) => (parse(readFileSync(join(REPO_ROOT, 'deploy/prometheus/rules', f), 'utf8')) as { groups: unknown[] }).groups);
    expect(rule.spec.groups).toEqual(files);
  });

  it('kubectl kustomize, where installed, builds the same objects', () => {
    const kubectl = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
    const ids = (list: Obj[]) => list.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort();
    if (kubectl.error !== undefined) {
      // No kubectl on this machine: the assembly above stands alone (it read every file kustomize would).
      expect(ids(objs)).toHaveLength(18);
      return;
    }
    expect(kubectl.status, kubectl.stderr).toBe(0);
    const built = parseAllDocuments(kubectl.stdout).map((d) => d.toJS() as Obj);
    expect(ids(built)).toEqual(ids(objs));
    const images = (list: Obj[]) => list.flatMap((o) => (o.spec as { template?: unknown })?.template ? podSpecOf(o).containers.map((c) => `${o.metadata.name}=${c.image}`) : []).sort();
    expect(images(built)).toEqual(images(objs));
  });
});
