import AftercareContracts
import AftercareRuntime
import Foundation
import Logging
import PostgresNIO

/// Templates and routing rules, as HQ configured them.
struct RuleBook: Sendable {
    let logger: Logger

    private static let ruleColumns = "r.id, r.event_type, r.template_key, r.recipient, r.channels, r.category, r.timing, r.enabled"

    /// The enabled rules for one event type, each with its template.
    func enabled(for eventType: String, on connection: PostgresConnection) async throws -> [(Rule, MessageTemplate)] {
        let rows = try await connection.query(
            """
            SELECT \(unescaped: Self.ruleColumns), t.bodies::text FROM rules r JOIN templates t ON t.key = r.template_key
            WHERE r.enabled AND r.event_type = \(eventType) ORDER BY r.id
            """,
            logger: logger
        )
        var result: [(Rule, MessageTemplate)] = []
        for try await row in rows {
            let (rule, bodies) = try Self.rule(row, extra: String.self)
            result.append((rule, MessageTemplate(key: rule.templateKey, eventType: rule.eventType, bodies: Self.bodies(bodies))))
        }
        return result
    }

    func rules(on connection: PostgresConnection) async throws -> [Rule] {
        let rows = try await connection.query("SELECT \(unescaped: Self.ruleColumns), 0 FROM rules r ORDER BY r.event_type, r.id", logger: logger)
        var result: [Rule] = []
        for try await row in rows { result.append(try Self.rule(row, extra: Int.self).0) }
        return result
    }

    /// Creates or replaces a rule. Its template must exist and be written for the same event.
    func put(_ rule: Rule, on connection: PostgresConnection) async throws -> Rule {
        guard let template = try await template(rule.templateKey, on: connection) else {
            throw ProblemDetails.validation(field: "templateKey", "names no template")
        }
        guard template.eventType == rule.eventType else {
            throw ProblemDetails.validation(field: "templateKey", "is written for \(template.eventType), not \(rule.eventType)")
        }
        try await connection.query(
            """
            INSERT INTO rules (id, event_type, template_key, recipient, channels, category, timing, enabled)
            VALUES (\(rule.id), \(rule.eventType), \(rule.templateKey), \(rule.recipient.rawValue), \(rule.channels.map(\.rawValue)),
                    \(rule.category.rawValue), \(rule.timing.rawValue), \(rule.enabled))
            ON CONFLICT (id) DO UPDATE SET event_type = EXCLUDED.event_type, template_key = EXCLUDED.template_key, recipient = EXCLUDED.recipient,
                channels = EXCLUDED.channels, category = EXCLUDED.category, timing = EXCLUDED.timing, enabled = EXCLUDED.enabled
            """,
            logger: logger
        )
        return rule
    }

    func deleteRule(_ id: String, on connection: PostgresConnection) async throws -> Bool {
        let rows = try await connection.query("DELETE FROM rules WHERE id = \(id) RETURNING 1", logger: logger)
        for try await _ in rows { return true }
        return false
    }

    func templates(on connection: PostgresConnection) async throws -> [MessageTemplate] {
        try await templates(where: nil, on: connection)
    }

    func template(_ key: String, on connection: PostgresConnection) async throws -> MessageTemplate? {
        try await templates(where: key, on: connection).first
    }

    private func templates(where key: String?, on connection: PostgresConnection) async throws -> [MessageTemplate] {
        let rows = try await connection.query(
            "SELECT key, event_type, bodies::text, updated_at FROM templates WHERE \(key)::text IS NULL OR key = \(key) ORDER BY key",
            logger: logger
        )
        var result: [MessageTemplate] = []
        for try await (key, eventType, bodies, updatedAt) in rows.decode((String, String, String, Date).self) {
            result.append(MessageTemplate(key: key, eventType: eventType, bodies: Self.bodies(bodies), updatedAt: updatedAt))
        }
        return result
    }

    /// Creates or replaces a template (already checked against its event's variables). A
    /// template rules rely on cannot move to another event under them.
    func put(_ key: String, _ request: TemplateRequest, at now: Date, on connection: PostgresConnection) async throws -> MessageTemplate {
        let users = try await connection.query(
            "SELECT id FROM rules WHERE template_key = \(key) AND event_type <> \(request.eventType) ORDER BY id",
            logger: logger
        )
        var conflicting: [String] = []
        for try await id in users.decode(String.self) { conflicting.append(id) }
        if !conflicting.isEmpty {
            throw ProblemDetails.validation(field: "eventType", "rules \(conflicting.joined(separator: ", ")) use this template for another event")
        }
        let bodies = String(decoding: try JSONEncoder().encode(request.bodies), as: UTF8.self)
        try await connection.query(
            """
            INSERT INTO templates (key, event_type, bodies, updated_at) VALUES (\(key), \(request.eventType), \(bodies)::jsonb, \(now))
            ON CONFLICT (key) DO UPDATE SET event_type = EXCLUDED.event_type, bodies = EXCLUDED.bodies, updated_at = EXCLUDED.updated_at
            """,
            logger: logger
        )
        return MessageTemplate(key: key, eventType: request.eventType, bodies: request.bodies, updatedAt: now)
    }

    private static func bodies(_ json: String) -> [String: String] {
        (try? JSONDecoder().decode([String: String].self, from: Data(json.utf8))) ?? [:]
    }

    private static func rule<Extra: PostgresDecodable>(_ row: PostgresRow, extra: Extra.Type) throws -> (Rule, Extra) {
        let (id, eventType, template, recipient, channels, category, timing, enabled, more) =
            try row.decode((String, String, String, String, [String], String, String, Bool, Extra).self)
        let rule = Rule(
            id: id,
            eventType: eventType,
            templateKey: template,
            recipient: RecipientKind(rawValue: recipient) ?? .member,
            channels: channels.compactMap(MessageChannel.init(rawValue:)),
            category: MessageCategory(rawValue: category) ?? .service,
            timing: RuleTiming(rawValue: timing) ?? .immediately,
            enabled: enabled
        )
        return (rule, more)
    }
}
