import Foundation

/// The coupon service's answer to `dispatch.booking.requested` with a coupon code: the
/// coupon is held for that booking until the order completes (consumed) or the booking is
/// cancelled, nobody was home, or the visit could not be completed (released).
public struct CouponReserved: EventPayload, Equatable {
    public static let eventType = "coupon.reservation.made"
    public let bookingId: UUID
    public let couponCode: String
    public let memberId: String

    public init(bookingId: UUID, couponCode: String, memberId: String) {
        self.bookingId = bookingId
        self.couponCode = couponCode
        self.memberId = memberId
    }

    public func validate() throws(EventValidationError) {
        try requireID(couponCode, "couponCode")
        try requireID(memberId, "memberId")
    }
}

/// The coupon cannot pay for the booking: wrong service type, expired, already used,
/// reserved for another booking, or not this member's. Dispatch refuses the booking with
/// this reason.
public struct CouponReservationRefused: EventPayload, Equatable {
    public static let eventType = "coupon.reservation.refused"
    public let bookingId: UUID
    public let couponCode: String
    public let memberId: String
    public let reason: String

    public init(bookingId: UUID, couponCode: String, memberId: String, reason: String) {
        self.bookingId = bookingId
        self.couponCode = couponCode
        self.memberId = memberId
        self.reason = reason
    }

    public func validate() throws(EventValidationError) {
        try requireID(couponCode, "couponCode")
        try requireID(reason, "reason")
    }
}
