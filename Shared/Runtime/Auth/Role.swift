/// Who a caller is in the brand's organisation; carried in the token's `role` claim.
public enum Role: String, Codable, CaseIterable, Sendable {
    case hqAdmin = "hq_admin"
    case dealerAdmin = "dealer_admin"
    case storeManager = "store_manager"
    case guide
    case technician
    case member
    /// Another Aftercare service or an operator tool acting for the platform.
    case service
}

/// The authenticated caller: subject and the dealer/store scope their rows are limited to.
public struct Principal: Sendable, Equatable {
    public let subject: String
    public let role: Role
    public let dealerID: String?
    public let storeID: String?

    public init(subject: String, role: Role, dealerID: String?, storeID: String?) {
        self.subject = subject
        self.role = role
        self.dealerID = dealerID
        self.storeID = storeID
    }
}
