import AftercareContracts
import AftercareRuntime
import Foundation
import Hummingbird

/// A booking as members and staff see it.
struct BookingView: ResponseCodable, Sendable, Equatable {
    let id: UUID
    let memberId: String
    let storeId: String
    let serviceType: String
    let date: String
    let window: String
    let startsAt: Date
    let endsAt: Date
    let address: String
    let note: String?
    let couponCode: String?
    /// `awaiting_coupon`, `confirmed`, `refused`, `cancelled` or `expired`.
    let status: String
    let reason: String?
    let orderId: UUID?
    /// The visit this one follows up (one that could not be completed, or found nobody home).
    var followUpOf: UUID? = nil
}

/// `POST /api/v1/bookings`.
struct BookingRequest: ValidatedRequest, Sendable {
    /// Staff book for a member; a member books for themselves and may leave it out.
    let memberId: String?
    let serviceType: String
    let date: String
    let window: String
    let address: String
    let note: String?
    let couponCode: String?
    /// Staff raise a follow-up of an order that could not be completed or found nobody home.
    let followUpOf: String?

    static var multilineKeys: Set<String> { ["note", "address"] }

    var followUpOrder: UUID? { followUpOf.flatMap(EnvelopeReader.uuid) }

    func validate() -> [FieldProblem] {
        var problems = validateCode(serviceType, field: "serviceType")
        if let memberId, memberId.isEmpty || memberId.count > 64 { problems.append(.init(field: "memberId", message: "must be a member id")) }
        if ISO8601.day(date) == nil { problems.append(.init(field: "date", message: "must be a date, YYYY-MM-DD")) }
        if SlotWindow(window) == nil { problems.append(.init(field: "window", message: "must be a window like 09:00-12:00")) }
        if address.allSatisfy(\.isWhitespace) || address.count > 300 {
            problems.append(.init(field: "address", message: "must be 1 to 300 characters"))
        }
        if let note, note.count > 1000 { problems.append(.init(field: "note", message: "must be at most 1000 characters")) }
        if let couponCode { problems += validateCode(couponCode, field: "couponCode") }
        if followUpOf != nil, followUpOrder == nil { problems.append(.init(field: "followUpOf", message: "must be an order id")) }
        return problems
    }
}

/// `POST /api/v1/bookings/{id}/reschedule`.
struct RescheduleRequest: ValidatedRequest, Sendable {
    let date: String
    let window: String

    func validate() -> [FieldProblem] {
        var problems: [FieldProblem] = []
        if ISO8601.day(date) == nil { problems.append(.init(field: "date", message: "must be a date, YYYY-MM-DD")) }
        if SlotWindow(window) == nil { problems.append(.init(field: "window", message: "must be a window like 09:00-12:00")) }
        return problems
    }
}

/// A reason given with a cancellation, a declined offer, a hand assignment.
struct ReasonRequest: ValidatedRequest, Sendable {
    let reason: String

    static var multilineKeys: Set<String> { ["reason"] }

    func validate() -> [FieldProblem] {
        reason.allSatisfy(\.isWhitespace) || reason.count > 500 ? [.init(field: "reason", message: "must be 1 to 500 characters")] : []
    }
}

/// One free slot.
struct FreeSlot: Codable, Sendable, Equatable {
    let date: String
    let window: String
    let startsAt: Date
    let endsAt: Date
    /// How many more bookings of this service the slot takes.
    let room: Int
}

struct FreeSlots: ResponseCodable, Sendable {
    let storeId: String
    let serviceType: String
    let slots: [FreeSlot]
}
