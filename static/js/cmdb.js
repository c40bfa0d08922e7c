/* CMDB pages: the CI neighbourhood graph (cytoscape, served locally). No inline script: CSP forbids it. */
(function () {
  "use strict";

  var CLASS_COLOURS = {
    business_service: "#d63939",
    application: "#206bc4",
    database: "#ae3ec9",
    server: "#2fb344",
    virtual_machine: "#4299e1",
    network_device: "#f76707",
    storage: "#74b816"
  };

  function render(container, hops) {
    var url = container.getAttribute("data-graph-url") + "?hops=" + encodeURIComponent(hops);
    container.setAttribute("aria-busy", "true");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) {
        if (container._cy) { container._cy.destroy(); }
        var cy = window.cytoscape({
          container: container,
          elements: data.nodes.concat(data.edges),
          wheelSensitivity: 0.3,
          style: [
            {
              selector: "node",
              style: {
                label: "data(label)",
                "font-size": 11,
                "text-valign": "bottom",
                "text-margin-y": 4,
                width: 28,
                height: 28,
                "background-color": function (node) { return CLASS_COLOURS[node.data("ci_class")] || "#667382"; }
              }
            },
            { selector: "node[?focus]", style: { width: 40, height: 40, "border-width": 4, "border-color": "#182433" } },
            {
              selector: "edge",
              style: {
                label: "data(label)",
                "font-size": 9,
                color: "#667382",
                width: 2,
                "line-color": "#adb5bd",
                "target-arrow-color": "#adb5bd",
                "target-arrow-shape": "triangle",
                "curve-style": "bezier",
                "text-rotation": "autorotate"
              }
            },
            { selector: "edge[type = 'connected_to']", style: { "line-style": "dashed", "target-arrow-shape": "none" } }
          ],
          layout: { name: data.nodes.length > 40 ? "cose" : "breadthfirst", directed: true, padding: 20, animate: false }
        });
        cy.on("tap", "node", function (event) {
          var target = event.target.data("url");
          if (target && !event.target.data("focus")) { window.location.href = target; }
        });
        container._cy = cy;
        container.setAttribute("data-rendered", String(data.nodes.length));
        container.removeAttribute("aria-busy");
      })
      .catch(function (error) {
        container.textContent = "The graph could not be loaded (" + error.message + ").";
        container.removeAttribute("aria-busy");
      });
  }

  function init() {
    var container = document.getElementById("ci-graph");
    if (!container || !window.cytoscape) { return; }
    var hops = document.getElementById("ci-graph-hops");
    render(container, hops ? hops.value : "1");
    if (hops) {
      hops.addEventListener("change", function () { render(container, hops.value); });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
