// The status page: polls /status (skeleton_status) and /health/ready every 2 s and draws the chain to scale.
// Everything comes from this node; no library, no CDN.
'use strict';

const PollMs = 2000;
let previous = null; // { at, head } of the last load, for the backfill rate

const num = (q) => (q === null || q === undefined ? null : typeof q === 'number' ? q : parseInt(q, 16));
const fmt = (n) => (n === null || n === undefined || Number.isNaN(n) ? '–' : n.toLocaleString('en-US'));
const $ = (id) => document.getElementById(id);

function text(id, value) { $(id).textContent = value; }

function duration(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function el(name, attrs, content) {
  const svg = ['rect', 'line', 'text', 'g', 'title'].includes(name);
  const node = svg ? document.createElementNS('http://www.w3.org/2000/svg', name) : document.createElement(name);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (content !== undefined) node.textContent = content;
  return node;
}

function drawChain(s, anchor, head) {
  const svg = $('chain');
  svg.replaceChildren();
  const subchains = (s.subchains || []).map((c) => ({ head: num(c.head), tail: num(c.tail), next: c.next }));
  const announced = num(s.announcedNumber);
  const finalized = num(s.finalized);
  const top = Math.max(head, announced || 0, ...subchains.map((c) => c.head), anchor + 1);
  const bottom = anchor;
  const x = (n) => 10 + ((n - bottom) / Math.max(1, top - bottom)) * 980;
  // The local chain: anchor → backfill front (the canonical head).
  const chain = el('rect', { class: 'bar-chain', x: x(anchor), y: 30, width: Math.max(2, x(head) - x(anchor)), height: 24, 'data-from': anchor, 'data-to': head });
  chain.appendChild(el('title', {}, `local chain #${anchor} → #${head}`));
  svg.appendChild(chain);
  // Subchains, newest first: tail → head, one row each.
  subchains.forEach((c, i) => {
    const bar = el('rect', { class: 'bar-subchain', x: x(c.tail), y: 62 + i * 14, width: Math.max(2, x(c.head) - x(c.tail)), height: 10, 'data-head': c.head, 'data-tail': c.tail });
    bar.appendChild(el('title', {}, `subchain #${c.tail} → #${c.head}, next ${c.next}`));
    svg.appendChild(bar);
  });
  const markers = [
    ['anchor', anchor],
    ['backfill front', head],
    ['finalized', finalized],
    ['announced head', announced],
  ];
  if (subchains.length > 0 && subchains[0].tail > 0) markers.push(['next', subchains[0].tail - 1]);
  markers.filter(([, n]) => n !== null && n !== undefined).forEach(([name, n], i) => {
    const g = el('g', { class: 'marker-group', 'data-name': name, 'data-number': n });
    g.appendChild(el('line', { class: 'marker', x1: x(n), x2: x(n), y1: 24, y2: 120 }));
    // Labels right of their marker, or left of it near the right edge, two rows so neighbours do not overlap.
    const right = x(n) > 700;
    g.appendChild(el('text', { class: 'marker-label', x: right ? x(n) - 3 : x(n) + 3, y: 12 + (i % 2) * 10, 'text-anchor': right ? 'end' : 'start' }, `${name} #${fmt(n)}`));
    svg.appendChild(g);
  });
  svg.appendChild(el('text', { class: 'axis', x: 10, y: 145 }, `#${fmt(bottom)}`));
  svg.appendChild(el('text', { class: 'axis', x: 930, y: 145 }, `#${fmt(top)}`));
}

function drawPeers(s) {
  const rows = (s.peers || []).map((p) => {
    const tr = el('tr', { class: p.dropped ? 'peer-row dropped' : 'peer-row', 'data-id': p.id });
    [p.id, p.transport, fmt(p.servedHeaders), fmt(p.servedBodies), p.rttMs === null ? '–' : `${p.rttMs} ms`, p.dropped ? 'dropped' : 'live', p.dropReason || '']
      .forEach((v) => tr.appendChild(el('td', {}, String(v))));
    return tr;
  });
  if (rows.length === 0) rows.push(el('tr', { class: 'no-peers' }, '')), rows[0].appendChild(el('td', { colspan: 7, class: 'muted' }, 'no peers'));
  $('peers').replaceChildren(...rows);
}

function drawDiagnostics(s) {
  const items = (s.diagnostics || []).map((d) => {
    const li = el('li', { class: 'diagnostic', 'data-code': d.code });
    li.appendChild(el('code', {}, d.code));
    li.appendChild(document.createTextNode(`${d.message} (since ${d.since})`));
    return li;
  });
  if (items.length === 0) items.push(el('li', { class: 'muted' }, 'nothing to act on'));
  $('diagnostics').replaceChildren(...items);
}

async function load() {
  try {
    const [s, ready] = await Promise.all([
      fetch('/status', { cache: 'no-store' }).then((r) => r.json()),
      fetch('/health/ready', { cache: 'no-store' }).then((r) => r.json()),
    ]);
    const head = num(s.chain.headNumber);
    const anchor = num(s.chain.anchorNumber) ?? 0;
    const now = performance.now();
    const backfillRate = previous && now > previous.at ? Math.max(0, (head - previous.head) / ((now - previous.at) / 1000)) : 0;
    previous = { at: now, head };
    const subchains = s.subchains || [];
    const newest = subchains.length > 0 ? { head: num(subchains[0].head), tail: num(subchains[0].tail) } : null;
    const headersLeft = newest && !s.linked ? Math.max(0, newest.tail - head - 1) : 0;
    const backfillLeft = newest ? Math.max(0, newest.head - head) : 0;
    const hps = s.headersPerSecond || 0;
    const eta = (hps > 0 ? headersLeft / hps : headersLeft > 0 ? Infinity : 0) + (backfillRate > 0 ? backfillLeft / backfillRate : backfillLeft > 0 ? Infinity : 0);

    text('state', s.state);
    $('ready').textContent = ready.status === 'Healthy' ? 'ready' : 'not ready';
    $('ready').className = ready.status === 'Healthy' ? 'badge ok' : 'badge bad';
    $('ready').title = Object.entries(ready.checks || {}).map(([k, v]) => `${k}: ${v.description}`).join('\n');
    text('chain-head', fmt(head));
    text('announced', s.announcedNumber ? fmt(num(s.announcedNumber)) : s.announcedHead || '–');
    text('finalized', fmt(num(s.finalized)));
    text('anchor', fmt(anchor));
    text('linked', s.linked ? 'yes' : 'no');
    text('downloaded', fmt(num(s.downloaded)));
    text('header-rate', `${fmt(Math.round(hps))} headers/s`);
    text('backfill-rate', `${fmt(Math.round(backfillRate))} blocks/s`);
    text('headers-left', fmt(headersLeft));
    text('backfill-left', fmt(backfillLeft));
    text('eta', headersLeft + backfillLeft === 0 ? 'in sync' : duration(eta));
    drawChain(s, anchor, head);
    drawPeers(s);
    drawDiagnostics(s);
    document.body.dataset.loads = String(Number(document.body.dataset.loads) + 1);
    text('updated', `updated ${new Date().toLocaleTimeString()}`);
  } catch (e) {
    text('updated', `cannot reach the node: ${e}`);
  }
}

load();
setInterval(load, PollMs);
