import AftercareContracts
import AftercareMessaging
import AftercarePersistence
import AftercareRuntime
import Foundation
import Hummingbird
import Logging
import PostgresNIO

/// Coupon templates: HQ's brand-wide ones and each dealer's own. Issued coupons copy the
/// terms, so a change or a pause never touches a coupon already out.
struct Templates: Sendable {
    let database: PostgresClient
    let outbox: Outbox
    let clock: any BusinessClock
    let logger: Logger

    struct View: ResponseCodable, Sendable, Equatable {
        let id: UUID
        /// Nil for a brand-wide template.
        let dealerId: String?
        let definition: TemplateDefinition
        let issued: Int
        /// What the budget still allows; nil without a budget.
        let remaining: Int?
        let paused: Bool
        let createdBy: String
        let updatedAt: Date
    }

    struct Listing: ResponseCodable, Sendable {
        let templates: [View]
    }

    static let columns = "id, dealer_id, definition::text, issued, paused, created_by, updated_at"

    /// HQ's templates are brand-wide; a dealer admin's belong to their dealer and are honoured
    /// only there.
    func create(_ definition: TemplateDefinition, by caller: Principal) async throws -> View {
        let dealerId = caller.role == .hqAdmin ? nil : caller.dealerID
        guard Access.managesTemplate(caller, dealerId: dealerId) else {
            throw ProblemDetails.forbidden("Only HQ and dealer admins create templates.")
        }
        try Self.checkScope(definition, dealerId: dealerId)
        let now = clock.now()
        let id = UUID()
        return try await database.transaction(logger: logger) { connection in
            let rows = try await connection.query(
                """
                INSERT INTO coupon_templates (id, dealer_id, definition, quantity, created_by, created_at, updated_at)
                VALUES (\(id), \(dealerId), \(try Self.json(definition))::jsonb, \(definition.quantity), \(caller.subject), \(now), \(now))
                RETURNING \(unescaped: Self.columns)
                """,
                logger: logger
            ).collect()
            guard let row = rows.first else { throw ProblemDetails.notFound("No such template.") }
            let view = try Self.view(row)
            try await record(TemplateCreatedKind.self, view, by: caller, on: connection)
            return view
        }
    }

    /// A new definition (the budget may not drop below what was already issued), or a pause.
    func update(_ id: UUID, definition: TemplateDefinition?, paused: Bool?, by caller: Principal) async throws -> View {
        try await database.transaction(logger: logger) { connection in
            let current = try await locked(id, for: caller, on: connection)
            guard Access.managesTemplate(caller, dealerId: current.dealerId) else { throw ProblemDetails.notFound("No such template.") }
            if let definition {
                try Self.checkScope(definition, dealerId: current.dealerId)
                if let quantity = definition.quantity, quantity < current.issued {
                    throw ProblemDetails.validation(field: "quantity", "must be at least the \(current.issued) already issued")
                }
            }
            let next = definition ?? current.definition
            let rows = try await connection.query(
                """
                UPDATE coupon_templates SET definition = \(try Self.json(next))::jsonb, quantity = \(next.quantity),
                    paused = \(paused ?? current.paused), updated_at = \(clock.now())
                WHERE id = \(id) RETURNING \(unescaped: Self.columns)
                """,
                logger: logger
            ).collect()
            guard let row = rows.first else { throw ProblemDetails.notFound("No such template.") }
            let view = try Self.view(row)
            try await record(TemplateChangedKind.self, view, by: caller, on: connection)
            return view
        }
    }

    func list(for caller: Principal) async throws -> Listing {
        let dealer = caller.dealerID ?? ""
        let all = caller.role == .hqAdmin
        let rows = try await database.rows(
            """
            SELECT \(unescaped: Self.columns) FROM coupon_templates
            WHERE \(all) OR dealer_id IS NULL OR dealer_id = \(dealer) ORDER BY created_at DESC, id LIMIT 500
            """,
            logger: logger
        )
        return Listing(templates: try rows.map(Self.view))
    }

    func show(_ id: UUID, for caller: Principal) async throws -> View {
        let rows = try await database.rows("SELECT \(unescaped: Self.columns) FROM coupon_templates WHERE id = \(id)", logger: logger)
        guard let view = try rows.first.map(Self.view), Access.seesTemplate(caller, dealerId: view.dealerId) else {
            throw ProblemDetails.notFound("No such template.")
        }
        return view
    }

    private func locked(_ id: UUID, for caller: Principal, on connection: PostgresConnection) async throws -> View {
        let rows = try await connection.query("SELECT \(unescaped: Self.columns) FROM coupon_templates WHERE id = \(id) FOR UPDATE", logger: logger)
        guard let view = try await rows.collect().first.map(Self.view), Access.seesTemplate(caller, dealerId: view.dealerId) else {
            throw ProblemDetails.notFound("No such template.")
        }
        return view
    }

    private func record<Kind: CouponChangeKind>(_ kind: Kind.Type, _ view: View, by caller: Principal, on connection: PostgresConnection) async throws
    {
        let change = CouponTemplateChange<Kind>(
            templateId: view.id,
            dealerId: view.dealerId,
            name: view.definition.name,
            kind: view.definition.kind,
            paused: view.paused,
            actorId: caller.subject
        )
        try await outbox.record(change, aggregateID: "template-\(view.id)", on: connection)
    }

    /// A dealer's own template names no other dealer.
    private static func checkScope(_ definition: TemplateDefinition, dealerId: String?) throws {
        guard let dealerId else { return }
        if let index = definition.dealers.firstIndex(where: { $0 != dealerId }) {
            throw ProblemDetails.validation(field: "dealers[\(index)]", "a dealer's template is honoured by that dealer alone")
        }
    }

    static func json(_ definition: TemplateDefinition) throws -> String {
        String(decoding: try JSONEncoder().encode(definition), as: UTF8.self)
    }

    static func view(_ row: PostgresRow) throws -> View {
        let (id, dealer, definition, issued, paused, createdBy, updatedAt) = try row.decode((UUID, String?, String, Int, Bool, String, Date).self)
        let parsed = try JSONDecoder().decode(TemplateDefinition.self, from: Data(definition.utf8))
        return View(
            id: id,
            dealerId: dealer,
            definition: parsed,
            issued: issued,
            remaining: parsed.quantity.map { max(0, $0 - issued) },
            paused: paused,
            createdBy: createdBy,
            updatedAt: updatedAt
        )
    }
}

/// `PUT /api/v1/coupon-templates/{id}`: a new definition, a pause or a resume, or both.
struct TemplateUpdate: ValidatedRequest, Sendable {
    let definition: TemplateDefinition?
    let paused: Bool?

    func validate() -> [FieldProblem] {
        if definition == nil && paused == nil { return [.init(field: "definition", message: "give a definition, paused, or both")] }
        return definition?.validate().map { .init(field: "definition.\($0.field)", message: $0.message) } ?? []
    }
}
