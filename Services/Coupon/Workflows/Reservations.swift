import AftercareContracts
import AftercareMessaging
import AftercarePersistence
import Foundation
import Logging
import PostgresNIO

/// A free service coupon paying for a booked visit, driven by dispatch's events: reserved for
/// the booking (or refused, with the reason), consumed when the visit is completed, released
/// when the booking is cancelled or refused, nobody was home, or the visit could not be
/// completed. A coupon that expires while reserved is honoured for that visit. A redelivered
/// or repeated event changes nothing: each step starts from the coupon's locked state.
struct Reservations: Sendable {
    let coupons: Coupons
    let outbox: Outbox
    let logger: Logger

    func bookingRequested(_ booking: BookingRequested, on connection: PostgresConnection) async throws {
        guard let code = booking.couponCode else { return }
        let reading = CouponCode.read(code)
        guard case .wellFormed(let normalised) = reading, let coupon = try await coupons.load(normalised, lock: true, on: connection) else {
            let reason = reading == .mistyped ? "the coupon code is mistyped" : "no such coupon"
            try await refuse(booking, code: code, reason: reason, on: connection)
            return
        }
        if coupon.status == .reserved, coupon.reservedFor == booking.bookingId {
            try await answerReserved(booking, code: coupon.code, on: connection)  // asked again: the same answer
            return
        }
        if let reason = refusal(of: coupon, for: booking) {
            try await coupons.note(
                coupon,
                CouponReservationRefused.eventType,
                actor: booking.actorId,
                storeId: booking.storeId,
                bookingId: booking.bookingId,
                detail: reason,
                on: connection
            )
            try await refuse(booking, code: coupon.code, reason: reason, on: connection)
            return
        }
        try await coupons.set(
            coupon,
            to: .reserved,
            reservedFor: booking.bookingId,
            noting: CouponReserved.eventType,
            actor: booking.actorId,
            storeId: booking.storeId,
            bookingId: booking.bookingId,
            on: connection
        )
        try await answerReserved(booking, code: coupon.code, on: connection)
    }

    /// Why this coupon cannot pay for this booking, in words the member reads; nil when it can.
    func refusal(of coupon: Coupons.Coupon, for booking: BookingRequested) -> String? {
        if coupon.memberId != booking.memberId { return "the coupon belongs to another member" }
        guard coupon.terms.kind == .freeService else { return "the coupon is not for a free service visit" }
        if coupon.terms.serviceType != booking.serviceType {
            return "the coupon is for \(coupon.terms.serviceType ?? "another service"), not \(booking.serviceType)"
        }
        switch coupon.status {
        case .reserved: return "the coupon is reserved for another booking"
        case .redeemed, .consumed: return "the coupon has already been used"
        case .expired: return "the coupon expired on \(coupon.validUntil.formatted(.iso8601))"
        case .active: break
        }
        if coupons.clock.now() < coupon.validFrom { return "the coupon is valid from \(coupon.validFrom.formatted(.iso8601))" }
        if !coupon.terms.honours(storeId: booking.storeId, dealerId: booking.dealerId) { return "the coupon is not honoured at this store" }
        return nil
    }

    /// The visit was completed: its coupon is used (even if it expired meanwhile).
    func orderCompleted(_ order: ServiceOrderCompleted, on connection: PostgresConnection) async throws {
        guard let bookingId = order.bookingId, let coupon = try await coupons.reserved(for: bookingId, on: connection) else { return }
        try await coupons.change(
            coupon,
            to: .consumed,
            reservedFor: bookingId,
            as: CouponConsumedKind.self,
            actor: "dispatch",
            storeId: order.storeId,
            bookingId: bookingId,
            detail: "order \(order.orderId)",
            on: connection
        )
    }

    /// The booking will not use it: the coupon is the member's again (or expired, if its
    /// validity ended while it was held).
    func release(bookingId: UUID, storeId: String, why: String, on connection: PostgresConnection) async throws {
        guard let coupon = try await coupons.reserved(for: bookingId, on: connection) else { return }
        let status: Coupons.Status = coupon.validUntil < coupons.clock.now() ? .expired : .active
        try await coupons.change(
            coupon,
            to: status,
            as: CouponReleasedKind.self,
            actor: "dispatch",
            storeId: storeId,
            bookingId: bookingId,
            detail: why,
            on: connection
        )
    }

    private func answerReserved(_ booking: BookingRequested, code: String, on connection: PostgresConnection) async throws {
        // The code as the booking wrote it: dispatch matches its answer by it.
        let answer = CouponReserved(bookingId: booking.bookingId, couponCode: booking.couponCode ?? code, memberId: booking.memberId)
        try await outbox.record(answer, aggregateID: "coupon-\(code)", on: connection)
    }

    private func refuse(_ booking: BookingRequested, code: String, reason: String, on connection: PostgresConnection) async throws {
        let answer = CouponReservationRefused(
            bookingId: booking.bookingId,
            couponCode: booking.couponCode ?? code,
            memberId: booking.memberId,
            reason: reason
        )
        try await outbox.record(answer, aggregateID: "booking-\(booking.bookingId)", on: connection)
    }
}
