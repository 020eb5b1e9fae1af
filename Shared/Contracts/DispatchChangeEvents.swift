import Foundation

/// Every change of a booking, a service order or one seat's offer is an event with who made
/// it and why. Each kind of change has its own event type (its routing key) but the changes
/// of one thing share one shape, so consumers read them alike: `BookingChange<Kind>`,
/// `OrderChange<Kind>` and `OfferChange<Kind>`, with the kinds below.
public protocol DispatchChangeKind: Sendable {
    static var eventType: String { get }
}

/// A booking: the member's visit in a slot, before and besides its service order.
public struct BookingChange<Kind: DispatchChangeKind>: EventPayload, Equatable {
    public static var eventType: String { Kind.eventType }
    public let bookingId: UUID
    public let orderId: UUID?
    public let memberId: String
    public let storeId: String
    public let dealerId: String
    public let serviceType: String
    public let startsAt: Date
    /// The service coupon the booking pays with: the coupon service reserves it on
    /// `dispatch.booking.requested` and releases it on `dispatch.booking.cancelled`.
    public let couponCode: String?
    /// Who made the change (a member id, a staff id, or `dispatch`).
    public let actorId: String
    public let reason: String?

    public init(
        bookingId: UUID,
        orderId: UUID?,
        memberId: String,
        storeId: String,
        dealerId: String,
        serviceType: String,
        startsAt: Date,
        couponCode: String?,
        actorId: String,
        reason: String?
    ) {
        self.bookingId = bookingId
        self.orderId = orderId
        self.memberId = memberId
        self.storeId = storeId
        self.dealerId = dealerId
        self.serviceType = serviceType
        self.startsAt = startsAt
        self.couponCode = couponCode
        self.actorId = actorId
        self.reason = reason
    }

    public func validate() throws(EventValidationError) {
        try requireID(memberId, "memberId")
        try requireID(storeId, "storeId")
        try requireID(dealerId, "dealerId")
        try requireID(serviceType, "serviceType")
        if let couponCode { try requireID(couponCode, "couponCode") }
    }
}

public enum BookingRequestedKind: DispatchChangeKind { public static let eventType = "dispatch.booking.requested" }
public enum BookingConfirmedKind: DispatchChangeKind { public static let eventType = "dispatch.booking.confirmed" }
public enum BookingRefusedKind: DispatchChangeKind { public static let eventType = "dispatch.booking.refused" }
public enum BookingRescheduledKind: DispatchChangeKind { public static let eventType = "dispatch.booking.rescheduled" }
public enum BookingCancelledKind: DispatchChangeKind { public static let eventType = "dispatch.booking.cancelled" }

/// A booking was made; with a coupon it waits for the coupon service's reservation.
public typealias BookingRequested = BookingChange<BookingRequestedKind>
public typealias BookingConfirmed = BookingChange<BookingConfirmedKind>
/// The coupon service refused the booking's coupon (`reason` is its reason).
public typealias BookingRefused = BookingChange<BookingRefusedKind>
public typealias BookingRescheduled = BookingChange<BookingRescheduledKind>
/// Cancelled by the member or staff, or expired waiting for its coupon: a reserved coupon
/// is released.
public typealias BookingCancelled = BookingChange<BookingCancelledKind>

/// A service order: one visit, its crew and its progress.
public struct OrderChange<Kind: DispatchChangeKind>: EventPayload, Equatable {
    public static var eventType: String { Kind.eventType }
    public let orderId: UUID
    public let bookingId: UUID
    public let memberId: String
    public let storeId: String
    public let dealerId: String
    public let serviceType: String
    public let startsAt: Date
    public let endsAt: Date
    /// The crew as it stands after the change (accepted or assigned seats).
    public let technicianIds: [String]
    public let couponCode: String?
    public let actorId: String
    public let reason: String?

    public init(
        orderId: UUID,
        bookingId: UUID,
        memberId: String,
        storeId: String,
        dealerId: String,
        serviceType: String,
        startsAt: Date,
        endsAt: Date,
        technicianIds: [String],
        couponCode: String?,
        actorId: String,
        reason: String?
    ) {
        self.orderId = orderId
        self.bookingId = bookingId
        self.memberId = memberId
        self.storeId = storeId
        self.dealerId = dealerId
        self.serviceType = serviceType
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.technicianIds = technicianIds
        self.couponCode = couponCode
        self.actorId = actorId
        self.reason = reason
    }

    public func validate() throws(EventValidationError) {
        try requireID(memberId, "memberId")
        try requireID(storeId, "storeId")
        try requireID(dealerId, "dealerId")
        for id in technicianIds { try requireID(id, "technicianIds[]") }
    }
}

public enum OrderCreatedKind: DispatchChangeKind { public static let eventType = "dispatch.order.created" }
public enum OrderDispatchedKind: DispatchChangeKind { public static let eventType = "dispatch.order.dispatched" }
public enum OrderEnRouteKind: DispatchChangeKind { public static let eventType = "dispatch.order.en_route" }
public enum OrderStartedKind: DispatchChangeKind { public static let eventType = "dispatch.order.started" }
public enum OrderCancelledKind: DispatchChangeKind { public static let eventType = "dispatch.order.cancelled" }
public enum OrderNoAccessKind: DispatchChangeKind { public static let eventType = "dispatch.order.no_access" }
public enum OrderCannotCompleteKind: DispatchChangeKind { public static let eventType = "dispatch.order.cannot_complete" }
public enum CrewIncompleteKind: DispatchChangeKind { public static let eventType = "dispatch.order.crew_incomplete" }

public typealias ServiceOrderCreated = OrderChange<OrderCreatedKind>
/// Every seat of the crew accepted (or was assigned): the member learns who comes and when.
public typealias ServiceOrderDispatched = OrderChange<OrderDispatchedKind>
public typealias ServiceOrderEnRoute = OrderChange<OrderEnRouteKind>
public typealias ServiceOrderStarted = OrderChange<OrderStartedKind>
/// Cancelled with its booking: a reserved coupon is released.
public typealias ServiceOrderCancelled = OrderChange<OrderCancelledKind>
/// Nobody was home: the member is contacted to rebook; a reserved coupon is released.
public typealias ServiceOrderNoAccess = OrderChange<OrderNoAccessKind>
/// The crew could not finish (`reason`); a reserved coupon is released.
public typealias ServiceOrderCannotComplete = OrderChange<OrderCannotCompleteKind>
/// The store manager's alert (critical): no candidate is left for a seat, or the crew is
/// still incomplete shortly before the slot.
public typealias CrewIncomplete = OrderChange<CrewIncompleteKind>

/// One seat's offer to one technician.
public struct OfferChange<Kind: DispatchChangeKind>: EventPayload, Equatable {
    public static var eventType: String { Kind.eventType }
    public let orderId: UUID
    /// 1-based: seat 1 of a crew of two, seat 2.
    public let seat: Int
    public let technicianId: String
    public let memberId: String
    public let storeId: String
    public let dealerId: String
    public let serviceType: String
    public let startsAt: Date
    /// When an open offer lapses.
    public let expiresAt: Date?
    public let actorId: String
    public let reason: String?

    public init(
        orderId: UUID,
        seat: Int,
        technicianId: String,
        memberId: String,
        storeId: String,
        dealerId: String,
        serviceType: String,
        startsAt: Date,
        expiresAt: Date?,
        actorId: String,
        reason: String?
    ) {
        self.orderId = orderId
        self.seat = seat
        self.technicianId = technicianId
        self.memberId = memberId
        self.storeId = storeId
        self.dealerId = dealerId
        self.serviceType = serviceType
        self.startsAt = startsAt
        self.expiresAt = expiresAt
        self.actorId = actorId
        self.reason = reason
    }

    public func validate() throws(EventValidationError) {
        try requireID(technicianId, "technicianId")
        try requireID(storeId, "storeId")
        if !(1...2).contains(seat) { throw EventValidationError("seat must be 1 or 2") }
    }
}

public enum OfferMadeKind: DispatchChangeKind { public static let eventType = "dispatch.offer.made" }
public enum OfferAcceptedKind: DispatchChangeKind { public static let eventType = "dispatch.offer.accepted" }
public enum OfferDeclinedKind: DispatchChangeKind { public static let eventType = "dispatch.offer.declined" }
public enum OfferExpiredKind: DispatchChangeKind { public static let eventType = "dispatch.offer.expired" }
public enum SeatAssignedKind: DispatchChangeKind { public static let eventType = "dispatch.seat.assigned" }
public enum SeatReleasedKind: DispatchChangeKind { public static let eventType = "dispatch.seat.released" }

/// A seat is offered to a technician until `expiresAt` (in-app and SMS to them).
public typealias OfferMade = OfferChange<OfferMadeKind>
public typealias OfferAccepted = OfferChange<OfferAcceptedKind>
public typealias OfferDeclined = OfferChange<OfferDeclinedKind>
/// Not answered in time: the seat goes to the next candidate.
public typealias OfferExpired = OfferChange<OfferExpiredKind>
/// A store manager or dealer admin put a technician on a seat by hand (`reason` says why).
public typealias SeatAssigned = OfferChange<SeatAssignedKind>
/// A technician lost a seat: swapped by hand, they left, or the visit moved.
public typealias SeatReleased = OfferChange<SeatReleasedKind>
