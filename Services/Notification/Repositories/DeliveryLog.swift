import AftercareContracts
import AftercareRuntime
import Foundation
import Logging
import PostgresNIO

/// A delivery as staff see it when they look up what was sent to whom.
struct DeliveryView: Codable, Sendable, Equatable {
    let id: UUID
    let eventId: UUID
    let eventType: String
    let ruleId: String
    let recipientId: String
    let recipientKind: String
    let storeId: String?
    let channel: String
    let category: String
    let locale: String
    let body: String
    let status: String
    let reason: String?
    let attempts: Int
    let provider: String?
    let dueAt: Date
    let createdAt: Date
    let sentAt: Date?
    let deliveredAt: Date?
    let readAt: Date?
}

/// One page of deliveries, newest first; `nextCursor` is absent on the last page.
struct DeliveryPage: Codable, Sendable {
    let deliveries: [DeliveryView]
    let nextCursor: String?
}

/// Reading deliveries back: the staff search, the inbox, receipts and read marks.
struct DeliveryLog: Sendable {
    let logger: Logger

    struct Filter: Sendable {
        var recipientId: String?
        var eventId: UUID?
        var status: String?
        var channel: String?
        var storeId: String?
        var dealerId: String?
        var cursor: Int64?
        var limit = 50
    }

    static let statuses = ["pending", "deferred", "sent", "failed", "skipped"]

    private static let columns = """
        seq, id, event_id, event_type, rule_id, recipient_id, recipient_kind, store_id, channel, category, locale, body, status, reason,
        attempts, provider, due_at, created_at, sent_at, delivered_at, read_at
        """

    func search(_ filter: Filter, on connection: PostgresConnection) async throws -> DeliveryPage {
        let rows = try await connection.query(
            """
            SELECT \(unescaped: Self.columns) FROM deliveries
            WHERE (\(filter.recipientId)::text IS NULL OR recipient_id = \(filter.recipientId))
              AND (\(filter.eventId)::uuid IS NULL OR event_id = \(filter.eventId))
              AND (\(filter.status)::text IS NULL OR status = \(filter.status))
              AND (\(filter.channel)::text IS NULL OR channel = \(filter.channel))
              AND (\(filter.storeId)::text IS NULL OR store_id = \(filter.storeId))
              AND (\(filter.dealerId)::text IS NULL OR dealer_id = \(filter.dealerId))
              AND (\(filter.cursor)::bigint IS NULL OR seq < \(filter.cursor))
            ORDER BY seq DESC LIMIT \(filter.limit + 1)
            """,
            logger: logger
        )
        return try await Self.page(rows, limit: filter.limit)
    }

    /// A recipient's in-app messages that have been handed over, newest first.
    func inbox(of recipientId: String, unreadOnly: Bool, cursor: Int64?, limit: Int, on connection: PostgresConnection) async throws -> DeliveryPage {
        let rows = try await connection.query(
            """
            SELECT \(unescaped: Self.columns) FROM deliveries
            WHERE recipient_id = \(recipientId) AND channel = 'in_app' AND status = 'sent'
              AND (NOT \(unreadOnly) OR read_at IS NULL) AND (\(cursor)::bigint IS NULL OR seq < \(cursor))
            ORDER BY seq DESC LIMIT \(limit + 1)
            """,
            logger: logger
        )
        return try await Self.page(rows, limit: limit)
    }

    /// Marks one of the recipient's own inbox messages read (again is harmless); false when
    /// they have no such message.
    func markRead(_ id: UUID, by recipientId: String, at now: Date, on connection: PostgresConnection) async throws -> Bool {
        let rows = try await connection.query(
            """
            UPDATE deliveries SET read_at = coalesce(read_at, \(now))
            WHERE id = \(id) AND recipient_id = \(recipientId) AND channel = 'in_app' AND status = 'sent' RETURNING 1
            """,
            logger: logger
        )
        for try await _ in rows { return true }
        return false
    }

    /// A provider confirmed the handset received the message.
    func delivered(_ id: UUID, at now: Date, on connection: PostgresConnection) async throws -> Bool {
        let rows = try await connection.query(
            "UPDATE deliveries SET delivered_at = coalesce(delivered_at, \(now)) WHERE id = \(id) AND status = 'sent' RETURNING 1",
            logger: logger
        )
        for try await _ in rows { return true }
        return false
    }

    func attempts(of id: UUID, on connection: PostgresConnection) async throws -> [Attempt] {
        let rows = try await connection.query(
            "SELECT attempt, provider, at, outcome, status_code, detail, duration_ms FROM delivery_attempts WHERE delivery_id = \(id) ORDER BY id",
            logger: logger
        )
        var result: [Attempt] = []
        for try await (attempt, provider, at, outcome, code, detail, duration) in rows.decode((Int, String, Date, String, Int?, String?, Int).self) {
            result.append(
                Attempt(attempt: attempt, provider: provider, at: at, outcome: outcome, statusCode: code, detail: detail, durationMs: duration)
            )
        }
        return result
    }

    struct Attempt: Codable, Sendable, Equatable {
        let attempt: Int
        let provider: String
        let at: Date
        let outcome: String
        let statusCode: Int?
        let detail: String?
        let durationMs: Int
    }

    func delivery(_ id: UUID, on connection: PostgresConnection) async throws -> (view: DeliveryView, dealerId: String?)? {
        let rows = try await connection.query("SELECT \(unescaped: Self.columns), dealer_id FROM deliveries WHERE id = \(id)", logger: logger)
        for try await row in rows {
            let dealer = try row.makeRandomAccess()[21].decode(String?.self)
            return (try Self.decode(row).1, dealer)
        }
        return nil
    }

    /// Up to `limit` deliveries from rows fetched with one extra, which tells whether a next
    /// page exists; its cursor is the last shown row's sequence number.
    private static func page(_ rows: PostgresRowSequence, limit: Int) async throws -> DeliveryPage {
        var fetched: [(Int64, DeliveryView)] = []
        for try await row in rows { fetched.append(try decode(row)) }
        let shown = fetched.prefix(limit)
        return DeliveryPage(deliveries: shown.map(\.1), nextCursor: fetched.count > limit ? shown.last.map { String($0.0) } : nil)
    }

    private static func decode(_ row: PostgresRow) throws -> (Int64, DeliveryView) {
        let cells = row.makeRandomAccess()
        func cell<T: PostgresDecodable>(_ index: Int, _ type: T.Type = T.self) throws -> T { try cells[index].decode(T.self) }
        return (
            try cell(0),
            DeliveryView(
                id: try cell(1),
                eventId: try cell(2),
                eventType: try cell(3),
                ruleId: try cell(4),
                recipientId: try cell(5),
                recipientKind: try cell(6),
                storeId: try cell(7),
                channel: try cell(8),
                category: try cell(9),
                locale: try cell(10),
                body: try cell(11),
                status: try cell(12),
                reason: try cell(13),
                attempts: try cell(14),
                provider: try cell(15),
                dueAt: try cell(16),
                createdAt: try cell(17),
                sentAt: try cell(18),
                deliveredAt: try cell(19),
                readAt: try cell(20)
            )
        )
    }
}
