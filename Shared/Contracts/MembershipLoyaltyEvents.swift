import Foundation

/// A member's profile changed (name, birthday, consents, tags, addresses). Carries the
/// current contact and consents, so projections simply overwrite.
public struct MemberUpdated: EventPayload, Equatable {
    public static let eventType = "membership.member.updated"
    public let memberId: String
    public let phone: String?
    public let name: String?
    public let serviceMessagesConsent: Bool
    public let marketingConsent: Bool
    public let tags: [String]
    public let changedFields: [String]

    public init(
        memberId: String,
        phone: String?,
        name: String?,
        serviceMessagesConsent: Bool,
        marketingConsent: Bool,
        tags: [String],
        changedFields: [String]
    ) {
        self.memberId = memberId
        self.phone = phone
        self.name = name
        self.serviceMessagesConsent = serviceMessagesConsent
        self.marketingConsent = marketingConsent
        self.tags = tags
        self.changedFields = changedFields
    }

    public func validate() throws(EventValidationError) {
        try requireID(memberId, "memberId")
    }
}

/// One line of a purchase: what was bought, in which category (mattress, bed_frame, pillow…).
public struct PurchaseItem: Codable, Sendable, Equatable {
    public let sku: String
    public let category: String
    public let quantity: Int
    public let amountCents: Int64

    public init(sku: String, category: String, quantity: Int, amountCents: Int64) {
        self.sku = sku
        self.category = category
        self.quantity = quantity
        self.amountCents = amountCents
    }
}

/// A store recorded a member's purchase. Amounts are in minor units (fen).
public struct PurchaseRecorded: EventPayload, Equatable {
    public static let eventType = "membership.purchase.recorded"
    public let orderId: String
    public let memberId: String
    public let storeId: String
    public let dealerId: String
    public let guideId: String?
    public let amountCents: Int64
    public let items: [PurchaseItem]
    public let purchasedAt: Date
    public let pointsEarned: Int64

    public init(
        orderId: String,
        memberId: String,
        storeId: String,
        dealerId: String,
        guideId: String?,
        amountCents: Int64,
        items: [PurchaseItem],
        purchasedAt: Date,
        pointsEarned: Int64
    ) {
        self.orderId = orderId
        self.memberId = memberId
        self.storeId = storeId
        self.dealerId = dealerId
        self.guideId = guideId
        self.amountCents = amountCents
        self.items = items
        self.purchasedAt = purchasedAt
        self.pointsEarned = pointsEarned
    }

    public func validate() throws(EventValidationError) {
        try requireID(orderId, "orderId")
        try requireID(memberId, "memberId")
        if amountCents < 0 { throw EventValidationError("amountCents must not be negative") }
    }
}

/// A purchase was refunded; the points it earned were taken back (as far as the balance allowed).
public struct PurchaseRefunded: EventPayload, Equatable {
    public static let eventType = "membership.purchase.refunded"
    public let orderId: String
    public let memberId: String
    public let amountCents: Int64
    public let pointsReversed: Int64
    /// Points the purchase earned that had already been spent and could not be taken back.
    public let pointsUnrecovered: Int64

    public init(orderId: String, memberId: String, amountCents: Int64, pointsReversed: Int64, pointsUnrecovered: Int64) {
        self.orderId = orderId
        self.memberId = memberId
        self.amountCents = amountCents
        self.pointsReversed = pointsReversed
        self.pointsUnrecovered = pointsUnrecovered
    }

    public func validate() throws(EventValidationError) {
        try requireID(orderId, "orderId")
        try requireID(memberId, "memberId")
    }
}

/// Kinds of points ledger entries.
public enum PointsEntryKind: String, Codable, Sendable, CaseIterable {
    case earn, redeem, expire, adjust, reverse
}

/// The balance moved by an earn, redeem, adjust or reverse; `delta` is signed. An expiry at
/// the clearing is `PointsExpired` instead, which carries the balance as well: one event for
/// each ledger entry.
public struct PointsChanged: EventPayload, Equatable {
    public static let eventType = "membership.points.changed"
    public let memberId: String
    public let kind: PointsEntryKind
    public let delta: Int64
    public let balance: Int64
    public let reference: String?

    public init(memberId: String, kind: PointsEntryKind, delta: Int64, balance: Int64, reference: String?) {
        self.memberId = memberId
        self.kind = kind
        self.delta = delta
        self.balance = balance
        self.reference = reference
    }

    public func validate() throws(EventValidationError) {
        try requireID(memberId, "memberId")
        if balance < 0 { throw EventValidationError("balance must not be negative") }
        if kind == .expire { throw EventValidationError("an expiry is membership.points.expired") }
    }
}

/// Points will expire at the next clearing unless spent: sent 30, 7 and 3 days before.
public struct PointsExpiring: EventPayload, Equatable {
    public static let eventType = "membership.points.expiring"
    public let memberId: String
    public let points: Int64
    public let expiresAt: Date
    public let daysBefore: Int

    public init(memberId: String, points: Int64, expiresAt: Date, daysBefore: Int) {
        self.memberId = memberId
        self.points = points
        self.expiresAt = expiresAt
        self.daysBefore = daysBefore
    }

    public func validate() throws(EventValidationError) {
        try requireID(memberId, "memberId")
        if points <= 0 { throw EventValidationError("points must be positive") }
    }
}

/// The clearing took unspent points away: the ledger's `expire` entry as an event, with the
/// balance after it (there is no `PointsChanged` for an expiry).
public struct PointsExpired: EventPayload, Equatable {
    public static let eventType = "membership.points.expired"
    public let memberId: String
    public let points: Int64
    public let balance: Int64
    public let clearedAt: Date

    public init(memberId: String, points: Int64, balance: Int64, clearedAt: Date) {
        self.memberId = memberId
        self.points = points
        self.balance = balance
        self.clearedAt = clearedAt
    }

    public func validate() throws(EventValidationError) {
        try requireID(memberId, "memberId")
    }
}

/// A member moved tier: up as soon as a purchase qualified, down only at the yearly review.
public struct TierChanged: EventPayload, Equatable {
    public static let eventType = "membership.tier.changed"
    public let memberId: String
    public let fromTier: String
    public let toTier: String
    /// `purchase_qualified` or `yearly_review`.
    public let reason: String
    public let qualifyingSpendCents: Int64

    public init(memberId: String, fromTier: String, toTier: String, reason: String, qualifyingSpendCents: Int64) {
        self.memberId = memberId
        self.fromTier = fromTier
        self.toTier = toTier
        self.reason = reason
        self.qualifyingSpendCents = qualifyingSpendCents
    }

    public func validate() throws(EventValidationError) {
        try requireID(memberId, "memberId")
        if fromTier == toTier { throw EventValidationError("a tier change must change the tier") }
    }
}

/// The first day of the member's birthday month (greeting and gift can follow).
public struct BirthdayMonthStarted: EventPayload, Equatable {
    public static let eventType = "membership.birthday.month_started"
    public let memberId: String
    public let year: Int
    public let month: Int
    public let day: Int

    public init(memberId: String, year: Int, month: Int, day: Int) {
        self.memberId = memberId
        self.year = year
        self.month = month
        self.day = day
    }

    public func validate() throws(EventValidationError) {
        try requireID(memberId, "memberId")
        try requireCalendarDay(year: year, month: month, day: day)
    }
}

/// The member's birthday, today.
public struct BirthdayToday: EventPayload, Equatable {
    public static let eventType = "membership.birthday.today"
    public let memberId: String
    public let year: Int
    public let month: Int
    public let day: Int

    public init(memberId: String, year: Int, month: Int, day: Int) {
        self.memberId = memberId
        self.year = year
        self.month = month
        self.day = day
    }

    public func validate() throws(EventValidationError) {
        try requireID(memberId, "memberId")
        try requireCalendarDay(year: year, month: month, day: day)
    }
}

/// A day the calendar has, in the years members live in.
func requireCalendarDay(year: Int, month: Int, day: Int) throws(EventValidationError) {
    guard (1900...2200).contains(year), (1...12).contains(month), (1...31).contains(day) else {
        throw EventValidationError("year, month and day must name a day between 1900 and 2200")
    }
}
