import AftercareRuntime
import Foundation
import Hummingbird

extension MessageTemplate: ResponseEncodable {}
extension Rule: ResponseEncodable {}

/// HQ manages templates and routing rules: `/api/v1/templates/{key}` and `/api/v1/rules/{id}`.
struct ConfigurationController: Sendable {
    let desk: NotificationDesk

    struct Templates: ResponseCodable, Sendable { let templates: [MessageTemplate] }
    struct Rules: ResponseCodable, Sendable { let rules: [Rule] }

    func addRoutes(to api: RouterGroup<AftercareRequestContext>) {
        let templates = api.group("templates").add(middleware: RoleGate(.hqAdmin))
        templates.get { _, _ -> Templates in
            Templates(templates: try await desk.transaction { try await desk.rules.templates(on: $0) })
        }
        templates.get("{key}") { _, context -> MessageTemplate in
            let key = try Self.key(context, "key")
            guard let template = try await desk.transaction({ try await desk.rules.template(key, on: $0) }) else { throw ProblemDetails.notFound("No such template.") }
            return template
        }
        templates.put("{key}") { request, context -> MessageTemplate in
            let key = try Self.key(context, "key")
            let change = try await request.decodeJSON(as: TemplateRequest.self, context: context)
            return try await desk.transaction { try await desk.rules.put(key, change, at: desk.clock.now(), on: $0) }
        }
        let rules = api.group("rules").add(middleware: RoleGate(.hqAdmin))
        rules.get { _, _ -> Rules in
            Rules(rules: try await desk.transaction { try await desk.rules.rules(on: $0) })
        }
        rules.put("{id}") { request, context -> Rule in
            let id = try Self.key(context, "id")
            let change = try await request.decodeJSON(as: RuleRequest.self, context: context)
            return try await desk.transaction { try await desk.rules.put(change.rule(id: id), on: $0) }
        }
        rules.delete("{id}") { _, context -> Response in
            let id = try Self.key(context, "id")
            guard try await desk.transaction({ try await desk.rules.deleteRule(id, on: $0) }) else { throw ProblemDetails.notFound("No such rule.") }
            return Response(status: .noContent)
        }
    }

    /// Keys and ids are short slugs: `birthday_month`, `callback-created`.
    static func key(_ context: AftercareRequestContext, _ name: String) throws -> String {
        guard let key = context.parameters.get(name), (1...64).contains(key.count),
              key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else {
            throw ProblemDetails.validation(field: name, "must be 1 to 64 letters, digits, - or _")
        }
        return key
    }
}
