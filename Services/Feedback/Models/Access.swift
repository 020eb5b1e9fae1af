import AftercareRuntime

/// Which rows a caller may see and act on: HQ everything, a dealer admin their dealer's,
/// store managers and guides their store's. Members act only on their own complaints.
enum Access {
    static func covers(_ caller: Principal, storeId: String, dealerId: String) -> Bool {
        switch caller.role {
        case .hqAdmin, .service: true
        case .dealerAdmin: caller.dealerID == dealerId
        case .storeManager, .guide: caller.storeID == storeId
        case .member, .technician: false
        }
    }

    /// Opening a complaint: members for themselves (checked by the caller), staff within scope.
    static func canAct(_ caller: Principal, storeId: String, dealerId: String) -> Bool {
        caller.role == .member || covers(caller, storeId: storeId, dealerId: dealerId)
    }
}
