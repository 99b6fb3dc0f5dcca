/* /api/docs: Swagger UI (assets/vendor/swagger-ui, from npm's swagger-ui-dist) started from this
   file rather than an inline script, so the page runs under the app's Content-Security-Policy;
   every request stays on this server (the OpenAPI document at data-url). */
(function () {
  "use strict";
  var box = document.getElementById("swagger-ui");
  window.ui = window.SwaggerUIBundle({
    url: box.getAttribute("data-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    validatorUrl: null
  });
})();
