import AftercareRuntime

/// The feedback API as OpenAPI 3.1, served at `GET /openapi.json`. `FeedbackOpenAPITests`
/// keeps it true: every route the service registers is documented and every documented
/// route exists.
enum FeedbackOpenAPI {
    static let document = #"""
    {
      "openapi": "3.1.0",
      "info": {"title": "Aftercare feedback", "version": "1.0.0",
               "description": "Complaints with a callback task in front of a person within minutes and escalation guide → store manager → dealer admin → HQ desk; reviews after service visits. Errors are application/problem+json (RFC 9457) with field-level `errors` on 422. Out-of-scope resources read as 404."},
      "security": [{"bearer": []}],
      "paths": {
        \#(PlatformOpenAPI.paths(deadLetters: true))
        "/api/v1/complaints": {"post": {"summary": "Open a complaint (a member for themselves; staff in scope for a member); 201 with its callback task",
          "parameters": [{"name": "Idempotency-Key", "in": "header", "schema": {"type": "string", "maxLength": 200}}],
          "requestBody": {"$ref": "#/components/requestBodies/Complaint"},
          "responses": {"201": {"$ref": "#/components/responses/Opened"}, "403": {"$ref": "#/components/responses/Problem"}, "422": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/complaints/mine": {"get": {"summary": "The member's own complaints, newest first (member)", "responses": {"200": {"description": "complaints"}, "403": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/complaints/{id}": {"get": {"summary": "A complaint; staff in scope also get its callback tasks and timeline", "parameters": [{"$ref": "#/components/parameters/id"}],
          "responses": {"200": {"$ref": "#/components/responses/Complaint"}, "404": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/complaints/{id}/progress": {"post": {"summary": "Work on a called-back complaint has started (staff)", "parameters": [{"$ref": "#/components/parameters/id"}],
          "requestBody": {"$ref": "#/components/requestBodies/Note"},
          "responses": {"200": {"$ref": "#/components/responses/Complaint"}, "404": {"$ref": "#/components/responses/Problem"}, "409": {"$ref": "#/components/responses/Problem"}, "422": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/complaints/{id}/resolve": {"post": {"summary": "Record the resolution (staff); it closes by itself after the quiet period", "parameters": [{"$ref": "#/components/parameters/id"}],
          "requestBody": {"content": {"application/json": {"schema": {"type": "object", "required": ["resolution"], "properties": {"resolution": {"type": "string", "maxLength": 2000}}}}}},
          "responses": {"200": {"$ref": "#/components/responses/Complaint"}, "404": {"$ref": "#/components/responses/Problem"}, "409": {"$ref": "#/components/responses/Problem"}, "422": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/complaints/{id}/close": {"post": {"summary": "The member confirms the resolution (or staff on their word)", "parameters": [{"$ref": "#/components/parameters/id"}],
          "responses": {"200": {"$ref": "#/components/responses/Complaint"}, "404": {"$ref": "#/components/responses/Problem"}, "409": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/complaints/{id}/reopen": {"post": {"summary": "Reopen within the window; a new callback task starts (201)", "parameters": [{"$ref": "#/components/parameters/id"}],
          "requestBody": {"content": {"application/json": {"schema": {"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string", "maxLength": 1000}}}}}},
          "responses": {"201": {"$ref": "#/components/responses/Opened"}, "404": {"$ref": "#/components/responses/Problem"}, "409": {"$ref": "#/components/responses/Problem"}, "422": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/callback-tasks/mine": {"get": {"summary": "The caller's open tasks with secondsRemaining (hq_admin also the HQ desk's)", "responses": {"200": {"description": "tasks"}}}},
        "/api/v1/callback-tasks/{id}": {"get": {"summary": "A callback task (staff in scope)", "parameters": [{"$ref": "#/components/parameters/id"}],
          "responses": {"200": {"$ref": "#/components/responses/Task"}, "404": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/callback-tasks/{id}/calls": {"post": {"summary": "Record a call: reached completes the task and stops escalation; not reached sets a retry time", "parameters": [{"$ref": "#/components/parameters/id"}],
          "requestBody": {"content": {"application/json": {"schema": {"type": "object", "required": ["reached"], "properties": {"reached": {"type": "boolean"}, "note": {"type": "string", "maxLength": 1000},
            "retryInMinutes": {"type": "integer", "minimum": 1, "maximum": 1440}}}}}},
          "responses": {"200": {"$ref": "#/components/responses/Task"}, "404": {"$ref": "#/components/responses/Problem"}, "409": {"$ref": "#/components/responses/Problem"}, "422": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/reports/callback-sla": {"get": {"summary": "Complaints, share called back within the promise, median time to callback, escalations per level (store_manager, dealer_admin, hq_admin; scoped)",
          "parameters": [{"name": "from", "in": "query", "required": true, "schema": {"type": "string", "format": "date-time"}}, {"name": "to", "in": "query", "required": true, "schema": {"type": "string", "format": "date-time"}},
                         {"name": "groupBy", "in": "query", "schema": {"enum": ["store", "dealer"]}}],
          "responses": {"200": {"description": "report rows"}, "422": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/dealers/{dealerId}/escalation-policy": {
          "get": {"summary": "The dealer's deadlines per rung (its own or the defaults); hq_admin or the dealer's admin", "parameters": [{"$ref": "#/components/parameters/dealerId"}],
            "responses": {"200": {"$ref": "#/components/responses/Policy"}, "404": {"$ref": "#/components/responses/Problem"}}},
          "put": {"summary": "Set the dealer's own deadlines (hq_admin); new tasks and escalations follow them", "parameters": [{"$ref": "#/components/parameters/dealerId"}],
            "requestBody": {"content": {"application/json": {"schema": {"type": "object", "required": ["guideMinutes", "storeManagerMinutes", "dealerAdminMinutes"],
              "properties": {"guideMinutes": {"type": "integer", "minimum": 1, "maximum": 1440}, "storeManagerMinutes": {"type": "integer", "minimum": 1, "maximum": 1440},
                "dealerAdminMinutes": {"type": "integer", "minimum": 1, "maximum": 1440}}}}}},
            "responses": {"200": {"$ref": "#/components/responses/Policy"}, "403": {"$ref": "#/components/responses/Problem"}, "422": {"$ref": "#/components/responses/Problem"}}},
          "delete": {"summary": "Back to the service's defaults (hq_admin)", "parameters": [{"$ref": "#/components/parameters/dealerId"}],
            "responses": {"200": {"$ref": "#/components/responses/Policy"}, "403": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/review-requests/mine": {"get": {"summary": "The member's open review requests (member)", "responses": {"200": {"description": "requests"}, "403": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/review-requests/{id}": {"get": {"summary": "A review request (the member's own, staff in scope)", "parameters": [{"$ref": "#/components/parameters/id"}],
          "responses": {"200": {"description": "the request"}, "404": {"$ref": "#/components/responses/Problem"}}}},
        "/api/v1/review-requests/{id}/review": {"post": {"summary": "Review the visit (the member); a rating at or below the threshold opens a complaint, returned with its task",
          "parameters": [{"$ref": "#/components/parameters/id"}],
          "requestBody": {"content": {"application/json": {"schema": {"type": "object", "required": ["visitRating", "technicianRatings"], "properties": {
            "visitRating": {"type": "integer", "minimum": 1, "maximum": 5}, "comment": {"type": "string", "maxLength": 1000},
            "technicianRatings": {"type": "array", "items": {"type": "object", "required": ["technicianId", "rating"], "properties": {"technicianId": {"type": "string"}, "rating": {"type": "integer", "minimum": 1, "maximum": 5}}}}}}}}},
          "responses": {"201": {"description": "the review, and the complaint it opened if any"}, "403": {"$ref": "#/components/responses/Problem"}, "404": {"$ref": "#/components/responses/Problem"},
            "409": {"$ref": "#/components/responses/Problem"}, "422": {"$ref": "#/components/responses/Problem"}}}}
      },
      "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        "parameters": {
          "id": {"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}},
          "dealerId": {"name": "dealerId", "in": "path", "required": true, "schema": {"type": "string"}}
        },
        "schemas": {
          "Problem": {"type": "object", "properties": {"type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"}, "detail": {"type": "string"},
            "errors": {"type": "array", "items": {"type": "object", "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}}}},
          "Task": {"type": "object", "properties": {"id": {"type": "string", "format": "uuid"}, "complaintId": {"type": "string", "format": "uuid"}, "memberId": {"type": "string"},
            "storeId": {"type": "string"}, "level": {"enum": ["guide", "store_manager", "dealer_admin", "hq_desk"]}, "assigneeId": {"type": "string"}, "dueAt": {"type": "string", "format": "date-time"},
            "status": {"enum": ["open", "completed"]}, "secondsRemaining": {"type": "integer"}, "retryAt": {"type": "string", "format": "date-time"}, "failedAttempts": {"type": "integer"}}}
        },
        "responses": {
          "Problem": {"description": "RFC 9457 problem", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}},
          "Task": {"description": "a callback task", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Task"}}}},
          "Opened": {"description": "the complaint id and its callback task", "content": {"application/json": {"schema": {"type": "object", "properties": {
            "complaintId": {"type": "string", "format": "uuid"}, "callbackTask": {"$ref": "#/components/schemas/Task"}}}}}},
          "Complaint": {"description": "status opened | called_back | in_progress | resolved | closed, resolution, and for staff the tasks and timeline"},
          "Policy": {"description": "dealerId, deadlines in minutes per rung, and whether they are the dealer's own"}
        },
        "requestBodies": {
          "Complaint": {"content": {"application/json": {"schema": {"type": "object", "required": ["channel", "category", "severity", "description"], "properties": {
            "memberId": {"type": "string"}, "channel": {"enum": ["mini_program", "official_account", "hotline", "in_store", "review"]},
            "category": {"enum": ["product_quality", "delivery_installation", "service_visit", "staff_attitude", "other"]},
            "severity": {"enum": ["low", "medium", "high", "critical"]}, "description": {"type": "string", "maxLength": 2000}, "relatedReference": {"type": "string", "maxLength": 100}}}}}},
          "Note": {"content": {"application/json": {"schema": {"type": "object", "properties": {"note": {"type": "string", "maxLength": 1000}}}}}}
        }
      }
    }
    """#
}
