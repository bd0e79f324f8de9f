// Renders the gateway's OpenAPI document without any third-party asset (CSP: script-src 'self').
"use strict";
(function () {
  const root = document.getElementById("api");
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    (children || []).forEach((c) => node.append(c));
    return node;
  }
  function schemaBlock(title, schema) {
    const details = el("details", {}, [el("summary", {}, [title])]);
    details.append(el("pre", {}, [JSON.stringify(schema, null, 2)]));
    return details;
  }
  function render(spec) {
    root.textContent = "";
    root.append(el("p", {}, [spec.info.description || ""]));
    Object.entries(spec.paths || {}).forEach(([path, item]) => {
      Object.entries(item).forEach(([method, op]) => {
        const section = el("section", { class: "op" }, [
          el("h2", {}, [el("span", { class: "method " + method }, [method]), el("code", {}, [path])]),
          el("p", {}, [op.summary || ""]),
        ]);
        const scopes = (op.security || []).flatMap((s) => Object.values(s).flat());
        if (scopes.length) section.append(el("p", { class: "scopes" }, ["Scopes: " + scopes.join(", ")]));
        if (op.description) section.append(el("p", {}, [op.description]));
        (op.parameters || []).forEach((p) => section.append(
          el("p", {}, [el("code", {}, [p.name]), " (" + p.in + (p.required ? ", required" : "") + ") " + (p.description || "")])));
        if (op.requestBody) section.append(schemaBlock("Request body", op.requestBody.content));
        Object.entries(op.responses || {}).forEach(([status, resp]) =>
          section.append(schemaBlock(status + " " + (resp.description || ""), resp.content || {})));
        root.append(section);
      });
    });
    root.append(el("h2", {}, ["Schemas"]));
    Object.entries((spec.components || {}).schemas || {}).forEach(([name, schema]) =>
      root.append(schemaBlock(name, schema)));
  }
  fetch(root.dataset.spec).then((r) => r.json()).then(render).catch(() => {
    root.textContent = "The OpenAPI document could not be loaded.";
  });
})();
