import AftercareRuntime
import Foundation
import Hummingbird

extension MessageTemplate: ResponseEncodable {}
extension Rule: ResponseEncodable {}

/// HQ manages templates and routing rules: `/api/v1/templates/{key}` and `/api/v1/rules/{id}`.
struct ConfigurationController: Sendable {
    let dependencies: NotificationDependencies

    struct Templates: ResponseCodable, Sendable { let templates: [MessageTemplate] }
    struct Rules: ResponseCodable, Sendable { let rules: [Rule] }

    func addRoutes(to api: RouterGroup<AftercareRequestContext>) {
        api.group("templates").add(middleware: RoleGate(.hqAdmin))
            .get(use: listTemplates)
            .get("{key}", use: showTemplate)
            .put("{key}", use: putTemplate)
        api.group("rules").add(middleware: RoleGate(.hqAdmin))
            .get(use: listRules)
            .put("{id}", use: putRule)
            .delete("{id}", use: deleteRule)
    }

    @Sendable func listTemplates(_ request: Request, context: AftercareRequestContext) async throws -> Templates {
        Templates(templates: try await dependencies.transaction { try await dependencies.rules.templates(on: $0) })
    }

    @Sendable func showTemplate(_ request: Request, context: AftercareRequestContext) async throws -> MessageTemplate {
        let key = try Self.key(context, "key")
        guard let template = try await dependencies.transaction({ try await dependencies.rules.template(key, on: $0) }) else {
            throw ProblemDetails.notFound("No such template.")
        }
        return template
    }

    @Sendable func putTemplate(_ request: Request, context: AftercareRequestContext) async throws -> MessageTemplate {
        let key = try Self.key(context, "key")
        let change = try await request.decodeJSON(as: TemplateRequest.self, context: context)
        return try await dependencies.transaction { try await dependencies.rules.put(key, change, at: dependencies.clock.now(), on: $0) }
    }

    @Sendable func listRules(_ request: Request, context: AftercareRequestContext) async throws -> Rules {
        Rules(rules: try await dependencies.transaction { try await dependencies.rules.rules(on: $0) })
    }

    @Sendable func putRule(_ request: Request, context: AftercareRequestContext) async throws -> Rule {
        let id = try Self.key(context, "id")
        let change = try await request.decodeJSON(as: RuleRequest.self, context: context)
        return try await dependencies.transaction { try await dependencies.rules.put(change.rule(id: id), on: $0) }
    }

    @Sendable func deleteRule(_ request: Request, context: AftercareRequestContext) async throws -> Response {
        let id = try Self.key(context, "id")
        guard try await dependencies.transaction({ try await dependencies.rules.deleteRule(id, on: $0) }) else {
            throw ProblemDetails.notFound("No such rule.")
        }
        return Response(status: .noContent)
    }

    /// Keys and ids are short slugs: `birthday_month`, `callback-created`.
    static func key(_ context: AftercareRequestContext, _ name: String) throws -> String {
        guard let key = context.parameters.get(name), (1...64).contains(key.count),
            key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") })
        else {
            throw ProblemDetails.validation(field: name, "must be 1 to 64 letters, digits, - or _")
        }
        return key
    }
}
