/// Where a member belongs: their guide (if bound), store and dealer. Services keep it from
/// membership's events and decide scope by it.
public struct MemberPlacement: Sendable, Equatable {
    public let memberId: String
    public let guideId: String?
    public let storeId: String
    public let dealerId: String

    public init(memberId: String, guideId: String?, storeId: String, dealerId: String) {
        self.memberId = memberId
        self.guideId = guideId
        self.storeId = storeId
        self.dealerId = dealerId
    }
}

extension Principal {
    /// Whether the caller acts for this member: HQ (and services) for everyone, a dealer
    /// admin for their dealer's members, a store manager for their store's, a guide for their
    /// bound members, a member for themselves. Technicians act for nobody.
    public func covers(_ placement: MemberPlacement) -> Bool {
        switch role {
        case .hqAdmin, .service: true
        case .dealerAdmin: dealerID == placement.dealerId
        case .storeManager: storeID == placement.storeId
        case .guide: subject == placement.guideId
        case .member: subject == placement.memberId
        case .technician: false
        }
    }
}
