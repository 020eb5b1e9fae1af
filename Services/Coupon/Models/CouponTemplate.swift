import AftercareRuntime
import Foundation

/// What a coupon gives: an amount off, a percentage off up to a cap, a gift collected at the
/// store desk, or a free visit of a dispatch service type.
enum CouponKind: String, Codable, Sendable, CaseIterable {
    case amountOff = "amount_off"
    case percentOff = "percent_off"
    case gift
    case freeService = "free_service"
}

/// A template's definition as HQ or a dealer admin writes it (`POST` and `PUT
/// /api/v1/coupon-templates`), and as the database keeps it.
struct TemplateDefinition: ValidatedRequest, Codable, Sendable, Equatable {
    let name: String
    let kind: String
    var amountCents: Int? = nil
    var percent: Int? = nil
    var capCents: Int? = nil
    var gift: String? = nil
    var serviceType: String? = nil
    /// Fixed validity (ISO 8601 date-times), or `validDays` from the day of issue.
    var validFrom: String? = nil
    var validUntil: String? = nil
    var validDays: Int? = nil
    /// Which dealers and stores honour it; both empty: every store (of the template's dealer,
    /// for a dealer's own template).
    var dealers: [String] = []
    var stores: [String] = []
    /// The budget: no more are ever issued. Nil: no limit.
    var quantity: Int? = nil
    var perMember: Int? = nil
    /// Roles that may issue it: `hq_admin`, `dealer_admin`, `store_manager`, `guide`.
    var issuers = Array(Self.issuerRoles).sorted()
    /// How many one guide may issue in a calendar month. Nil: no allowance.
    var guideMonthly: Int? = nil

    static let issuerRoles: Set<String> = ["hq_admin", "dealer_admin", "store_manager", "guide"]

    init(name: String, kind: String) {
        self.name = name
        self.kind = kind
    }

    /// Everything but the name and the kind may be left out.
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        kind = try container.decode(String.self, forKey: .kind)
        amountCents = try container.decodeIfPresent(Int.self, forKey: .amountCents)
        percent = try container.decodeIfPresent(Int.self, forKey: .percent)
        capCents = try container.decodeIfPresent(Int.self, forKey: .capCents)
        gift = try container.decodeIfPresent(String.self, forKey: .gift)
        serviceType = try container.decodeIfPresent(String.self, forKey: .serviceType)
        validFrom = try container.decodeIfPresent(String.self, forKey: .validFrom)
        validUntil = try container.decodeIfPresent(String.self, forKey: .validUntil)
        validDays = try container.decodeIfPresent(Int.self, forKey: .validDays)
        dealers = try container.decodeIfPresent([String].self, forKey: .dealers) ?? []
        stores = try container.decodeIfPresent([String].self, forKey: .stores) ?? []
        quantity = try container.decodeIfPresent(Int.self, forKey: .quantity)
        perMember = try container.decodeIfPresent(Int.self, forKey: .perMember)
        issuers = try container.decodeIfPresent([String].self, forKey: .issuers) ?? Array(Self.issuerRoles).sorted()
        guideMonthly = try container.decodeIfPresent(Int.self, forKey: .guideMonthly)
    }

    var couponKind: CouponKind { CouponKind(rawValue: kind) ?? .gift }
    var fixedFrom: Date? { validFrom.flatMap(ISO8601.date) }
    var fixedUntil: Date? { validUntil.flatMap(ISO8601.date) }

    func validate() -> [FieldProblem] {
        var problems = validateName(name, field: "name")
        guard let kind = CouponKind(rawValue: kind) else {
            let kinds = CouponKind.allCases.map(\.rawValue).joined(separator: ", ")
            return problems + [.init(field: "kind", message: "must be one of \(kinds)")]
        }
        switch kind {
        case .amountOff:
            if !(1...100_000_000).contains(amountCents ?? 0) { problems.append(.init(field: "amountCents", message: "must be 1 to 100000000")) }
        case .percentOff:
            if !(1...100).contains(percent ?? 0) { problems.append(.init(field: "percent", message: "must be 1 to 100")) }
            if let capCents, !(1...100_000_000).contains(capCents) { problems.append(.init(field: "capCents", message: "must be 1 to 100000000")) }
        case .gift:
            if !validateName(gift ?? "", field: "gift").isEmpty {
                problems.append(.init(field: "gift", message: "must name the gift, 1 to 100 characters"))
            }
        case .freeService:
            problems += validateCode(serviceType ?? "", field: "serviceType")
        }
        problems += validity()
        if dealers.count > 500 { problems.append(.init(field: "dealers", message: "must name at most 500 dealers")) }
        for (index, dealer) in dealers.enumerated() { problems += validateCode(dealer, field: "dealers[\(index)]") }
        if stores.count > 2000 { problems.append(.init(field: "stores", message: "must name at most 2000 stores")) }
        for (index, store) in stores.enumerated() { problems += validateCode(store, field: "stores[\(index)]") }
        if let quantity, !(1...100_000_000).contains(quantity) { problems.append(.init(field: "quantity", message: "must be 1 to 100000000")) }
        if let perMember, !(1...1000).contains(perMember) { problems.append(.init(field: "perMember", message: "must be 1 to 1000")) }
        if let guideMonthly, !(1...100_000).contains(guideMonthly) {
            problems.append(.init(field: "guideMonthly", message: "must be 1 to 100000"))
        }
        if issuers.isEmpty || !Set(issuers).isSubset(of: Self.issuerRoles) {
            problems.append(.init(field: "issuers", message: "must name one or more of hq_admin, dealer_admin, store_manager, guide"))
        }
        return problems
    }

    private func validity() -> [FieldProblem] {
        switch (validFrom, validUntil, validDays) {
        case (nil, nil, let days?):
            return (1...3650).contains(days) ? [] : [.init(field: "validDays", message: "must be 1 to 3650")]
        case (let from?, let until?, nil):
            guard let start = ISO8601.date(from) else { return [.init(field: "validFrom", message: "must be an ISO 8601 date-time")] }
            guard let end = ISO8601.date(until) else { return [.init(field: "validUntil", message: "must be an ISO 8601 date-time")] }
            return end > start ? [] : [.init(field: "validUntil", message: "must be after validFrom")]
        default:
            return [.init(field: "validDays", message: "give either validDays or both validFrom and validUntil")]
        }
    }

    /// The terms an issued coupon keeps, whatever later happens to the template (`dealerId`:
    /// the template's own dealer, nil for a brand-wide one).
    func terms(dealerId: String?) -> CouponTerms {
        CouponTerms(
            title: name,
            dealerId: dealerId,
            kind: couponKind,
            amountCents: amountCents,
            percent: percent,
            capCents: capCents,
            gift: gift,
            serviceType: serviceType,
            dealers: dealers,
            stores: stores
        )
    }
}

/// An issued coupon's own terms: what it gives and where it is honoured.
struct CouponTerms: Codable, Sendable, Equatable {
    let title: String
    /// A dealer's own template is honoured by that dealer's stores alone.
    let dealerId: String?
    let kind: CouponKind
    let amountCents: Int?
    let percent: Int?
    let capCents: Int?
    let gift: String?
    let serviceType: String?
    let dealers: [String]
    let stores: [String]

    /// Both lists empty: every store the template reaches (its dealer's, for a dealer's own
    /// template).
    func honours(storeId: String, dealerId: String) -> Bool {
        if let own = self.dealerId, own != dealerId { return false }
        if dealers.isEmpty && stores.isEmpty { return true }
        return dealers.contains(dealerId) || stores.contains(storeId)
    }
}
