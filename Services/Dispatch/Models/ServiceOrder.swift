import Foundation

/// Where a service order stands. Seats are offered while it is `pending_dispatch` or
/// `offered`; it is `dispatched` when every seat accepted (or was assigned by hand).
enum OrderStatus: String, Codable, Sendable, CaseIterable {
    case pendingDispatch = "pending_dispatch"
    case offered
    case dispatched
    case enRoute = "en_route"
    case inProgress = "in_progress"
    case completed
    case cancelled
    case noAccess = "no_access"
    case cannotComplete = "cannot_complete"

    /// Seats can still be offered, answered, assigned or swapped.
    var isStaffing: Bool { [.pendingDispatch, .offered, .dispatched].contains(self) }
    /// The visit is over, one way or another.
    var isFinished: Bool { [.completed, .cancelled, .noAccess, .cannotComplete].contains(self) }
}

/// One seat of a crew: who holds it and whether they accepted.
struct Seat: Codable, Sendable, Equatable {
    enum Status: String, Codable, Sendable {
        case offered, accepted
    }

    /// 1-based.
    let seat: Int
    let technicianId: String
    let status: Status
    let offerId: UUID
    let expiresAt: Date?
    /// Why this technician was asked (or who assigned them and why).
    let why: String
}

/// A service order as the workflows use it, with its booking's coupon.
struct ServiceOrder: Sendable, Equatable {
    let id: UUID
    let bookingId: UUID
    let memberId: String
    let storeId: String
    let dealerId: String
    /// The store's, for its local day (the visit's weekday, hours and daily capacity).
    let timeZone: TimeZone
    let guideId: String?
    let serviceType: ServiceType
    let status: OrderStatus
    let reason: String?
    let startsAt: Date
    let endsAt: Date
    let address: String
    let noCandidateAlerted: Bool
    let deadlineAlerted: Bool
    let round: Int
    let couponCode: String?
    var seats: [Seat]
    /// Everyone offered a seat this round (a reschedule starts a new one): nobody is asked twice.
    let asked: Set<String>

    var placement: Access.Placement { .init(memberId: memberId, guideId: guideId, storeId: storeId, dealerId: dealerId) }
    var crew: [String] { seats.filter { $0.status == .accepted }.sorted { $0.seat < $1.seat }.map(\.technicianId) }
    func seat(of technicianId: String) -> Seat? { seats.first { $0.technicianId == technicianId } }
    var fullyStaffed: Bool { crew.count == serviceType.crewSize }
}

/// A phone number as a technician sees it before the visit is theirs: the country code and
/// the last four digits.
enum PhoneMask {
    static func mask(_ phone: String?) -> String? {
        guard let phone, phone.count > 4 else { return phone.map { _ in "****" } }
        let visible = phone.hasPrefix("+") ? min(3, phone.count - 4) : 0
        return String(phone.prefix(visible)) + String(repeating: "*", count: phone.count - 4 - visible) + String(phone.suffix(4))
    }
}
