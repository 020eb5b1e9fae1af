import AftercareRuntime

/// Who manages and reads templates, and who works the desk (a store's manager or guide, at
/// their own store). Who issues to and sees whose coupons is `Principal.covers`.
enum Access {
    /// Templates: HQ's are brand-wide, a dealer admin's their dealer's; staff read the ones
    /// they may issue from (brand-wide and their dealer's).
    static func managesTemplate(_ caller: Principal, dealerId: String?) -> Bool {
        caller.role == .hqAdmin || (caller.role == .dealerAdmin && dealerId != nil && caller.dealerID == dealerId)
    }

    static func seesTemplate(_ caller: Principal, dealerId: String?) -> Bool {
        caller.role == .hqAdmin || dealerId == nil || caller.dealerID == dealerId
    }

    /// The store a desk caller redeems at.
    static func deskStore(_ caller: Principal) -> String? {
        [.storeManager, .guide].contains(caller.role) ? caller.storeID : nil
    }
}
