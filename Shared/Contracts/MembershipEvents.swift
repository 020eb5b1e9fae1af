import Foundation

/// Roles of store staff as membership publishes them; the complaint ladder climbs through them.
public enum StaffRole: String, Codable, Sendable, CaseIterable {
    case guide
    case storeManager = "store_manager"
    case dealerAdmin = "dealer_admin"
    /// Does the home visits dispatch offers; belongs to a dealer, with a home store or none.
    case technician

    /// Guides and store managers work in one store; a dealer admin works for the whole dealer,
    /// and a technician may have a home store or serve the dealer's stores from none.
    public var needsStore: Bool { self == .guide || self == .storeManager }
}

func requireID(_ value: String, _ name: String) throws(EventValidationError) {
    // Not `trimmingCharacters(in:)`: on Linux it goes through NSString, which made checking
    // ids about 5 % of the membership service's CPU while it recorded a clearing's events.
    if value.allSatisfy(\.isWhitespace) { throw EventValidationError("\(name) must not be empty") }
}

/// A member joined, bound to a guide (when registered through a guide's invite code), a store
/// and a dealer. Carries the contact and consents so notification needs no call back.
public struct MemberRegistered: EventPayload, Equatable {
    public static let eventType = "membership.member.registered"
    public let memberId: String
    public let guideId: String?
    public let storeId: String
    public let dealerId: String
    public let serviceMessagesConsent: Bool
    public let marketingConsent: Bool
    /// E.164, e.g. `+8613812345678`. Optional in the schema so older events still decode.
    public let phone: String?
    public let name: String?
    public let referredBy: String?
    public let timeZone: String?

    public init(
        memberId: String,
        guideId: String?,
        storeId: String,
        dealerId: String,
        serviceMessagesConsent: Bool,
        marketingConsent: Bool,
        phone: String? = nil,
        name: String? = nil,
        referredBy: String? = nil,
        timeZone: String? = nil
    ) {
        self.memberId = memberId
        self.guideId = guideId
        self.storeId = storeId
        self.dealerId = dealerId
        self.serviceMessagesConsent = serviceMessagesConsent
        self.marketingConsent = marketingConsent
        self.phone = phone
        self.name = name
        self.referredBy = referredBy
        self.timeZone = timeZone
    }

    public func validate() throws(EventValidationError) {
        try requireID(memberId, "memberId")
        try requireID(storeId, "storeId")
        try requireID(dealerId, "dealerId")
        if let timeZone, TimeZone(checking: timeZone) == nil { throw EventValidationError("timeZone \(timeZone) is not a known time zone") }
    }
}

/// A member was handed over to another guide (e.g. because theirs left).
public struct MemberGuideReassigned: EventPayload, Equatable {
    public static let eventType = "membership.member.guide_reassigned"
    public let memberId: String
    public let fromGuideId: String?
    public let toGuideId: String
    public let storeId: String

    public init(memberId: String, fromGuideId: String?, toGuideId: String, storeId: String) {
        self.memberId = memberId
        self.fromGuideId = fromGuideId
        self.toGuideId = toGuideId
        self.storeId = storeId
    }

    public func validate() throws(EventValidationError) {
        try requireID(memberId, "memberId")
        try requireID(toGuideId, "toGuideId")
    }
}

/// Someone joined a dealer's staff: a guide or manager of a store, or the dealer's admin.
public struct StaffJoined: EventPayload, Equatable {
    public static let eventType = "membership.staff.joined"
    public let staffId: String
    public let role: StaffRole
    public let dealerId: String
    public let storeId: String?
    /// The phone alerts go to (E.164) and the name they are addressed by.
    public let phone: String?
    public let name: String?

    public init(staffId: String, role: StaffRole, dealerId: String, storeId: String?, phone: String? = nil, name: String? = nil) {
        self.staffId = staffId
        self.role = role
        self.dealerId = dealerId
        self.storeId = storeId
        self.phone = phone
        self.name = name
    }

    public func validate() throws(EventValidationError) {
        try requireID(staffId, "staffId")
        try requireID(dealerId, "dealerId")
        if role.needsStore, storeId?.isEmpty ?? true {
            throw EventValidationError("storeId is required for \(role.rawValue)")
        }
    }
}

public struct StaffLeft: EventPayload, Equatable {
    public static let eventType = "membership.staff.left"
    public let staffId: String

    public init(staffId: String) {
        self.staffId = staffId
    }

    public func validate() throws(EventValidationError) {
        try requireID(staffId, "staffId")
    }
}
