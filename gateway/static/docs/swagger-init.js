// Starts Swagger UI on /api/v1/docs. A file of its own, not inline: the gateway's CSP allows
// scripts from 'self' only. The document's URL comes from the page (data-spec).
"use strict";
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.spec,
    domNode: root,
    deepLinking: true,
    validatorUrl: null,        // never send the document to an outside validator
    queryConfigEnabled: false, // ?url=... cannot point the page at another document
    tryItOutEnabled: false,
    displayRequestDuration: true,
    defaultModelsExpandDepth: 0,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
