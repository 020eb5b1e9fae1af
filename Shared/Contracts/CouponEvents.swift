import Foundation

/// One kind of change to an issued coupon (its event type).
public protocol CouponChangeKind: Sendable {
    static var eventType: String { get }
}

/// A change to one issued coupon: issued (with who issued it and why: gift, rule, campaign,
/// event), redeemed at a desk, redemption undone, released from a booking, consumed into a
/// service order, expiring soon, expired. `storeId` is where it happened (the redeeming
/// store), or the member's store.
public struct CouponChange<Kind: CouponChangeKind>: EventPayload, Equatable {
    public static var eventType: String { Kind.eventType }
    public let code: String
    public let templateId: UUID
    /// `amount_off`, `percent_off`, `gift` or `free_service`.
    public let kind: String
    public let title: String
    public let memberId: String
    public let storeId: String
    public let dealerId: String
    public let validUntil: Date
    public let bookingId: UUID?
    public let actorId: String
    public let reason: String?

    public init(
        code: String,
        templateId: UUID,
        kind: String,
        title: String,
        memberId: String,
        storeId: String,
        dealerId: String,
        validUntil: Date,
        bookingId: UUID? = nil,
        actorId: String,
        reason: String?
    ) {
        self.code = code
        self.templateId = templateId
        self.kind = kind
        self.title = title
        self.memberId = memberId
        self.storeId = storeId
        self.dealerId = dealerId
        self.validUntil = validUntil
        self.bookingId = bookingId
        self.actorId = actorId
        self.reason = reason
    }

    public func validate() throws(EventValidationError) {
        try requireID(code, "code")
        try requireID(memberId, "memberId")
        try requireID(storeId, "storeId")
        try requireID(dealerId, "dealerId")
    }
}

public enum CouponIssuedKind: CouponChangeKind { public static let eventType = "coupon.coupon.issued" }
public enum CouponRedeemedKind: CouponChangeKind { public static let eventType = "coupon.coupon.redeemed" }
public enum CouponRedemptionUndoneKind: CouponChangeKind { public static let eventType = "coupon.coupon.redemption_undone" }
public enum CouponReleasedKind: CouponChangeKind { public static let eventType = "coupon.coupon.released" }
public enum CouponConsumedKind: CouponChangeKind { public static let eventType = "coupon.coupon.consumed" }
public enum CouponExpiringKind: CouponChangeKind { public static let eventType = "coupon.coupon.expiring" }
public enum CouponExpiredKind: CouponChangeKind { public static let eventType = "coupon.coupon.expired" }

public typealias CouponIssued = CouponChange<CouponIssuedKind>
public typealias CouponRedeemed = CouponChange<CouponRedeemedKind>
public typealias CouponRedemptionUndone = CouponChange<CouponRedemptionUndoneKind>
public typealias CouponReleased = CouponChange<CouponReleasedKind>
public typealias CouponConsumed = CouponChange<CouponConsumedKind>
public typealias CouponExpiring = CouponChange<CouponExpiringKind>
public typealias CouponExpired = CouponChange<CouponExpiredKind>

/// A coupon template was created or changed (coupons already issued keep their terms).
public struct CouponTemplateChange<Kind: CouponChangeKind>: EventPayload, Equatable {
    public static var eventType: String { Kind.eventType }
    public let templateId: UUID
    /// Nil for a brand-wide template.
    public let dealerId: String?
    public let name: String
    public let kind: String
    public let paused: Bool
    public let actorId: String

    public init(templateId: UUID, dealerId: String?, name: String, kind: String, paused: Bool, actorId: String) {
        self.templateId = templateId
        self.dealerId = dealerId
        self.name = name
        self.kind = kind
        self.paused = paused
        self.actorId = actorId
    }

    public func validate() throws(EventValidationError) {
        if let dealerId { try requireID(dealerId, "dealerId") }
        try requireID(actorId, "actorId")
    }
}

public enum TemplateCreatedKind: CouponChangeKind { public static let eventType = "coupon.template.created" }
public enum TemplateChangedKind: CouponChangeKind { public static let eventType = "coupon.template.changed" }

public typealias CouponTemplateCreated = CouponTemplateChange<TemplateCreatedKind>
public typealias CouponTemplateChanged = CouponTemplateChange<TemplateChangedKind>
