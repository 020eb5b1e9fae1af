import AftercareRuntime

/// The membership API as OpenAPI 3.1, served at `GET /openapi.json`. `MembershipOpenAPITests`
/// keeps it true: every route the service registers is documented and every documented
/// route exists.
enum MembershipOpenAPI {
    static let document = #"""
    {
      "openapi": "3.1.0",
      "info": {"title": "Aftercare membership", "version": "1.0.0",
               "description": "Dealers, stores and staff; members bound to guides; purchases, points and tiers. Errors are application/problem+json (RFC 9457) with field-level `errors` on 422."},
      "security": [{"bearer": []}],
      "paths": {
        \#(PlatformOpenAPI.paths(deadLetters: false))
        "/api/v1/dealers": {"post": {"summary": "Create a dealer (hq_admin)", "requestBody": {"$ref": "#/components/requestBodies/NewDealer"},
          "responses": {"201": {"description": "created"}, "409": {"$ref": "#/components/responses/Problem"}, "422": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/stores": {"post": {"summary": "Create a store (hq_admin, the dealer's admin)", "requestBody": {"$ref": "#/components/requestBodies/NewStore"},
          "responses": {"201": {"description": "created"}, "403": {"$ref": "#/components/responses/Problem"}, "409": {"$ref": "#/components/responses/Problem"}, "422": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/stores/{id}": {"get": {"summary": "A store with its manager and dealer admins", "parameters": [{"$ref": "#/components/parameters/id"}],
          "responses": {"200": {"description": "the store"}, "404": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/stores/{id}/statistics": {"get": {"summary": "Members registered, referral rate, member sales and their share of the store's reported sales (store_manager, dealer_admin, hq_admin)",
          "parameters": [{"$ref": "#/components/parameters/id"}, {"name": "from", "in": "query", "required": true, "schema": {"type": "string", "format": "date-time"}},
                         {"name": "to", "in": "query", "required": true, "schema": {"type": "string", "format": "date-time"}}],
          "responses": {"200": {"description": "statistics"}, "404": {"$ref": "#/components/responses/Problem"}, "422": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/stores/{id}/sales/{day}": {"put": {"summary": "The store's total sales of one local day, from its till or the dealer's ERP (store_manager, dealer_admin, hq_admin, service); a correction replaces it",
          "parameters": [{"$ref": "#/components/parameters/id"}, {"name": "day", "in": "path", "required": true, "schema": {"type": "string", "format": "date"}}],
          "requestBody": {"content": {"application/json": {"schema": {"type": "object", "required": ["totalCents"], "properties": {"totalCents": {"type": "integer", "minimum": 0}}}}}},
          "responses": {"200": {"description": "the total as stored"}, "404": {"$ref": "#/components/responses/Problem"}, "422": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/staff": {"post": {"summary": "Add staff; a guide gets an invite code", "requestBody": {"$ref": "#/components/requestBodies/NewStaff"},
          "responses": {"201": {"description": "created, with inviteCode for guides"}, "403": {"$ref": "#/components/responses/Problem"}, "409": {"$ref": "#/components/responses/Problem"}, "422": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/staff/{id}": {"get": {"summary": "A staff member", "parameters": [{"$ref": "#/components/parameters/id"}],
          "responses": {"200": {"description": "the staff member"}, "404": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/staff/{id}/leave": {"post": {"summary": "A staff member leaves; a guide's members are handed over", "parameters": [{"$ref": "#/components/parameters/id"}],
          "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {"handoverTo": {"type": "string"}}}}}},
          "responses": {"200": {"description": "who took the members over and how many"}, "404": {"$ref": "#/components/responses/Problem"}, "409": {"$ref": "#/components/responses/Problem"}, "422": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/members": {
          "post": {"summary": "Register a member (201), or return the member with this phone unchanged (200)", "requestBody": {"$ref": "#/components/requestBodies/Registration"},
            "responses": {"200": {"$ref": "#/components/responses/Member"}, "201": {"$ref": "#/components/responses/Member"}, "409": {"$ref": "#/components/responses/Problem"}, "422": {"$ref": "#/components/responses/Problem"}}},
          "get": {"summary": "Search members within the caller's scope, cursor-paged",
            "parameters": [{"name": "phone", "in": "query", "schema": {"type": "string"}}, {"name": "name", "in": "query", "schema": {"type": "string"}},
                           {"name": "guideId", "in": "query", "schema": {"type": "string"}}, {"name": "storeId", "in": "query", "schema": {"type": "string"}},
                           {"name": "tag", "in": "query", "schema": {"type": "string"}}, {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
                           {"name": "cursor", "in": "query", "schema": {"type": "string"}}],
            "responses": {"200": {"description": "members and nextCursor"}, "422": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/members/{id}": {
          "get": {"summary": "A member (404 outside the caller's scope)", "parameters": [{"$ref": "#/components/parameters/id"}],
            "responses": {"200": {"$ref": "#/components/responses/Member"}, "404": {"$ref": "#/components/responses/Problem"}}},
          "patch": {"summary": "Change name, birthday, addresses or consents", "parameters": [{"$ref": "#/components/parameters/id"}],
            "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {"name": {"type": "string"}, "birthday": {"$ref": "#/components/schemas/Birthday"},
              "addresses": {"type": "array"}, "serviceMessagesConsent": {"type": "boolean"}, "marketingConsent": {"type": "boolean"}}}}}},
            "responses": {"200": {"$ref": "#/components/responses/Member"}, "404": {"$ref": "#/components/responses/Problem"}, "422": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/members/{id}/tags": {"put": {"summary": "Set a member's tags (staff)", "parameters": [{"$ref": "#/components/parameters/id"}],
          "requestBody": {"content": {"application/json": {"schema": {"type": "object", "required": ["tags"], "properties": {"tags": {"type": "array", "items": {"type": "string"}}}}}}},
          "responses": {"200": {"$ref": "#/components/responses/Member"}, "404": {"$ref": "#/components/responses/Problem"}, "422": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/members/{id}/purchases": {
          "post": {"summary": "Record a purchase (idempotent on orderId)", "parameters": [{"$ref": "#/components/parameters/id"}], "requestBody": {"$ref": "#/components/requestBodies/Purchase"},
            "responses": {"200": {"description": "already recorded"}, "201": {"description": "recorded"}, "404": {"$ref": "#/components/responses/Problem"}, "409": {"$ref": "#/components/responses/Problem"}, "422": {"$ref": "#/components/responses/Problem"}}},
          "get": {"summary": "A member's purchases, newest first", "parameters": [{"$ref": "#/components/parameters/id"}], "responses": {"200": {"description": "purchases"}, "404": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/purchases/{orderId}/refund": {"post": {"summary": "Refund an order and reverse its points", "parameters": [{"name": "orderId", "in": "path", "required": true, "schema": {"type": "string"}}],
          "responses": {"200": {"description": "the refunded purchase"}, "404": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/members/{id}/points": {"get": {"summary": "Balance, unspent points by expiry, ledger history",
          "parameters": [{"$ref": "#/components/parameters/id"}, {"name": "before", "in": "query", "schema": {"type": "integer"}}, {"name": "limit", "in": "query", "schema": {"type": "integer"}}],
          "responses": {"200": {"description": "statement"}, "404": {"$ref": "#/components/responses/Problem"}, "422": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/members/{id}/points/redemptions": {"post": {"summary": "Spend points, earliest-expiring first",
          "parameters": [{"$ref": "#/components/parameters/id"}, {"name": "Idempotency-Key", "in": "header", "required": true, "schema": {"type": "string", "maxLength": 200}}],
          "requestBody": {"content": {"application/json": {"schema": {"type": "object", "required": ["points"], "properties": {"points": {"type": "integer", "minimum": 1}, "reference": {"type": "string"}}}}}},
          "responses": {"200": {"description": "points spent and the balance"}, "404": {"$ref": "#/components/responses/Problem"}, "422": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/members/{id}/points/adjustments": {"post": {"summary": "Add or take points with a reason (store_manager, dealer_admin, hq_admin); never below zero",
          "parameters": [{"$ref": "#/components/parameters/id"}, {"name": "Idempotency-Key", "in": "header", "required": true, "schema": {"type": "string", "maxLength": 200}}],
          "requestBody": {"content": {"application/json": {"schema": {"type": "object", "required": ["points", "reason"], "properties": {"points": {"type": "integer", "description": "signed, non-zero"}, "reason": {"type": "string", "maxLength": 200}}}}}},
          "responses": {"200": {"description": "points moved and the balance"}, "403": {"$ref": "#/components/responses/Problem"}, "404": {"$ref": "#/components/responses/Problem"}, "422": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/members/{id}/tier": {"get": {"summary": "Tier, multiplier, rolling 12-month spend, what the next tier needs", "parameters": [{"$ref": "#/components/parameters/id"}],
          "responses": {"200": {"description": "tier progress"}, "404": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/tiers": {
          "get": {"summary": "The configured tiers", "responses": {"200": {"description": "tiers"}}},
          "put": {"summary": "Replace the tiers (hq_admin)", "requestBody": {"content": {"application/json": {"schema": {"type": "object", "required": ["tiers"], "properties": {"tiers": {"type": "array",
            "items": {"type": "object", "required": ["name", "thresholdCents", "multiplier"], "properties": {"name": {"type": "string"}, "thresholdCents": {"type": "integer"}, "multiplier": {"type": "number"}}}}}}}}},
            "responses": {"200": {"description": "tiers"}, "403": {"$ref": "#/components/responses/Problem"}, "422": {"$ref": "#/components/responses/Problem"}}}}
      },
      "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        "parameters": {"id": {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}},
        "schemas": {
          "Birthday": {"type": "object", "required": ["month", "day"], "properties": {"month": {"type": "integer"}, "day": {"type": "integer"}, "year": {"type": "integer"}}},
          "Problem": {"type": "object", "properties": {"type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"}, "detail": {"type": "string"},
            "errors": {"type": "array", "items": {"type": "object", "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}}}}
        },
        "responses": {
          "Problem": {"description": "RFC 9457 problem", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}},
          "Member": {"description": "a member; the phone is masked for dealer admins and HQ"}
        },
        "requestBodies": {
          "NewDealer": {"content": {"application/json": {"schema": {"type": "object", "required": ["id", "name"], "properties": {"id": {"type": "string"}, "name": {"type": "string"}}}}}},
          "NewStore": {"content": {"application/json": {"schema": {"type": "object", "required": ["id", "dealerId", "name", "timeZone"], "properties": {"id": {"type": "string"}, "dealerId": {"type": "string"},
            "name": {"type": "string"}, "address": {"type": "string"}, "timeZone": {"type": "string"}, "businessHours": {"type": "object"}}}}}},
          "NewStaff": {"content": {"application/json": {"schema": {"type": "object", "required": ["id", "dealerId", "role", "name", "phone"], "properties": {"id": {"type": "string"}, "dealerId": {"type": "string"},
            "storeId": {"type": "string"}, "role": {"enum": ["guide", "store_manager", "dealer_admin"]}, "name": {"type": "string"}, "phone": {"type": "string"}}}}}},
          "Registration": {"content": {"application/json": {"schema": {"type": "object", "required": ["phone", "serviceMessagesConsent", "marketingConsent"], "properties": {"phone": {"type": "string"},
            "name": {"type": "string"}, "birthday": {"$ref": "#/components/schemas/Birthday"}, "inviteCode": {"type": "string"}, "guideId": {"type": "string"},
            "serviceMessagesConsent": {"type": "boolean"}, "marketingConsent": {"type": "boolean"}, "referredBy": {"type": "string", "format": "uuid"}, "addresses": {"type": "array"}}}}}},
          "Purchase": {"content": {"application/json": {"schema": {"type": "object", "required": ["orderId", "amountCents", "items"], "properties": {"orderId": {"type": "string"},
            "amountCents": {"type": "integer"}, "purchasedAt": {"type": "string", "format": "date-time"}, "storeId": {"type": "string"},
            "items": {"type": "array", "items": {"type": "object", "required": ["sku", "category", "quantity", "amountCents"], "properties": {"sku": {"type": "string"}, "category": {"type": "string"},
              "quantity": {"type": "integer"}, "amountCents": {"type": "integer"}}}}}}}}}
        }
      }
    }
    """#
}
