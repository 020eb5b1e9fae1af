import AftercareContracts
import AftercareMessaging
import AftercarePersistence
import AftercareRuntime
import Foundation
import Hummingbird
import Logging
import PostgresNIO

/// Rules that issue a template on a membership event: the birthday gift when a birthday month
/// starts, a tier's welcome gift when a member reaches it, a welcome coupon for a new member.
/// HQ's rules reach every member, a dealer admin's their dealer's. Each rule issues once per
/// occasion (the coupon's issue key names the rule, the member and the occasion, besides the
/// inbox that drops a redelivery), and never past the template's budget or per-member limit:
/// a refusal is logged and rolled back to its savepoint, so the delivery and the other rules
/// go on.
struct IssueRules: Sendable {
    let issuer: Issuer
    let directory: Directory
    let logger: Logger

    static let events = [BirthdayMonthStarted.eventType, TierChanged.eventType, MemberRegistered.eventType]

    struct Rule: ResponseCodable, Sendable, Equatable {
        let id: UUID
        let eventType: String
        let templateId: UUID
        /// For `membership.tier.changed`: only a change to this tier.
        let tier: String?
        let dealerId: String?
        let active: Bool
        let createdBy: String
    }

    struct Listing: ResponseCodable, Sendable {
        let rules: [Rule]
    }

    static let columns = "id, event_type, template_id, tier, dealer_id, active, created_by"

    /// Applies the active rules for `eventType` to the member; `occasion` tells one occasion
    /// of the same rule from another (a year's birthday, a tier change's event).
    func apply(_ eventType: String, memberId: String, tier: String? = nil, occasion: String, on connection: PostgresConnection) async throws {
        guard let member = try await directory.member(memberId, on: connection) else { return }
        let rows = try await connection.query(
            """
            SELECT \(unescaped: Self.columns) FROM issue_rules
            WHERE active AND event_type = \(eventType) AND (dealer_id IS NULL OR dealer_id = \(member.dealerId)) AND (tier IS NULL OR tier = \(tier))
            ORDER BY created_at, id
            """,
            logger: logger
        )
        for rule in try await rows.collect().map(Self.rule) {
            let order = Issuer.Order(
                templateId: rule.templateId,
                member: member,
                actor: "rule-\(rule.id.lowercasedString)",
                role: nil,
                why: "rule: \(eventType)",
                key: "rule/\(rule.id.lowercasedString)/\(memberId)/\(occasion)"
            )
            if case .failure(let refusal) = try await issuer.attempt(order, on: connection) {
                logger.notice(
                    "issue rule refused",
                    metadata: ["rule": "\(rule.id)", "member": "\(memberId)", "reason": "\(refusal.detail ?? refusal.title)"]
                )
            }
        }
    }

    static func rule(_ row: PostgresRow) throws -> Rule {
        let (id, type, template, tier, dealer, active, by) = try row.decode((UUID, String, UUID, String?, String?, Bool, String).self)
        return Rule(id: id, eventType: type, templateId: template, tier: tier, dealerId: dealer, active: active, createdBy: by)
    }
}

/// The rules over HTTP: HQ and dealer admins create, list and switch them on and off.
struct RuleBook: Sendable {
    let database: PostgresClient
    let clock: any BusinessClock
    let logger: Logger

    func create(_ request: RuleRequest, by caller: Principal) async throws -> IssueRules.Rule {
        let dealerId = caller.role == .hqAdmin ? nil : caller.dealerID
        return try await database.transaction(logger: logger) { connection in
            let templates = try await connection.query("SELECT dealer_id FROM coupon_templates WHERE id = \(request.templateId)", logger: logger)
            // The template's dealer, nil for a brand-wide one; no row: no such template.
            guard let row = try await templates.collect().first, case let owner = try row.decode(String?.self),
                Access.seesTemplate(caller, dealerId: owner)
            else {
                throw ProblemDetails.validation(field: "templateId", "is not a coupon template you may use")
            }
            let now = clock.now()
            let rows = try await connection.query(
                """
                INSERT INTO issue_rules (id, event_type, template_id, tier, dealer_id, created_by, created_at, updated_at)
                VALUES (\(UUID()), \(request.eventType), \(request.templateId), \(request.tier), \(dealerId ?? owner), \(caller.subject), \(now), \(now))
                RETURNING \(unescaped: IssueRules.columns)
                """,
                logger: logger
            ).collect()
            guard let row = rows.first else { throw ProblemDetails.notFound("No such rule.") }
            return try IssueRules.rule(row)
        }
    }

    func list(for caller: Principal) async throws -> IssueRules.Listing {
        let rows = try await database.rows(
            """
            SELECT \(unescaped: IssueRules.columns) FROM issue_rules
            WHERE \(caller.role == .hqAdmin) OR dealer_id = \(caller.dealerID ?? "") ORDER BY created_at, id LIMIT 500
            """,
            logger: logger
        )
        return IssueRules.Listing(rules: try rows.map(IssueRules.rule))
    }

    func setActive(_ id: UUID, _ active: Bool, by caller: Principal) async throws -> IssueRules.Rule {
        let rows = try await database.rows(
            """
            UPDATE issue_rules SET active = \(active), updated_at = \(clock.now())
            WHERE id = \(id) AND (\(caller.role == .hqAdmin) OR dealer_id = \(caller.dealerID ?? "")) RETURNING \(unescaped: IssueRules.columns)
            """,
            logger: logger
        )
        guard let row = rows.first else { throw ProblemDetails.notFound("No such rule.") }
        return try IssueRules.rule(row)
    }
}

/// `POST /api/v1/coupon-rules`.
struct RuleRequest: ValidatedRequest, Sendable {
    let eventType: String
    let templateId: UUID
    let tier: String?

    func validate() -> [FieldProblem] {
        var problems: [FieldProblem] = []
        if !IssueRules.events.contains(eventType) {
            problems.append(.init(field: "eventType", message: "must be one of \(IssueRules.events.joined(separator: ", "))"))
        }
        if let tier {
            problems += validateCode(tier, field: "tier")
            if eventType != TierChanged.eventType { problems.append(.init(field: "tier", message: "applies to \(TierChanged.eventType) alone")) }
        }
        return problems
    }
}

/// `PUT /api/v1/coupon-rules/{id}`.
struct RuleSwitch: ValidatedRequest, Sendable {
    let active: Bool
    func validate() -> [FieldProblem] { [] }
}
