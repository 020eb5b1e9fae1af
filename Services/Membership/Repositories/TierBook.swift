import AftercarePersistence
import AftercareRuntime
import Foundation
import Hummingbird
import PostgresNIO

/// The tiers HQ configures, and where a member stands on them.
struct TierBook: Sendable {
    let dependencies: MembershipDependencies

    /// A member's tier, the spend that keeps it, and what the next tier still needs.
    struct Progress: ResponseCodable, Sendable {
        let memberId: UUID
        let tier: String
        let multiplier: Double
        let qualifyingSpendCents: Int64
        let nextTier: String?
        let remainingCents: Int64?
    }

    /// The tiers as configured now (HQ may change them through the API).
    func rules(on connection: PostgresConnection) async throws -> TierRules {
        var tiers: [Tier] = []
        let rows = try await connection.query(
            "SELECT name, threshold_cents, multiplier::float8 FROM tiers ORDER BY threshold_cents",
            logger: dependencies.logger
        )
        for try await (name, threshold, multiplier) in rows.decode((String, Int64, Double).self) {
            tiers.append(Tier(name: name, thresholdCents: threshold, multiplier: multiplier))
        }
        return TierRules(tiers: tiers, pointsPerUnit: dependencies.pointsPerUnit)
    }

    /// The configured tiers, lowest first.
    func current() async throws -> [Tier] {
        try await dependencies.transaction { try await rules(on: $0).tiers }
    }

    /// Replaces every tier and returns them as stored, lowest first.
    func replace(with tiers: [Tier]) async throws -> [Tier] {
        try await dependencies.transaction { connection in
            // One replacement at a time: a second one's DELETE would not see the first's new rows.
            try await TransactionLock.hold("tiers", in: .tierTable, on: connection, logger: dependencies.logger)
            // Members keep their tier name; a removed tier's members are re-placed at the yearly review.
            try await connection.query("DELETE FROM tiers", logger: dependencies.logger)
            for tier in tiers {
                try await connection.query(
                    """
                    INSERT INTO tiers (name, threshold_cents, multiplier)
                    VALUES (\(tier.name), \(tier.thresholdCents), \(tier.multiplier)::numeric)
                    """,
                    logger: dependencies.logger
                )
            }
            return try await rules(on: connection).tiers
        }
    }

    /// The member's tier progress, if the caller may see the member.
    func progress(of member: UUID, by caller: Principal) async throws -> Progress {
        try await dependencies.transaction { connection in
            let view = try await MemberBook(dependencies: dependencies).visible(member, to: caller, on: connection).view
            let rules = try await self.rules(on: connection)
            let spend = try await Purchases(dependencies: dependencies).qualifyingSpend(member, on: connection)
            let progress = rules.progress(current: view.tier, spendCents: spend)
            return Progress(
                memberId: member,
                tier: view.tier,
                multiplier: rules.tier(named: view.tier)?.multiplier ?? 1,
                qualifyingSpendCents: spend,
                nextTier: progress?.next.name,
                remainingCents: progress?.remainingCents
            )
        }
    }
}

extension TransactionLock.Space {
    /// The tier table, replaced as a whole.
    static let tierTable = Self(44)
}
