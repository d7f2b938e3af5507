// The interactive graph page of `chainrule graph --format html`: hover, paths, modes, zoom,
// pan, search, collapsed subtrees. No network: everything is in this file.
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("graph-data").textContent);
  var svg = document.getElementById("graph"), vp = document.getElementById("viewport");
  var tip = document.getElementById("tip"), status = document.getElementById("status");
  var nodes = Array.prototype.slice.call(document.querySelectorAll("g.node"));
  var edges = Array.prototype.slice.call(document.querySelectorAll("line.edge"));
  var n = D.count, users = [], operands = [], hidden = [], mode = "both";
  for (var i = 0; i < nodes.length; i++) { users.push([]); operands.push([]); hidden.push(false); }
  D.edges.forEach(function (e) { users[e[0]].push(e[1]); operands[e[1]].push(e[0]); });

  function fmt(v) { return v === undefined ? "" : typeof v === "number" ? String(+v.toPrecision(6)) : v; }
  function inMode(i) {
    var m = D.nodes[i].mode;  // "f", "d" or "fd": which outputs reach the node
    return mode === "both" || (mode === "formula" ? m.indexOf("f") >= 0 : m.indexOf("d") >= 0);
  }
  function redraw() {
    var shown = 0;
    nodes.forEach(function (g, i) {
      var on = inMode(i) && !hidden[i];
      g.style.display = on ? "" : "none";
      if (on && i < n) shown++;
      var folded = operands[i].some(function (a) { return hidden[a] && inMode(a); });
      g.classList.toggle("folded", folded);
    });
    edges.forEach(function (e) {
      var a = +e.dataset.a, b = +e.dataset.b;
      e.style.display = nodes[a].style.display === "" && nodes[b].style.display === "" ? "" : "none";
    });
    status.textContent = shown + " of " + n + " nodes shown" + (shown < n ? " (double-click a node marked + to unfold it)" : "");
  }

  // Graphs past the cap start collapsed: breadth first from the outputs until the cap.
  if (n > D.cap) {
    hidden = hidden.map(function () { return true; });
    var queue = [], seen = 0;
    for (var k = n; k < nodes.length; k++) { hidden[k] = false; queue.push(k); }
    for (var head = 0; head < queue.length && seen < D.cap; head++) {
      var c = queue[head];
      operands[c].forEach(function (a) { if (hidden[a] && seen < D.cap) { hidden[a] = false; seen++; queue.push(a); } });
    }
  }
  function unfold(i) { operands[i].forEach(function (a) { hidden[a] = false; }); redraw(); }
  function reveal(i) {  // show a node and a path up to an output
    var stack = [i];
    while (stack.length) {
      var c = stack.pop();
      if (!hidden[c]) continue;
      hidden[c] = false;
      if (users[c].length) stack.push(users[c][0]);
    }
  }

  // Hover: the node's subexpression, value and adjoint.
  nodes.forEach(function (g, i) {
    g.addEventListener("mouseenter", function (ev) {
      var d = D.nodes[i] || {};
      var lines = [d.text || g.dataset.label];
      if (d.name) lines.unshift(d.name);
      if (d.value !== undefined) lines.push("value: " + fmt(d.value));
      if (d.adjoint !== undefined) lines.push("adjoint: " + fmt(d.adjoint));
      tip.textContent = lines.join("\n");
      tip.style.display = "block";
      tip.style.left = (ev.clientX + 14) + "px";
      tip.style.top = (ev.clientY + 14) + "px";
    });
    g.addEventListener("mouseleave", function () { tip.style.display = "none"; });
    g.addEventListener("click", function () { if (D.nodes[i] && D.nodes[i].op === "var") highlight(i); });
    g.addEventListener("dblclick", function () { unfold(i); });
  });

  // Click a variable: every path from it to the result.
  function highlight(v) {
    var up = {}, stack = [v];
    while (stack.length) { var c = stack.pop(); if (up[c]) continue; up[c] = true; stack.push.apply(stack, users[c]); }
    var down = {}; stack = [D.result];
    while (stack.length) { var d = stack.pop(); if (down[d]) continue; down[d] = true; stack.push.apply(stack, operands[d]); }
    var on = function (i) { return up[i] && down[i]; };
    nodes.forEach(function (g, i) { g.classList.toggle("path", !!on(i)); });
    var count = 0;
    edges.forEach(function (e) {
      var lit = !!(on(+e.dataset.a) && on(+e.dataset.b));
      e.classList.toggle("path", lit);
      if (lit) count++;
    });
    status.textContent = count + " edges on the paths from " + D.nodes[v].label + " to the result";
  }

  // Modes, search, zoom and pan.
  document.querySelectorAll("input[name=mode]").forEach(function (r) {
    r.addEventListener("change", function () { mode = r.value; redraw(); });
  });
  document.getElementById("unfold-all").addEventListener("click", function () {
    hidden = hidden.map(function () { return false; }); redraw();
  });
  var view = { x: 0, y: 0, s: 1 };
  function place() { vp.setAttribute("transform", "translate(" + view.x + "," + view.y + ") scale(" + view.s + ")"); }
  document.getElementById("search").addEventListener("change", function (ev) {
    var q = ev.target.value.trim(), found = [];
    nodes.forEach(function (g, i) {
      var d = D.nodes[i] || {}, hit = q !== "" && (g.dataset.label === q || d.name === q);
      g.classList.toggle("found", hit);
      if (hit) { found.push(i); reveal(i); }
    });
    redraw();
    status.textContent = found.length + " nodes named " + q;
    if (found.length) {
      var box = nodes[found[0]].getBBox(), t = nodes[found[0]].transform.baseVal.consolidate().matrix;
      var r = svg.getBoundingClientRect();
      view.x = r.width / 2 - (t.e + box.width / 2) * view.s;
      view.y = r.height / 2 - (t.f + box.height / 2) * view.s;
      place();
    }
  });
  svg.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    var r = svg.getBoundingClientRect(), px = ev.clientX - r.left, py = ev.clientY - r.top;
    var f = ev.deltaY < 0 ? 1.2 : 1 / 1.2;
    view.x = px - (px - view.x) * f; view.y = py - (py - view.y) * f; view.s *= f;
    place();
  }, { passive: false });
  var drag = null;
  svg.addEventListener("mousedown", function (ev) { drag = { x: ev.clientX - view.x, y: ev.clientY - view.y }; });
  window.addEventListener("mousemove", function (ev) {
    if (drag) { view.x = ev.clientX - drag.x; view.y = ev.clientY - drag.y; place(); }
  });
  window.addEventListener("mouseup", function () { drag = null; });

  // Fit the graph into the window (sizes from the window: no forced layout).
  redraw();
  var w = window.innerWidth, h = window.innerHeight - 37;
  // Readable at first, centred on the result: a wide graph is panned and zoomed from there.
  view.s = Math.max(0.4, Math.min(1, w / D.width, h / D.height));
  var f = nodes[n].transform.baseVal.consolidate().matrix.e;
  view.x = w / 2 - f * view.s;
  view.y = 10;
  place();
  window.chainrulePage = { ready: performance.now(), highlight: highlight };
})();
