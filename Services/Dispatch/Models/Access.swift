import AftercareRuntime

/// Who sees and acts on which bookings and orders: HQ everything, a dealer admin their
/// dealer's, a store manager their store's, a guide their bound members', a member their own.
/// Technicians see only orders offered or dispatched to them (checked on the seats).
enum Access {
    typealias Placement = MemberPlacement

    static func covers(_ caller: Principal, _ placement: Placement) -> Bool { caller.covers(placement) }

    /// Setting a technician's profile: their dealer's admin, or HQ.
    static func managesTechnicians(_ caller: Principal, dealerId: String) -> Bool {
        caller.role == .hqAdmin || (caller.role == .dealerAdmin && caller.dealerID == dealerId)
    }

    /// Reading a technician's profile: who manages them, their dealer's store managers (who
    /// assign by hand), and the technician themselves.
    static func seesTechnician(_ caller: Principal, technicianId: String, dealerId: String) -> Bool {
        managesTechnicians(caller, dealerId: dealerId) || (caller.role == .storeManager && caller.dealerID == dealerId)
            || caller.subject == technicianId
    }

    /// Assigning or swapping a seat by hand, over the rules: the store's manager, the dealer's
    /// admin, or HQ.
    static func assignsByHand(_ caller: Principal, storeId: String, dealerId: String) -> Bool {
        switch caller.role {
        case .hqAdmin: true
        case .dealerAdmin: caller.dealerID == dealerId
        case .storeManager: caller.storeID == storeId
        default: false
        }
    }
}
