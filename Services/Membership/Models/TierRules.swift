/// A tier: reached when the rolling 12-month qualifying spend reaches its threshold; its
/// multiplier scales the points a purchase earns.
struct Tier: Codable, Sendable, Equatable {
    let name: String
    let thresholdCents: Int64
    let multiplier: Double
}

/// The configured tiers, lowest first. Upgrades happen as soon as a purchase qualifies;
/// downgrades only at the yearly review.
struct TierRules: Sendable, Equatable {
    let tiers: [Tier]
    /// Points per whole currency unit spent, before the tier's multiplier.
    let pointsPerUnit: Double

    init(tiers: [Tier], pointsPerUnit: Double) {
        self.tiers = tiers.sorted { $0.thresholdCents < $1.thresholdCents }
        self.pointsPerUnit = pointsPerUnit
    }

    var entryTier: Tier { tiers.first ?? Tier(name: "member", thresholdCents: 0, multiplier: 1) }

    func tier(named name: String) -> Tier? { tiers.first { $0.name == name } }

    /// The highest tier whose threshold the spend reaches.
    func qualifyingTier(spendCents: Int64) -> Tier {
        tiers.last { $0.thresholdCents <= spendCents } ?? entryTier
    }

    func rank(of name: String) -> Int { tiers.firstIndex { $0.name == name } ?? 0 }

    /// After a purchase: the qualifying tier if it is higher than the current one, else nil.
    func upgrade(from current: String, spendCents: Int64) -> Tier? {
        let qualifying = qualifyingTier(spendCents: spendCents)
        return rank(of: qualifying.name) > rank(of: current) ? qualifying : nil
    }

    /// At the yearly review: the qualifying tier if it is lower than the current one, else nil.
    func downgrade(from current: String, spendCents: Int64) -> Tier? {
        let qualifying = qualifyingTier(spendCents: spendCents)
        return rank(of: qualifying.name) < rank(of: current) ? qualifying : nil
    }

    /// Points for an amount in minor units (fen), rounded down: whole units only earn.
    func points(forCents cents: Int64, tier: String) -> Int64 {
        let multiplier = self.tier(named: tier)?.multiplier ?? 1
        let points = (Double(cents / 100) * pointsPerUnit * multiplier).rounded(.down)
        // Amounts are bounded where they come in; a conversion out of range would stop the process.
        return points.isFinite && points < 9.2e18 ? Int64(max(0, points)) : Int64.max
    }

    /// The next tier up and how much more spend it needs, or nil at the top.
    func progress(current: String, spendCents: Int64) -> (next: Tier, remainingCents: Int64)? {
        let index = rank(of: current)
        guard index + 1 < tiers.count else { return nil }
        let next = tiers[index + 1]
        return (next, max(0, next.thresholdCents - spendCents))
    }
}
