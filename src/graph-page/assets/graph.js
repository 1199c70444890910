/* The graph page: a student's two-hop neighbourhood (cytoscape) and the report's histograms (Chart.js). */
(function () {
  const status = document.getElementById('status');
  const input = document.getElementById('student');
  window.graphStats = { ready: false, nodes: 0, edges: 0, error: null };

  async function getJson(url) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url}: ${response.status}`);
    return response.json();
  }

  /** Blends from pale to deep blue as similarity goes from the lowest to the highest shown. */
  function colour(similarity, low, high) {
    const t = high > low ? Math.min(1, Math.max(0, (similarity - low) / (high - low))) : 1;
    const from = [215, 227, 244];
    const to = [11, 46, 107];
    const c = from.map((f, i) => Math.round(f + (to[i] - f) * t));
    return `rgb(${c[0]},${c[1]},${c[2]})`;
  }

  async function neighbourhood(studentId) {
    const centre = await getJson(`/students/${encodeURIComponent(studentId)}/neighbors`);
    const hops = await Promise.all(centre.neighbors.map((n) => getJson(`/students/${encodeURIComponent(n.studentId)}/neighbors`).catch(() => ({ neighbors: [] }))));
    const nodes = new Map([[studentId, { id: studentId, similarity: 1, hop: 0 }]]);
    const edges = [];
    centre.neighbors.forEach((n, i) => {
      nodes.set(n.studentId, { id: n.studentId, similarity: n.similarity, hop: 1 });
      edges.push({ source: studentId, target: n.studentId, similarity: n.similarity });
      for (const m of hops[i].neighbors.slice(0, 5)) {
        if (!nodes.has(m.studentId)) nodes.set(m.studentId, { id: m.studentId, similarity: null, hop: 2 });
        edges.push({ source: n.studentId, target: m.studentId, similarity: m.similarity });
      }
    });
    return { nodes: [...nodes.values()], edges };
  }

  function drawNetwork({ nodes, edges }) {
    const known = nodes.filter((n) => n.similarity !== null && n.hop === 1).map((n) => n.similarity);
    const low = Math.min(...known, 1);
    const high = Math.max(...known, 0);
    return cytoscape({
      container: document.getElementById('network'),
      elements: [
        ...nodes.map((n) => ({ data: { id: n.id, label: n.id, fill: n.hop === 0 ? '#e4572e' : n.hop === 1 ? colour(n.similarity, low, high) : '#c9ced6', size: n.hop === 0 ? 34 : n.hop === 1 ? 22 : 12 } })),
        ...edges.map((e, i) => ({ data: { id: `e${i}`, source: e.source, target: e.target, weight: Math.max(0.5, e.similarity * 4) } })),
      ],
      style: [
        { selector: 'node', style: { 'background-color': 'data(fill)', width: 'data(size)', height: 'data(size)', label: 'data(label)', 'font-size': 9, color: '#334' } },
        { selector: 'edge', style: { width: 'data(weight)', 'line-color': '#9aa5b5', opacity: 0.6, 'curve-style': 'haystack' } },
      ],
      layout: { name: 'concentric', concentric: (node) => 3 - nodes.find((n) => n.id === node.id()).hop, levelWidth: () => 1, minNodeSpacing: 6, animate: false },
    });
  }

  function drawHistogram(canvasId, bins, label, decimals) {
    return new Chart(document.getElementById(canvasId), {
      type: 'bar',
      data: { labels: bins.map((b) => b.from.toFixed(decimals)), datasets: [{ label, data: bins.map((b) => b.count), backgroundColor: '#2a6fdb' }] },
      options: { animation: false, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } },
    });
  }

  function drawSummary(report) {
    const s = report.students;
    document.getElementById('summary').innerHTML = `<h2>Coverage</h2><dl>
      <dt>students with an embedding</dt><dd>${s.withEmbedding}</dd>
      <dt>with neighbours</dt><dd>${s.withNeighbors} (${(report.coverage * 100).toFixed(1)}%)</dd>
      <dt>fewer than K=${report.settings.k}</dt><dd>${s.fewerThanK}</dd>
      <dt>edges</dt><dd>${report.edges}</dd>
      <dt>largest in-degree</dt><dd>${report.inDegree.max}</dd></dl>`;
  }

  async function show(studentId) {
    window.graphStats.ready = false;
    status.textContent = `loading ${studentId}…`;
    try {
      const [graph, report] = await Promise.all([neighbourhood(studentId), getJson('/graph/report')]);
      drawNetwork(graph);
      drawHistogram('similarity-chart', report.similarity.histogram, 'edges', 2);
      drawHistogram('degree-chart', report.inDegree.histogram, 'students', 0);
      drawSummary(report);
      status.textContent = `${studentId}: ${graph.nodes.length} students, ${graph.edges.length} edges within two hops`;
      Object.assign(window.graphStats, { nodes: graph.nodes.length, edges: graph.edges.length, error: null });
    } catch (error) {
      status.textContent = `cannot show ${studentId}: ${error.message}`;
      window.graphStats.error = error.message;
    }
    window.graphStats.ready = true;
  }

  document.getElementById('pick').addEventListener('submit', (event) => {
    event.preventDefault();
    const url = new URL(window.location.href);
    url.searchParams.set('student', input.value);
    history.replaceState(null, '', url);
    show(input.value);
  });
  const initial = new URL(window.location.href).searchParams.get('student');
  if (initial) {
    input.value = initial;
    show(initial);
  } else {
    status.textContent = 'pick a student';
    window.graphStats.ready = true;
  }
})();
