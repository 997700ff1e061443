// meshfed dashboard: periodic fetch of /debug/topology, /debug/traffic and /debug/leader, live events from /events.
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
  } catch (e) {
    $('conn').textContent = 'admin server unreachable';
    $('conn').className = 'pill down';
  }
}

const BAD = /unreachable|error|nack|rejected|failover.started|removed|disconnected/;
function addEvent(ev) {
  const li = document.createElement('li');
  li.className = BAD.test(ev.kind) ? 'bad' : 'good';
  li.innerHTML = `<time>${esc(new Date(ev.at).toLocaleTimeString())}</time><span class="kind">${esc(ev.kind)}</span>${esc(ev.message)}`;
  $('events').prepend(li);
  while ($('events').children.length > 200) $('events').lastChild.remove();
  if (ev.kind.startsWith('cluster.') || ev.kind.startsWith('failover.') || ev.kind.startsWith('service.') || ev.kind.startsWith('leader.')) refresh();
}

function connect() {
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/events`);
  ws.onopen = () => { $('conn').textContent = 'live'; $('conn').className = 'pill live'; };
  ws.onmessage = (m) => addEvent(JSON.parse(m.data));
  ws.onclose = () => { $('conn').textContent = 'reconnecting…'; $('conn').className = 'pill down'; setTimeout(connect, 2000); };
}

refresh();
setInterval(refresh, 2000);
connect();
