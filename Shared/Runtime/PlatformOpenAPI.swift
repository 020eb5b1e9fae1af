/// The routes every service gets from `ServicePlatform` (health, metrics, this document,
/// messaging status, and dead letters for services that consume events), as OpenAPI path
/// entries each service's document includes, so they are described once.
public enum PlatformOpenAPI {
    /// JSON members of `paths`, each followed by a comma.
    public static func paths(deadLetters: Bool) -> String {
        deadLetters ? common + "\n" + deadLetterPaths : common
    }

    private static let common = #"""
    "/health/live": {"get": {"summary": "Process is up", "security": [], "responses": {"200": {"description": "live"}}}},
    "/health/ready": {"get": {"summary": "Database and broker answer", "security": [], "responses": {"200": {"description": "ready"}, "503": {"$ref": "#/components/responses/Problem"}}}},
    "/metrics": {"get": {"summary": "Prometheus metrics", "security": [], "responses": {"200": {"description": "text exposition format"}}}},
    "/openapi.json": {"get": {"summary": "This document", "security": [], "responses": {"200": {"description": "OpenAPI 3.1"}}}},
    "/api/v1/ops/messaging": {"get": {"summary": "Outbox, timers and queues (hq_admin, service)", "responses": {"200": {"description": "status"}, "403": {"$ref": "#/components/responses/Problem"}}}},
    """#

    private static let deadLetterPaths = #"""
    "/api/v1/ops/dead-letters": {"get": {"summary": "Dead letters with their reasons, oldest first, without removing them (hq_admin, service)",
      "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1}}],
      "responses": {"200": {"description": "dead letters"}, "403": {"$ref": "#/components/responses/Problem"}}}},
    "/api/v1/ops/dead-letters/replay": {"post": {"summary": "Put dead letters back on the service's queue (hq_admin, service)",
      "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1}}],
      "responses": {"200": {"description": "how many were replayed"}, "403": {"$ref": "#/components/responses/Problem"}}}},
    """#
}
