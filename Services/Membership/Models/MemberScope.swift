import AftercareRuntime
import Foundation

/// Who sees which members: HQ (and platform services) everyone, a dealer admin the dealer's,
/// a store manager the store's, a guide their own members, a member only themself. Rows
/// outside the scope read as not found.
enum MemberScope {
    /// A SQL condition on `members m` and the value it binds as `$1`, or nil when the caller
    /// sees everything. Roles with no member access get a condition that matches nothing.
    static func filter(for caller: Principal) -> (condition: String, value: String)? {
        switch caller.role {
        case .hqAdmin, .service: nil
        case .dealerAdmin: ("m.dealer_id = $1", caller.dealerID ?? "")
        case .storeManager: ("m.store_id = $1", caller.storeID ?? "")
        case .guide: ("m.guide_id = $1", caller.subject)
        case .member: ("m.id::text = $1", caller.subject)
        case .technician: ("false AND $1 = ''", "")
        }
    }

    static func covers(_ caller: Principal, member: MemberPlacement) -> Bool {
        switch caller.role {
        case .hqAdmin, .service: true
        case .dealerAdmin: caller.dealerID == member.dealerId
        case .storeManager: caller.storeID == member.storeId
        case .guide: caller.subject == member.guideId
        case .member: caller.subject == member.id.uuidString.lowercased()
        case .technician: false
        }
    }

    /// Guides and store managers call their members, and a member sees their own number;
    /// dealer admins and HQ work with masked numbers.
    static func seesFullPhone(_ caller: Principal) -> Bool {
        switch caller.role {
        case .guide, .storeManager, .member, .service: true
        case .dealerAdmin, .hqAdmin, .technician: false
        }
    }
}

/// Who a member belongs to: enough to decide scope.
struct MemberPlacement: Sendable, Equatable {
    let id: UUID
    let guideId: String?
    let storeId: String
    let dealerId: String
}
