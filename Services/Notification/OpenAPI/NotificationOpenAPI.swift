import AftercareRuntime

/// The notification API as OpenAPI 3.1, served at `GET /openapi.json`.
/// `NotificationOpenAPITests` keeps it true: every route the service registers is documented
/// and every documented route exists.
enum NotificationOpenAPI {
    static let document = #"""
    {
      "openapi": "3.1.0",
      "info": {"title": "Aftercare notification", "version": "1.0.0",
               "description": "Turns events into messages: routing rules from event type to template, recipient and channels (SMS, official account, in-app inbox); exactly one delivery per (event, recipient, channel); retries, failover, quiet hours, opt-outs and a daily marketing cap. Errors are application/problem+json (RFC 9457) with field-level `errors` on 422. Out-of-scope resources read as 404."},
      "security": [{"bearer": []}],
      "paths": {
        \#(PlatformOpenAPI.paths(deadLetters: true))
        "/api/v1/templates": {"get": {"summary": "Every template with its bodies per locale (hq_admin)", "responses": {"200": {"description": "templates"}, "403": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/templates/{key}": {
          "get": {"summary": "One template (hq_admin)", "parameters": [{"$ref": "#/components/parameters/key"}],
            "responses": {"200": {"$ref": "#/components/responses/Template"}, "404": {"$ref": "#/components/responses/Problem"}}},
          "put": {"summary": "Create or replace a template (hq_admin); a body using a variable its event does not carry is refused with 422 naming it", "parameters": [{"$ref": "#/components/parameters/key"}],
            "requestBody": {"content": {"application/json": {"schema": {"type": "object", "required": ["eventType", "bodies"], "properties": {"eventType": {"type": "string"},
              "bodies": {"type": "object", "description": "zh-CN and/or en; {{variable}} placeholders", "additionalProperties": {"type": "string", "maxLength": 1000}}}}}}},
            "responses": {"200": {"$ref": "#/components/responses/Template"}, "403": {"$ref": "#/components/responses/Problem"}, "422": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/rules": {"get": {"summary": "Every routing rule (hq_admin)", "responses": {"200": {"description": "rules"}, "403": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/rules/{id}": {
          "put": {"summary": "Create or replace a rule (hq_admin): event type → template, recipient, channels, category, timing", "parameters": [{"$ref": "#/components/parameters/ruleId"}],
            "requestBody": {"content": {"application/json": {"schema": {"type": "object", "required": ["eventType", "templateKey", "recipient", "channels", "category"], "properties": {
              "eventType": {"type": "string"}, "templateKey": {"type": "string"}, "recipient": {"enum": ["member", "guide", "assignee", "store_manager"]},
              "channels": {"type": "array", "items": {"enum": ["sms", "official_account", "in_app"]}, "minItems": 1},
              "category": {"enum": ["critical", "service", "marketing"]}, "timing": {"enum": ["immediately", "month_end"]}, "enabled": {"type": "boolean"}}}}}},
            "responses": {"200": {"description": "the rule"}, "403": {"$ref": "#/components/responses/Problem"}, "422": {"$ref": "#/components/responses/Problem"}}},
          "delete": {"summary": "Remove a rule (hq_admin)", "parameters": [{"$ref": "#/components/parameters/ruleId"}],
            "responses": {"204": {"description": "removed"}, "404": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/deliveries": {"get": {"summary": "Deliveries newest first, by recipient, event, status and channel (staff, scoped to their store or dealer; hq_admin all)",
          "parameters": [{"name": "recipientId", "in": "query", "schema": {"type": "string"}}, {"name": "eventId", "in": "query", "schema": {"type": "string", "format": "uuid"}},
                         {"name": "status", "in": "query", "schema": {"enum": ["pending", "deferred", "sent", "failed", "skipped"]}},
                         {"name": "channel", "in": "query", "schema": {"enum": ["sms", "official_account", "in_app"]}},
                         {"name": "cursor", "in": "query", "schema": {"type": "string"}}, {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}}],
          "responses": {"200": {"$ref": "#/components/responses/Deliveries"}, "403": {"$ref": "#/components/responses/Problem"}, "422": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/deliveries/{id}": {"get": {"summary": "One delivery with every provider attempt (staff in scope)", "parameters": [{"$ref": "#/components/parameters/id"}],
          "responses": {"200": {"description": "delivery and attempts"}, "404": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/inbox": {"get": {"summary": "The caller's in-app messages, newest first",
          "parameters": [{"name": "unread", "in": "query", "schema": {"type": "boolean"}}, {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                         {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}}],
          "responses": {"200": {"$ref": "#/components/responses/Deliveries"}, "422": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/inbox/{id}/read": {"post": {"summary": "Mark one of the caller's messages read", "parameters": [{"$ref": "#/components/parameters/id"}],
          "responses": {"204": {"description": "read"}, "404": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/preferences": {
          "get": {"summary": "The member's message preferences (member)", "responses": {"200": {"$ref": "#/components/responses/Preferences"}, "403": {"$ref": "#/components/responses/Problem"}}},
          "put": {"summary": "Opt out of marketing or service messages, set quiet hours and language (member)",
            "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Preferences"}}}},
            "responses": {"200": {"$ref": "#/components/responses/Preferences"}, "422": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/webhooks/delivery-receipts": {"post": {"summary": "A provider's delivery receipt (service): delivered, or failed (publishes notification.delivery.failed)",
          "requestBody": {"content": {"application/json": {"schema": {"type": "object", "required": ["reference", "status"], "properties": {
            "reference": {"type": "string", "format": "uuid", "description": "the delivery id sent as reference"}, "status": {"enum": ["delivered", "failed"]}, "detail": {"type": "string"}}}}}},
          "responses": {"204": {"description": "recorded"}, "404": {"$ref": "#/components/responses/Problem"}, "422": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/webhooks/sms-replies": {"post": {"summary": "A member's SMS reply (service); an unsubscribe keyword (TD, 退订, STOP) opts them out of marketing",
          "requestBody": {"content": {"application/json": {"schema": {"type": "object", "required": ["from", "text"], "properties": {"from": {"type": "string"}, "text": {"type": "string"}}}}}},
          "responses": {"200": {"description": "whether a member was unsubscribed"}, "422": {"$ref": "#/components/responses/Problem"}}}}
      },
      "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        "parameters": {
          "id": {"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}},
          "key": {"name": "key", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}},
          "ruleId": {"name": "id", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}}
        },
        "schemas": {
          "Preferences": {"type": "object", "required": ["marketingOptOut", "serviceOptOut"], "properties": {"marketingOptOut": {"type": "boolean"}, "serviceOptOut": {"type": "boolean"},
            "quietHours": {"type": "string", "pattern": "^\\d{2}:\\d{2}-\\d{2}:\\d{2}$"}, "locale": {"enum": ["zh-CN", "en"]}}},
          "Delivery": {"type": "object", "properties": {"id": {"type": "string", "format": "uuid"}, "eventId": {"type": "string", "format": "uuid"}, "eventType": {"type": "string"},
            "ruleId": {"type": "string"}, "recipientId": {"type": "string"}, "recipientKind": {"type": "string"}, "storeId": {"type": "string"}, "channel": {"type": "string"},
            "category": {"type": "string"}, "locale": {"type": "string"}, "body": {"type": "string"}, "status": {"enum": ["pending", "deferred", "sent", "failed", "skipped"]},
            "reason": {"type": "string"}, "attempts": {"type": "integer"}, "provider": {"type": "string"}, "dueAt": {"type": "string", "format": "date-time"},
            "createdAt": {"type": "string", "format": "date-time"}, "sentAt": {"type": "string", "format": "date-time"}, "deliveredAt": {"type": "string", "format": "date-time"},
            "readAt": {"type": "string", "format": "date-time"}}}
        },
        "responses": {
          "Problem": {"description": "problem+json", "content": {"application/problem+json": {"schema": {"type": "object"}}}},
          "Template": {"description": "a template", "content": {"application/json": {"schema": {"type": "object", "properties": {"key": {"type": "string"}, "eventType": {"type": "string"},
            "bodies": {"type": "object", "additionalProperties": {"type": "string"}}, "updatedAt": {"type": "string", "format": "date-time"}}}}}},
          "Deliveries": {"description": "a page of deliveries", "content": {"application/json": {"schema": {"type": "object", "properties": {
            "deliveries": {"type": "array", "items": {"$ref": "#/components/schemas/Delivery"}}, "nextCursor": {"type": "string"}}}}}},
          "Preferences": {"description": "preferences", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Preferences"}}}}
        }
      }
    }
    """#
}
