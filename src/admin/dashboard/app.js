// meshfed dashboard: the mesh graph from the /feed WebSocket (a graph model every second), live events from
// /events, the tables (text version) from /debug/topology and /debug/traffic, the leader from /debug/leader.
import { createGraph, edgeLabel, fmtRate } from './graph.js';

const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

function renderTopology(topo) {
  $('version').textContent = `snapshot v${topo.version}`;
  $('topology').innerHTML = topo.regions.length === 0 ? '<p class="muted">No member clusters registered.</p>' : topo.regions.map((r) => {
    const down = r.clusters.length > 0 && r.clusters.every((c) => c.state === 'unreachable' || c.state === 'error');
    return `<div class="region${down ? ' down' : ''}" data-region="${esc(r.name)}">
      <h3><span>Region ${esc(r.name)}</span>${down ? '<span class="pill down">REGION DOWN</span>' : ''}</h3>
      ${r.clusters.map((c) => `<div class="cluster ${esc(c.state)}" data-cluster="${esc(c.name)}">
        <h4><span>${esc(c.name)} <span class="muted">(${esc(c.network)})</span></span><span class="pill state-${esc(c.state)}">${esc(c.state)}</span></h4>
        ${c.reason ? `<div class="reason">${esc(c.reason)}</div>` : ''}
        ${c.serviceCounts.length ? `<table><tr><th>service</th><th>endpoints</th><th>ready</th><th>stale</th></tr>
          ${c.serviceCounts.map((s) => `<tr><td>${esc(s.key)}</td><td>${s.endpoints}</td><td>${s.ready}</td><td>${s.stale}</td></tr>`).join('')}</table>` : '<div class="muted">no services</div>'}
      </div>`).join('')}
      <div class="gateways"><strong>East-west gateways:</strong> ${r.gateways.length === 0 ? '<span class="muted">none</span>' : r.gateways.map((g) =>
        `<span data-gateway="${esc(g.address)}">${esc(g.address)}:${g.port} <span class="pill state-${esc(g.state)}">${esc(g.state)}</span></span>`).join(' ')}</div>
    </div>`;
  }).join('');
}

let lastTraffic;
function renderTraffic(t) {
  if (!t.available) {
    $('traffic').innerHTML = `<p class="muted">Request rates not available: ${esc(t.reason)}.</p>`;
    lastTraffic = undefined;
    return;
  }
  const prev = lastTraffic;
  lastTraffic = t;
  const secs = prev ? (Date.parse(t.at) - Date.parse(prev.at)) / 1000 : 0;
  $('traffic').innerHTML = `<table><tr><th>from → to</th><th>requests</th><th>req/s</th></tr>${Object.entries(t.byRegion).map(([k, v]) => {
    const rate = prev && secs > 0 && prev.byRegion[k] !== undefined ? ((v - prev.byRegion[k]) / secs).toFixed(1) : '…';
    return `<tr><td>${esc(k.replace('->', ' → '))}</td><td>${v}</td><td>${rate}</td></tr>`;
  }).join('')}</table>`;
}

// which control-plane replica leads (writes to clusters), and whether it is the one serving this page
function renderLeader(l) {
  const el = $('leader');
  el.style.display = l && l.identity ? '' : 'none';
  if (!l || !l.identity) return;
  el.textContent = l.leading ? `leader: ${l.identity} (this replica)` : `replica ${l.identity}, following ${l.leader || '(no leader)'}`;
  el.className = `pill ${l.leading ? 'live' : l.leader ? '' : 'down'}`;
}

async function refresh() {
  try {
    const [topo, traffic, leader] = await Promise.all([fetch('/debug/topology').then((r) => r.json()), fetch('/debug/traffic').then((r) => r.json()),
      fetch('/debug/leader').then((r) => (r.ok ? r.json() : undefined)).catch(() => undefined)]);
    renderTopology(topo);
    renderTraffic(traffic);
    renderLeader(leader);
  } catch {
    setConn();
  }
}

const BAD = /unreachable|error|nack|rejected|denied|failover.started|removed|disconnected/;
function addEvent(ev) {
  const li = document.createElement('li');
  li.className = BAD.test(ev.kind) ? 'bad' : 'good';
  li.innerHTML = `<time>${esc(new Date(ev.at).toLocaleTimeString())}</time><span class="kind">${esc(ev.kind)}</span>${esc(ev.message)}`;
  $('events').prepend(li);
  while ($('events').children.length > 200) $('events').lastChild.remove();
  if (ev.kind.startsWith('cluster.') || ev.kind.startsWith('failover.') || ev.kind.startsWith('service.') || ev.kind.startsWith('leader.')) refresh();
}

// ---- connection state: both streams up = live; either down = disconnected (and both reconnect) ----
const up = { events: false, feed: false };
function setConn() {
  const live = up.events && up.feed;
  $('conn').textContent = live ? 'live' : 'disconnected — reconnecting…';
  $('conn').className = `pill ${live ? 'live' : 'down'}`;
  document.body.classList.toggle('offline', !live);
}
function stream(path, name, onMessage) {
  let delay = 500;
  const open = () => {
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`);
    ws.onopen = () => { up[name] = true; delay = 500; setConn(); if (name === 'events') { $('events').innerHTML = ''; refresh(); } };
    ws.onmessage = (m) => onMessage(JSON.parse(m.data));
    ws.onclose = () => { up[name] = false; setConn(); setTimeout(open, delay); delay = Math.min(delay * 2, 4000); };
  };
  open();
}

// ---- the graph, its side panel and its text version ----
let model;
let pinned; // ids of the selected elements (a deep link to a service selects it in every cluster)
let hovered;
const graph = createGraph($('graph'), {
  onHover: (id) => { hovered = id; renderSide(); },
  onSelect: (id) => { pinned = id ? [id] : undefined; setHash(id); renderSide(); },
});

function setHash(id) {
  const el = id && byId(id);
  const h = !el ? '' : el.service && el.kind === 'service' ? `#service=${el.service}` : `#${el.source ? 'edge' : 'node'}=${id}`;
  history.replaceState(null, '', h || location.pathname);
}
function fromHash() {
  const m = /^#(service|node|edge)=(.+)$/.exec(decodeURIComponent(location.hash));
  if (!m || !model) return;
  pinned = m[1] === 'service' ? model.nodes.filter((n) => n.service === m[2] && n.kind === 'service').map((n) => n.id) : [m[2]];
  graph.select(pinned);
  renderSide();
}
window.addEventListener('hashchange', fromHash);

const byId = (id) => model && (model.nodes.find((n) => n.id === id) ?? model.edges.find((e) => e.id === id));
const nameOf = (id) => { const n = model.nodes.find((x) => x.id === id); return n ? `${n.label}${n.cluster && n.kind !== 'cluster' ? ` (${n.cluster})` : ''}` : id; };

function sparkline(points) {
  if (points.length < 2) return '<div class="muted">collecting… (a point per second, 5 minutes kept)</div>';
  const W = 260; const H = 56;
  const t0 = points[0].at; const t1 = points[points.length - 1].at;
  const max = Math.max(0.1, ...points.map((p) => p.rps));
  const xy = (p, v) => `${(((p.at - t0) / Math.max(1, t1 - t0)) * W).toFixed(1)},${(H - (v / max) * (H - 4) - 2).toFixed(1)}`;
  const line = (f) => points.map((p) => xy(p, f(p))).join(' ');
  return `<svg class="spark" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="requests per second, last ${Math.round((t1 - t0) / 1000)} s, up to ${fmtRate(max)}">
    <polyline points="${line((p) => p.rps)}" class="rps"/><polyline points="${line((p) => p.errorRps)}" class="err"/></svg>
    <div class="spark-legend"><span class="rps">req/s</span> max ${fmtRate(max)} · <span class="err">5xx/s</span> · last ${Math.round((t1 - t0) / 1000)} s</div>`;
}

const seriesCache = new Map();
async function loadSeries(id) {
  try {
    const r = await fetch(`/debug/series?id=${encodeURIComponent(id)}`);
    seriesCache.set(id, (await r.json()).points);
  } catch { /* shown as collecting */ }
}

function sideEntry(id) {
  const x = byId(id);
  if (!x) return `<p class="muted">${esc(id)} is not in the graph now.</p>`;
  const pts = seriesCache.get(id);
  if (x.source) {
    return `<div class="side-item"><h4>${esc(nameOf(x.source))} → ${esc(nameOf(x.target))}</h4>
      ${x.via ? `<div class="muted">crosses networks through ${esc(nameOf(x.via))}</div>` : ''}
      <div class="figures"><span class="pill health-${x.health}">${esc(x.health)}</span> ${esc(edgeLabel(x))}</div>
      ${sparkline(pts ?? [])}</div>`;
  }
  return `<div class="side-item"><h4>${esc(x.kind)} ${esc(x.label)}</h4>
    <div><span class="pill state-${esc(x.state)}">${esc(x.state)}</span></div>
    <div class="detail">${esc(x.detail)}</div>
    ${x.kind === 'service' ? sparkline(pts ?? []) : ''}</div>`;
}
function renderSide() {
  const ids = hovered && !(pinned ?? []).includes(hovered) ? [hovered] : pinned ?? [];
  $('side-title').textContent = ids.length === 0 ? 'Details' : pinned && ids === pinned ? 'Selected' : 'Hovered';
  $('graph-focus').hidden = ids.length > 0;
  $('side-body').innerHTML = ids.map(sideEntry).join('');
  for (const id of ids) if (!seriesCache.has(id)) loadSeries(id).then(() => { if ([hovered, ...(pinned ?? [])].includes(id)) $('side-body').innerHTML = ids.map(sideEntry).join(''); });
}
setInterval(() => { for (const id of new Set([hovered, ...(pinned ?? [])].filter(Boolean))) loadSeries(id); }, 1000);

function renderText(m) {
  const traffic = m.edges.filter((e) => e.kind === 'traffic');
  const rows = traffic.map((e) => `<tr data-edge="${esc(e.id)}" data-health="${esc(e.health)}"><td><button class="link" data-select="${esc(e.id)}">${esc(nameOf(e.source))} → ${esc(nameOf(e.target))}</button></td>
    <td>${e.via ? esc(nameOf(e.via)) : ''}</td><td class="num rps">${fmtRate(e.rps)}</td><td class="num">${(e.errorShare * 100).toFixed(1)}%</td><td class="num">${e.p99Ms !== undefined ? Math.round(e.p99Ms) + ' ms' : '–'}</td><td><span class="pill health-${esc(e.health)}">${esc(e.health)}</span></td></tr>`).join('');
  const nodes = m.nodes.filter((n) => n.kind !== 'region').map((n) => `<li data-node="${esc(n.id)}" data-kind="${esc(n.kind)}" data-state="${esc(n.state)}"><button class="link" data-select="${esc(n.id)}">${esc(n.kind)} ${esc(nameOf(n.id))}</button> <span class="pill state-${esc(n.state)}">${esc(n.state)}</span></li>`).join('');
  $('edges-table').innerHTML = `${traffic.length === 0 ? `<p class="muted">No traffic in the last ${m.windowSeconds.toFixed(0)} s${m.metrics?.available === false ? ` (request rates not available: ${esc(m.metrics.reason)})` : ''}.</p>`
    : `<table><tr><th>from → to</th><th>through</th><th>req/s</th><th>5xx</th><th>p99</th><th>health</th></tr>${rows}</table>`}
    <h3 class="sub">Nodes</h3><ul class="nodes">${nodes}</ul>`;
}
$('edges-table').addEventListener('click', (ev) => {
  const id = ev.target.closest('[data-select]')?.dataset.select;
  if (!id) return;
  pinned = [id]; graph.select(pinned); setHash(id); renderSide();
});

function onGraph(g) {
  const first = !model;
  model = g;
  window.meshGraph = { model: g, cy: graph.cy };
  graph.update(g);
  renderText(g);
  $('version').textContent = `snapshot v${g.version}`;
  $('metrics-state').textContent = g.metrics?.available ? `${g.metrics.targets} prox${g.metrics.targets === 1 ? 'y' : 'ies'} scraped every ${(g.metrics.periodMs / 1000).toFixed(g.metrics.periodMs < 1000 ? 1 : 0)} s${g.metrics.errors ? `, ${g.metrics.errors} not answering` : ''}` : `rates not available: ${g.metrics?.reason ?? ''}`;
  const fo = g.failover.map((f) => `${f.region} down${f.to ? ` → traffic fails over to ${f.to}` : ''}`).join('; ');
  $('failover-banner').hidden = fo === '';
  $('failover-banner').textContent = fo;
  if (first) fromHash();
  else if (pinned) graph.select(pinned.filter((id) => byId(id)));
  renderSide();
  document.body.dataset.graphAt = g.at;
}

window.addEventListener('resize', () => graph.resize());
refresh();
setInterval(refresh, 5000); // the tables; the graph above is the live view (and events refresh them at once)
stream('/events', 'events', addEvent);
stream('/feed', 'feed', (m) => { if (m.type === 'graph') onGraph(m.graph); });
