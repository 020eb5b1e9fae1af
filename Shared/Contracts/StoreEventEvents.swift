import Foundation

/// A store event (a product day, a care workshop) was set up: where, when, its gift and how
/// many may check in.
public struct StoreEventCreated: EventPayload, Equatable {
    public static let eventType = "coupon.store_event.created"
    public let eventId: UUID
    public let name: String
    public let storeId: String
    public let dealerId: String
    public let startsAt: Date
    public let endsAt: Date
    public let giftTemplateId: UUID
    public let capacity: Int?
    public let createdBy: String

    public init(
        eventId: UUID,
        name: String,
        storeId: String,
        dealerId: String,
        startsAt: Date,
        endsAt: Date,
        giftTemplateId: UUID,
        capacity: Int?,
        createdBy: String
    ) {
        self.eventId = eventId
        self.name = name
        self.storeId = storeId
        self.dealerId = dealerId
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.giftTemplateId = giftTemplateId
        self.capacity = capacity
        self.createdBy = createdBy
    }

    public func validate() throws(EventValidationError) {
        try requireID(storeId, "storeId")
        try requireID(dealerId, "dealerId")
    }
}

/// A guide or store staff invited a member to a store event (once per member and event).
public struct StoreEventMemberInvited: EventPayload, Equatable {
    public static let eventType = "coupon.store_event.member_invited"
    public let eventId: UUID
    public let name: String
    public let memberId: String
    public let storeId: String
    public let startsAt: Date
    public let endsAt: Date
    public let invitedBy: String

    public init(eventId: UUID, name: String, memberId: String, storeId: String, startsAt: Date, endsAt: Date, invitedBy: String) {
        self.eventId = eventId
        self.name = name
        self.memberId = memberId
        self.storeId = storeId
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.invitedBy = invitedBy
    }

    public func validate() throws(EventValidationError) {
        try requireID(memberId, "memberId")
        try requireID(storeId, "storeId")
    }
}

/// A member checked in at a store event (the first time only); `couponCode` is the gift
/// issued for it, absent when the gift was refused (`giftRefusal` says why).
public struct StoreEventCheckedIn: EventPayload, Equatable {
    public static let eventType = "coupon.store_event.checked_in"
    public let eventId: UUID
    public let memberId: String
    public let storeId: String
    public let dealerId: String
    public let invited: Bool
    public let checkedInAt: Date
    public let checkedInBy: String
    public let couponCode: String?
    public let giftRefusal: String?

    public init(
        eventId: UUID,
        memberId: String,
        storeId: String,
        dealerId: String,
        invited: Bool,
        checkedInAt: Date,
        checkedInBy: String,
        couponCode: String?,
        giftRefusal: String?
    ) {
        self.eventId = eventId
        self.memberId = memberId
        self.storeId = storeId
        self.dealerId = dealerId
        self.invited = invited
        self.checkedInAt = checkedInAt
        self.checkedInBy = checkedInBy
        self.couponCode = couponCode
        self.giftRefusal = giftRefusal
    }

    public func validate() throws(EventValidationError) {
        try requireID(memberId, "memberId")
        try requireID(storeId, "storeId")
    }
}
