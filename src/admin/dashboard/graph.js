// The mesh graph: cytoscape with the fcose compound layout (regions ⊃ clusters ⊃ services/workloads, gateways at a
// region's edge). The admin server builds the model (src/admin/graphModel.ts); this file only draws it.
/* global cytoscape, cytoscapeFcose */
cytoscape.use(cytoscapeFcose);

const STATE_COLOR = { connected: '#1a7f37', syncing: '#b26b00', unreachable: '#c62828', error: '#c62828', stale: '#8a8f98', ejected: '#d9480f', unready: '#b26b00', failover: '#c62828', idle: '#8a8f98' };
const HEALTH_COLOR = { healthy: '#2f9e44', degraded: '#e8a100', failing: '#d62828' };

export const fmtRate = (r) => (r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2));
export const edgeLabel = (e) => `${fmtRate(e.rps)} rps · ${(e.errorShare * 100).toFixed(1)}% 5xx${e.p99Ms !== undefined ? ` · p99 ${e.p99Ms >= 10 ? Math.round(e.p99Ms) : e.p99Ms.toFixed(1)} ms` : ''}`;
const edgeWidth = (rps) => Math.min(14, 1.5 + 2.2 * Math.log2(1 + rps));

function nodeLabel(n) {
  const bad = n.state !== 'connected' && n.state !== 'idle';
  if (n.kind === 'region') return n.label;
  if (n.kind === 'cluster') return `${n.label}${bad ? ` · ${n.state.toUpperCase()}` : ''}`;
  const rate = n.rates && n.rates.rps > 0 ? `\n${fmtRate(n.rates.rps)} rps in` : '';
  return `${n.label}${bad ? `\n${n.state.toUpperCase()}` : ''}${rate}`;
}

const STYLE = [
  { selector: 'node', style: { label: 'data(display)', 'font-size': 19, 'text-wrap': 'wrap', 'text-valign': 'bottom', 'text-margin-y': 4, color: '#1d2330', 'border-width': 2, 'border-color': 'data(stateColor)', 'background-color': '#fff', width: 34, height: 34 } },
  { selector: 'node[kind="region"]', style: { shape: 'round-rectangle', 'background-color': '#eef2f8', 'background-opacity': 1, 'border-color': '#9aa5b8', 'border-width': 2, 'text-valign': 'top', 'text-halign': 'center', 'text-margin-y': -4, 'font-size': 24, 'font-weight': 'bold', padding: 22 } },
  { selector: 'node[kind="region"][state="failover"]', style: { 'background-color': '#fff0f0', 'border-color': '#c62828', 'border-style': 'dashed', 'border-width': 3, color: '#c62828' } },
  { selector: 'node[kind="cluster"]', style: { shape: 'round-rectangle', 'background-color': '#fbfcfe', 'text-valign': 'top', 'text-margin-y': -3, 'font-size': 20, padding: 12, 'border-width': 2 } },
  { selector: 'node[kind="cluster"][state="unreachable"], node[kind="cluster"][state="error"]', style: { 'background-color': '#fdecec', 'border-style': 'dashed', color: '#c62828' } },
  { selector: 'node[kind="gateway"]', style: { shape: 'diamond', width: 46, height: 46, 'background-color': '#264b8c', 'border-width': 4, color: '#264b8c', 'font-weight': 'bold' } },
  { selector: 'node[kind="gateway"][state!="connected"]', style: { 'background-color': '#f3b4b4' } },
  { selector: 'node[kind="service"]', style: { shape: 'triangle', width: 36, height: 32, 'background-color': '#dff3e4' } },
  { selector: 'node[kind="workload"]', style: { shape: 'ellipse', 'background-color': '#e8eefc' } },
  { selector: 'node[state="stale"]', style: { 'border-style': 'dashed', opacity: 0.75 } },
  { selector: 'node[kind="service"][state="stale"], node[kind="workload"][state="stale"]', style: { 'background-color': '#eceef2' } },
  { selector: 'node[state="ejected"]', style: { 'border-width': 4, 'background-color': '#ffe3d3' } },
  { selector: 'node[state="unready"]', style: { 'background-color': '#fff1d6' } },
  { selector: 'edge', style: { width: 'data(width)', 'line-color': 'data(color)', 'target-arrow-color': 'data(color)', 'target-arrow-shape': 'triangle', 'arrow-scale': 0.9, 'curve-style': 'bezier', label: 'data(display)', 'font-size': 17, 'text-rotation': 'autorotate', 'text-background-color': '#fff', 'text-background-opacity': 0.85, 'text-background-padding': 2, color: '#1d2330' } },
  { selector: 'edge[kind="serves"]', style: { width: 1.5, 'line-color': '#b8c0cc', 'line-style': 'dotted', 'target-arrow-shape': 'none', label: '' } },
  { selector: ':selected, .focused', style: { 'overlay-color': '#3b82f6', 'overlay-opacity': 0.18, 'overlay-padding': 6 } },
];

function elementsOf(model) {
  const nodes = model.nodes.map((n) => ({ group: 'nodes', data: { ...n, rates: undefined, rps: n.rates?.rps ?? 0, display: nodeLabel(n), stateColor: STATE_COLOR[n.state] ?? '#8a8f98' } }));
  const edges = model.edges.map((e) => ({ group: 'edges', data: { ...e, display: e.kind === 'traffic' ? edgeLabel(e) : '', width: edgeWidth(e.rps), color: HEALTH_COLOR[e.health] } }));
  return [...nodes, ...edges];
}

/** Regions left to right by name; a region's gateways at the edge that faces its neighbour. */
function placement(model) {
  const regions = [...new Set(model.nodes.filter((n) => n.kind === 'region').map((n) => n.region))].sort();
  const leaves = (r) => model.nodes.filter((n) => n.region === r && (n.kind === 'service' || n.kind === 'workload' || n.kind === 'gateway'));
  if (model.nodes.length > 80 || regions.length < 2) return {};
  const rel = [];
  regions.forEach((r, i) => {
    const gws = leaves(r).filter((n) => n.kind === 'gateway');
    const inner = leaves(r).filter((n) => n.kind !== 'gateway');
    const right = i < regions.length - 1; // gateways face the next region, the last region's face the previous one
    for (const g of gws) for (const n of inner) rel.push(right ? { left: n.id, right: g.id, gap: 60 } : { left: g.id, right: n.id, gap: 60 });
    if (i > 0) for (const a of leaves(regions[i - 1])) for (const b of leaves(r)) rel.push({ left: a.id, right: b.id, gap: 90 });
  });
  // inside a cluster, left to right: caller → service → its workloads
  const cluster = new Map(model.nodes.map((n) => [n.id, n.cluster]));
  for (const e of model.edges) {
    const a = model.nodes.find((n) => n.id === e.source);
    if (a?.kind !== 'gateway' && cluster.get(e.source) !== undefined && cluster.get(e.source) === cluster.get(e.target)) rel.push({ left: e.source, right: e.target, gap: 50 });
  }
  // gateways on one line: cross-region edges run level between the regions
  const gws = model.nodes.filter((n) => n.kind === 'gateway').map((n) => n.id);
  return { relativePlacementConstraint: rel, ...(gws.length > 1 ? { alignmentConstraint: { horizontal: [gws] } } : {}) };
}

export function createGraph(container, { onHover, onSelect }) {
  const cy = cytoscape({ container, style: STYLE, elements: [], minZoom: 0.2, maxZoom: 3, boxSelectionEnabled: false, autoungrabify: false });
  let nodeKey = '';
  let focusIndex = -1;

  function layout(model) {
    const base = { name: 'fcose', quality: 'proof', animate: false, randomize: true, nodeDimensionsIncludeLabels: true, packComponents: false, nodeRepulsion: 4500, idealEdgeLength: 45, nestingFactor: 0.1, gravity: 0.4, gravityCompound: 1.5, gravityRangeCompound: 1.5, tile: true, fit: true, padding: 24 };
    try {
      cy.layout({ ...base, ...placement(model) }).run();
    } catch (e) {
      console.warn('graph layout constraints failed, laying out without them', e);
      cy.layout(base).run();
    }
  }

  function update(model) {
    const els = elementsOf(model);
    const ids = new Set(els.map((x) => x.data.id));
    const key = model.nodes.map((n) => `${n.id}<${n.parent ?? ''}`).sort().join('|');
    cy.batch(() => {
      cy.elements().forEach((el) => { if (!ids.has(el.id())) el.remove(); });
      for (const x of els) {
        const el = cy.getElementById(x.data.id);
        if (el.nonempty()) el.data(x.data);
        else cy.add(x);
      }
    });
    if (key !== nodeKey) { nodeKey = key; layout(model); }
  }

  // keyboard order: every node (regions, clusters, gateways, services, workloads by id), then the traffic edges
  const order = () => cy.elements().filter((el) => !el.isEdge() || el.data('kind') === 'traffic').sort((a, b) => (a.isEdge() - b.isEdge()) || a.id().localeCompare(b.id()));
  function focusOn(el, pin) {
    cy.elements().removeClass('focused');
    if (!el || el.empty()) { cy.elements().unselect(); onSelect(undefined); return; }
    el.addClass('focused');
    if (pin) { cy.elements().unselect(); el.select(); onSelect(el.id()); } else onHover(el.id());
  }
  cy.on('mouseover', 'node, edge', (ev) => { if (!ev.target.isParent?.() || ev.target.isEdge()) onHover(ev.target.id()); });
  cy.on('mouseout', 'node, edge', () => onHover(undefined));
  cy.on('tap', 'node, edge', (ev) => onSelect(ev.target.id()));
  cy.on('tap', (ev) => { if (ev.target === cy) onSelect(undefined); });
  container.addEventListener('keydown', (ev) => {
    const els = order();
    if (els.length === 0) return;
    if (ev.key === 'ArrowRight' || ev.key === 'ArrowDown') focusIndex = (focusIndex + 1) % els.length;
    else if (ev.key === 'ArrowLeft' || ev.key === 'ArrowUp') focusIndex = (focusIndex - 1 + els.length) % els.length;
    else if (ev.key === 'Escape') { focusIndex = -1; focusOn(undefined); ev.preventDefault(); return; }
    else return;
    ev.preventDefault();
    focusOn(els[focusIndex], true);
  });

  function select(ids) {
    cy.elements().unselect().removeClass('focused');
    for (const id of ids) cy.getElementById(id).select();
  }
  return { cy, update, select, resize: () => cy.resize() };
}
