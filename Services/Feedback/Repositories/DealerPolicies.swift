import AftercareRuntime
import Foundation
import Hummingbird
import Logging
import PostgresNIO

/// Per-dealer escalation deadlines, set by HQ. A dealer without its own uses the service's
/// defaults; the five-minute promise itself is the brand's and the same for all.
struct DealerPolicies: Sendable {
    let defaults: EscalationPolicy
    let logger: Logger

    /// The deadlines in minutes, as the API reads and writes them.
    struct Deadlines: ResponseCodable, ValidatedRequest, Sendable, Equatable {
        let guideMinutes: Int
        let storeManagerMinutes: Int
        let dealerAdminMinutes: Int

        func validate() -> [FieldProblem] {
            [("guideMinutes", guideMinutes), ("storeManagerMinutes", storeManagerMinutes), ("dealerAdminMinutes", dealerAdminMinutes)]
                .filter { !(1...1440).contains($0.1) }
                .map { FieldProblem(field: $0.0, message: "must be 1 to 1440 minutes") }
        }
    }

    struct Stored: ResponseCodable, Sendable {
        let dealerId: String
        let deadlines: Deadlines
        /// False when the dealer has none of its own and these are the defaults.
        let custom: Bool
    }

    func policy(for dealerId: String, on connection: PostgresConnection) async throws -> EscalationPolicy {
        try await stored(dealerId, on: connection) ?? defaults
    }

    func read(_ dealerId: String, on connection: PostgresConnection) async throws -> Stored {
        let own = try await stored(dealerId, on: connection)
        return Stored(dealerId: dealerId, deadlines: Self.deadlines(own ?? defaults), custom: own != nil)
    }

    /// The dealer's own deadlines, nil when it has none.
    private func stored(_ dealerId: String, on connection: PostgresConnection) async throws -> EscalationPolicy? {
        let rows = try await connection.query(
            "SELECT guide_seconds, store_manager_seconds, dealer_admin_seconds FROM dealer_policies WHERE dealer_id = \(dealerId)",
            logger: logger
        )
        for try await (guide, manager, admin) in rows.decode((Int, Int, Int).self) {
            return policy(guideSeconds: guide, storeManagerSeconds: manager, dealerAdminSeconds: admin)
        }
        return nil
    }

    /// The dealer's own deadlines where it has them (read along with other rows), else the defaults.
    func policy(guideSeconds: Int?, storeManagerSeconds: Int?, dealerAdminSeconds: Int?) -> EscalationPolicy {
        var policy = defaults
        if let guideSeconds { policy.guide = TimeInterval(guideSeconds) }
        if let storeManagerSeconds { policy.storeManager = TimeInterval(storeManagerSeconds) }
        if let dealerAdminSeconds { policy.dealerAdmin = TimeInterval(dealerAdminSeconds) }
        return policy
    }

    /// Applies to tasks created or escalated from now on; running deadlines stay as they were set.
    func write(
        _ dealerId: String,
        _ deadlines: Deadlines,
        by caller: Principal,
        at now: Date,
        on connection: PostgresConnection
    ) async throws -> Stored {
        try await connection.query(
            """
            INSERT INTO dealer_policies (dealer_id, guide_seconds, store_manager_seconds, dealer_admin_seconds, updated_at, updated_by)
            VALUES (\(dealerId), \(deadlines.guideMinutes * 60), \(deadlines.storeManagerMinutes * 60), \(deadlines.dealerAdminMinutes * 60), \(now), \(caller.subject))
            ON CONFLICT (dealer_id) DO UPDATE SET guide_seconds = EXCLUDED.guide_seconds, store_manager_seconds = EXCLUDED.store_manager_seconds,
                dealer_admin_seconds = EXCLUDED.dealer_admin_seconds, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by
            """,
            logger: logger
        )
        return Stored(dealerId: dealerId, deadlines: deadlines, custom: true)
    }

    func reset(_ dealerId: String, on connection: PostgresConnection) async throws {
        try await connection.query("DELETE FROM dealer_policies WHERE dealer_id = \(dealerId)", logger: logger)
    }

    static func deadlines(_ policy: EscalationPolicy) -> Deadlines {
        Deadlines(
            guideMinutes: Int(policy.guide / 60),
            storeManagerMinutes: Int(policy.storeManager / 60),
            dealerAdminMinutes: Int(policy.dealerAdmin / 60)
        )
    }
}
