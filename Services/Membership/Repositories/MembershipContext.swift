import AftercareMessaging
import AftercarePersistence
import Logging
import PostgresNIO

/// What the membership repositories share: the database, the outbox their events go
/// through, business time, and the loyalty rules.
struct MembershipContext: Sendable {
    let database: PostgresClient
    let outbox: Outbox
    let clock: any BusinessClock
    let calendar: PointsCalendar
    let pointsPerUnit: Double
    let logger: Logger

    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await database.transaction(logger: logger, body)
    }

    /// The tiers as configured now (HQ may change them through the API).
    func tierRules(on connection: PostgresConnection) async throws -> TierRules {
        var tiers: [Tier] = []
        let rows = try await connection.query("SELECT name, threshold_cents, multiplier::float8 FROM tiers ORDER BY threshold_cents", logger: logger)
        for try await (name, threshold, multiplier) in rows.decode((String, Int64, Double).self) {
            tiers.append(Tier(name: name, thresholdCents: threshold, multiplier: multiplier))
        }
        return TierRules(tiers: tiers, pointsPerUnit: pointsPerUnit)
    }
}

/// Who a member belongs to: enough to decide scope.
struct MemberPlacement: Sendable, Equatable {
    let id: UUID
    let guideId: String?
    let storeId: String
    let dealerId: String
}

import Foundation
