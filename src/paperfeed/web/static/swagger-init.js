// Starts Swagger UI on /api/docs. A static file because the Content-Security-Policy forbids
// inline scripts; the bundle itself is served from the fastapi-offline package (web/api.py).
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
