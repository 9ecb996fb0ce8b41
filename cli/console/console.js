// tessera console: live view of one cell over SSE (/api/events). No framework, no CDN: canvas for
// the 10,000-node heatmap, the staleness matrix and the charts; plain DOM for the tables.
const $ = (id) => document.getElementById(id);
const STATES = ['ready', 'draining', 'lost', 'cordoned', 'drained'];
const STATE_COLOURS = { draining: '#d69e2e', lost: '#c53030', cordoned: '#805ad5', drained: '#4a5568' };
const REASON_COLOURS = ['#2b6cb0', '#c05621', '#2f855a', '#b83280', '#6b46c1', '#718096', '#c53030', '#319795'];
const WINDOW_MS = 5 * 60_000;

const state = { history: [], nodes: undefined, frame: undefined, reasons: [], modes: [], cell: '' };

function text(el, s) { if (el.textContent !== s) el.textContent = s; }
function fmt(n, digits = 1) { return n === undefined || n === null || !Number.isFinite(n) ? '–' : n >= 1000 ? Math.round(n).toLocaleString('en') : n.toFixed(digits); }

// Allocation 0..100 → light to dark blue.
function allocColour(pct) {
  const t = Math.max(0, Math.min(1, pct / 100));
  const from = [230, 240, 250], to = [8, 48, 107];
  const c = from.map((f, i) => Math.round(f + (to[i] - f) * t));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}
function ageColour(s) {
  if (s === null || s === undefined) return '#e2e2e2';
  const t = Math.max(0, Math.min(1, Math.log10(Math.max(s, 0.05) / 0.05) / 2)); // 0.05 s → green, 5 s → red
  const c = t < 0.5 ? [56 + (236 - 56) * t * 2, 161 + (201 - 161) * t * 2, 105 - 105 * t * 2] : [236 - (236 - 197) * (t - 0.5) * 2, 201 - 201 * (t - 0.5) * 2, 0 + 48 * (t - 0.5) * 2];
  return `rgb(${c.map(Math.round).join(',')})`;
}

function sizeCanvas(c, cssHeight) {
  const dpr = window.devicePixelRatio || 1;
  const w = c.clientWidth;
  if (cssHeight !== undefined) c.style.height = `${cssHeight}px`;
  const h = cssHeight ?? c.clientHeight;
  if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) { c.width = Math.round(w * dpr); c.height = Math.round(h * dpr); }
  const ctx = c.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return { ctx, w, h };
}

// ---- nodes heatmap: one block per partition, one cell per node -------------------------------
let heatLayout;
function layoutHeatmap(nodes, width) {
  const counts = new Map();
  for (const p of nodes.partition) counts.set(p, (counts.get(p) ?? 0) + 1);
  const parts = [...counts.keys()].sort((a, b) => a - b);
  const nMax = Math.max(1, ...counts.values());
  const cols = Math.ceil(Math.sqrt(nMax)), rows = Math.ceil(nMax / cols);
  let best;
  for (let s = 14; s >= 2; s--) {
    const gap = Math.max(4, s), bw = cols * s + gap, bh = rows * s + gap + 12;
    const perRow = Math.max(1, Math.floor((width + gap) / bw));
    const height = Math.ceil(parts.length / perRow) * bh;
    best = { s, gap, bw, bh, perRow, height, cols, parts };
    if (height <= 520) break;
  }
  const origin = new Map();
  best.parts.forEach((p, i) => origin.set(p, [(i % best.perRow) * best.bw, Math.floor(i / best.perRow) * best.bh + 12]));
  return { ...best, origin };
}
function drawHeatmap() {
  const nodes = state.nodes;
  const c = $('heatmap');
  if (!nodes) return;
  heatLayout = layoutHeatmap(nodes, c.clientWidth);
  const L = heatLayout;
  const { ctx, w, h } = sizeCanvas(c, Math.max(40, L.height));
  ctx.clearRect(0, 0, w, h);
  ctx.font = '10px system-ui, sans-serif';
  ctx.fillStyle = '#6b6b66';
  for (const p of L.parts) { const [x, y] = L.origin.get(p); ctx.fillText(`p${p}`, x, y - 3); }
  const slot = new Map();
  L.slots = new Array(nodes.ids.length);
  for (let i = 0; i < nodes.ids.length; i++) {
    const p = nodes.partition[i];
    const k = slot.get(p) ?? 0; slot.set(p, k + 1);
    const [ox, oy] = L.origin.get(p);
    const x = ox + (k % L.cols) * L.s, y = oy + Math.floor(k / L.cols) * L.s;
    L.slots[i] = [x, y];
    const st = STATES[nodes.state[i]] ?? 'ready';
    ctx.fillStyle = st === 'ready' ? allocColour(nodes.alloc[i]) : STATE_COLOURS[st];
    ctx.fillRect(x, y, L.s - (L.s > 3 ? 1 : 0), L.s - (L.s > 3 ? 1 : 0));
  }
}
function heatmapTip(ev) {
  const tip = $('heatmap-tip');
  const L = heatLayout, nodes = state.nodes;
  if (!L || !nodes || !L.slots) { tip.hidden = true; return; }
  const r = ev.target.getBoundingClientRect();
  const x = ev.clientX - r.left, y = ev.clientY - r.top;
  for (let i = 0; i < L.slots.length; i++) {
    const [sx, sy] = L.slots[i];
    if (x >= sx && x < sx + L.s && y >= sy && y < sy + L.s) {
      tip.hidden = false;
      tip.textContent = `${nodes.ids[i]} · p${nodes.partition[i]} · ${STATES[nodes.state[i]]} · ${nodes.alloc[i]}% allocated`;
      tip.style.left = `${x + 14}px`; tip.style.top = `${y + 40}px`;
      return;
    }
  }
  tip.hidden = true;
}

// ---- staleness matrix --------------------------------------------------------------------------
function drawStaleness() {
  const f = state.frame;
  const c = $('staleness');
  if (!f) return;
  const rows = f.schedulers;
  const P = Math.max(1, ...rows.map((r) => r.viewAgeS.length));
  const label = 90, rowH = 16;
  const { ctx, w, h } = sizeCanvas(c, Math.max(30, rows.length * rowH + 16));
  ctx.clearRect(0, 0, w, h);
  const cw = Math.max(1, (w - label) / P);
  ctx.font = '10px system-ui, sans-serif';
  rows.forEach((r, i) => {
    ctx.fillStyle = '#1d1d1b';
    ctx.fillText(r.name, 0, i * rowH + 12);
    r.viewAgeS.forEach((age, p) => { ctx.fillStyle = ageColour(age); ctx.fillRect(label + p * cw, i * rowH + 2, Math.max(1, cw - 1), rowH - 3); });
  });
  ctx.fillStyle = '#6b6b66';
  ctx.fillText('partition 0', label, rows.length * rowH + 12);
  ctx.fillText(`${P - 1}`, w - 14, rows.length * rowH + 12);
  const tbody = $('schedulers').tBodies[0];
  tbody.replaceChildren(...rows.map((r) => {
    const tr = document.createElement('tr');
    tr.dataset.scheduler = r.name;
    const ages = r.viewAgeS.filter((a) => a !== null);
    for (const v of [r.name + (r.up ? '' : ' (down)'), r.mode ?? '–', r.effectiveMode ?? '–', ages.length ? `${fmt(Math.max(...ages), 2)} s` : '–']) {
      const td = document.createElement('td'); td.textContent = v; tr.append(td);
    }
    tr.cells[1].className = 'mode';
    return tr;
  }));
}

// ---- time series -------------------------------------------------------------------------------
function drawChart(id, series) {
  const c = $(id);
  const { ctx, w, h } = sizeCanvas(c);
  ctx.clearRect(0, 0, w, h);
  const now = Date.now(), t0 = now - WINDOW_MS;
  let max = 0;
  for (const s of series) for (const [, v] of s.points) if (Number.isFinite(v)) max = Math.max(max, v);
  max = max > 0 ? max * 1.1 : 1;
  const left = 44, bottom = 16;
  ctx.strokeStyle = '#d9d9d4'; ctx.fillStyle = '#6b6b66'; ctx.font = '10px system-ui, sans-serif';
  for (const f of [0, 0.5, 1]) {
    const y = (h - bottom) * (1 - f);
    ctx.beginPath(); ctx.moveTo(left, y + 0.5); ctx.lineTo(w, y + 0.5); ctx.stroke();
    ctx.fillText(fmt(max * f, max < 10 ? 2 : 0), 0, Math.max(10, y + 3));
  }
  ctx.fillText('−5 min', left, h - 3); ctx.fillText('now', w - 22, h - 3);
  for (const s of series) {
    ctx.strokeStyle = s.colour; ctx.lineWidth = 1.5; ctx.beginPath();
    let started = false;
    for (const [t, v] of s.points) {
      if (t < t0 || !Number.isFinite(v)) { started = false; continue; }
      const x = left + ((t - t0) / WINDOW_MS) * (w - left), y = (h - bottom) * (1 - v / max);
      if (started) ctx.lineTo(x, y); else { ctx.moveTo(x, y); started = true; }
    }
    ctx.stroke();
  }
}
function drawCharts() {
  const hist = state.history;
  drawChart('chart-placements', [{ colour: '#2b6cb0', points: hist.map((p) => [p.at, p.placementsPerS]) }]);
  const reasons = [...new Set(hist.flatMap((p) => Object.keys(p.conflictsPerS)))].sort();
  drawChart('chart-conflicts', reasons.map((r, i) => ({ colour: REASON_COLOURS[i % REASON_COLOURS.length], points: hist.map((p) => [p.at, p.conflictsPerS[r] ?? 0]) })));
  if (reasons.join() !== state.reasons.join()) {
    state.reasons = reasons;
    $('conflicts-legend').replaceChildren(...reasons.map((r, i) => { const s = document.createElement('span'); const b = document.createElement('i'); b.style.background = REASON_COLOURS[i % REASON_COLOURS.length]; s.append(b, r); return s; }));
  }
  drawChart('chart-delay', [{ colour: '#c05621', points: hist.map((p) => [p.at, p.delayP99S ?? NaN]) }]);
}

// ---- tables ------------------------------------------------------------------------------------
function row(cells, attrs = {}) {
  const tr = document.createElement('tr');
  Object.assign(tr.dataset, attrs);
  for (const c of cells) { const td = document.createElement('td'); if (c instanceof Node) td.append(c); else td.textContent = c; tr.append(td); }
  return tr;
}
function drawPartitions() {
  const parts = state.nodes?.partitions ?? [];
  $('partitions').tBodies[0].replaceChildren(...parts.map((p) => row([`p${p.id}`, String(p.version), String(p.nodes), String(p.ready),
    Object.entries(p.allocated_ratio).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${(v * 100).toFixed(0)}%`).join(', ') || '0%'], { partition: String(p.id) })));
}
function drawQueues() {
  const qs = state.frame?.queues ?? [];
  $('queues-empty').hidden = qs.length > 0;
  $('queues').tBodies[0].replaceChildren(...qs.map((q) => row([q.queue, Object.entries(q.allocated).map(([k, v]) => `${k} ${fmt(v, 0)}`).join(', '), q.pendingTasks === undefined ? '–' : String(q.pendingTasks)])));
}
function drawLog() {
  const log = state.frame?.log;
  if (!log) return;
  $('log').replaceChildren(...log.map((e) => { const li = document.createElement('li'); li.textContent = `#${e.seq} ${e.at ? new Date(e.at).toISOString().slice(11, 23) : ''} ${e.writer ?? ''}: ${e.records.join('; ')}`; return li; }));
}
function drawFacts() {
  const f = state.frame, n = state.nodes;
  text($('cell'), state.cell);
  if (n) { text($('node-count'), n.ids.length.toLocaleString('en')); text($('partition-count'), String(n.partitions.length)); }
  if (f) text($('leader'), f.leader ?? 'none');
  const last = state.history[state.history.length - 1];
  if (last) { text($('placements-rate'), fmt(last.placementsPerS)); text($('delay-p99'), last.delayP99S === undefined ? '–' : `${fmt(last.delayP99S, 2)} s`); }
}

let jobsQuery = '', jobsTimer;
async function refreshJobs() {
  clearTimeout(jobsTimer);
  try {
    const r = await fetch(`/api/jobs?q=${encodeURIComponent(jobsQuery)}&limit=200`);
    const body = await r.json();
    if (r.ok) {
      text($('jobs-total'), `${body.total.toLocaleString('en')} jobs in the cell`);
      $('jobs').tBodies[0].replaceChildren(...body.rows.map((j) => {
        const st = document.createElement('span'); st.className = `state ${j.state}`; st.textContent = j.state;
        const tasks = `${j.tasks} (${Object.entries(j.taskStates).map(([k, v]) => `${v} ${k}`).join(', ')})`;
        const tr = row([j.id, j.tenant, st, tasks, j.reason ?? '', j.submittedAt ? new Date(j.submittedAt).toISOString().slice(11, 19) : ''], { job: j.id, state: j.state });
        tr.cells[4].className = 'reason';
        return tr;
      }));
    }
  } catch { /* next round */ }
  jobsTimer = setTimeout(refreshJobs, 2000);
}

// ---- mode switch with confirmation --------------------------------------------------------------
function setupMode() {
  const sel = $('mode-select');
  sel.replaceChildren(...state.modes.map((m) => { const o = document.createElement('option'); o.value = o.textContent = m; return o; }));
  const current = state.frame?.schedulers.find((s) => s.mode)?.mode;
  if (current) sel.value = current;
  $('mode-form').onsubmit = (ev) => {
    ev.preventDefault();
    text($('dialog-cell'), state.cell); text($('dialog-mode'), sel.value);
    $('mode-dialog').showModal();
  };
  $('mode-dialog').onclose = async () => {
    if ($('mode-dialog').returnValue !== 'confirm') return;
    const r = await fetch('/api/mode', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mode: sel.value, confirm: true }) });
    const body = await r.json();
    text($('mode-result'), r.ok ? `switched to ${body.mode}${body.acknowledged ? '' : ' (stored; no scheduler answered)'}` : `failed: ${body.error}`);
  };
}

function connect() {
  const es = new EventSource('/api/events');
  es.addEventListener('hello', (ev) => {
    const h = JSON.parse(ev.data);
    state.cell = h.cell; state.modes = h.modes; state.history = h.history;
    if (h.frame) { state.frame = h.frame; state.nodes = h.frame.nodes; }
    setupMode(); redraw(true);
  });
  es.addEventListener('frame', (ev) => {
    const f = JSON.parse(ev.data);
    state.frame = f;
    if (f.rate) { state.history.push(f.rate); if (state.history.length > 600) state.history.shift(); }
    const full = f.nodes !== undefined;
    if (full) state.nodes = f.nodes;
    text($('live'), f.error ? `error: ${f.error}` : `live · ${new Date(f.at).toISOString().slice(11, 19)}`);
    redraw(full);
  });
  es.onerror = () => text($('live'), 'reconnecting…');
}

function redraw(full) {
  drawFacts(); drawCharts(); drawStaleness(); drawQueues();
  if (full) { drawHeatmap(); drawPartitions(); drawLog(); }
}

function drawHeatmapLegend() {
  const items = [['0 %', allocColour(0)], ['50 %', allocColour(50)], ['100 %', allocColour(100)], ...Object.entries(STATE_COLOURS)];
  $('heatmap-legend').replaceChildren(...items.map(([label, colour]) => { const s = document.createElement('span'); const b = document.createElement('i'); b.style.background = colour; s.append(b, label); return s; }));
}

drawHeatmapLegend();
$('heatmap').addEventListener('mousemove', heatmapTip);
$('heatmap').addEventListener('mouseleave', () => { $('heatmap-tip').hidden = true; });
$('job-search').addEventListener('input', (ev) => { jobsQuery = ev.target.value.trim(); clearTimeout(jobsTimer); jobsTimer = setTimeout(refreshJobs, 250); });
window.addEventListener('resize', () => redraw(true));
connect();
refreshJobs();
