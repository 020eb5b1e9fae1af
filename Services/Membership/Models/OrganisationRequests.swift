import AftercareContracts
import AftercareRuntime
import Foundation
import Hummingbird

struct NewDealer: ResponseCodable, ValidatedRequest, Sendable {
    let id: String
    let name: String

    func validate() -> [FieldProblem] { validateCode(id, field: "id") + validateName(name, field: "name") }
}

/// Store hours arrive as `BusinessHours` (shared with feedback, which reads them from
/// the store's event); membership checks them when a store is created.
extension BusinessHours {
    func validate() -> [FieldProblem] {
        var problems: [FieldProblem] = []
        for (index, day) in days.enumerated() {
            if !(1...7).contains(day.weekday) {
                problems.append(.init(field: "businessHours.days[\(index)].weekday", message: "must be 1 (Monday) to 7"))
            }
            for (name, value) in [("opens", day.opens), ("closes", day.closes)] where Self.minutes(value) == nil {
                problems.append(.init(field: "businessHours.days[\(index)].\(name)", message: "must be HH:mm"))
            }
            if let opens = Self.minutes(day.opens), let closes = Self.minutes(day.closes), opens >= closes {
                problems.append(.init(field: "businessHours.days[\(index)].closes", message: "must be after opens"))
            }
        }
        return problems
    }
}

struct NewStore: ValidatedRequest, Sendable {
    let id: String
    let dealerId: String
    let name: String
    let address: String?
    let timeZone: String
    let businessHours: BusinessHours?

    func validate() -> [FieldProblem] {
        var problems = validateCode(id, field: "id") + validateCode(dealerId, field: "dealerId") + validateName(name, field: "name")
        if TimeZone(checking: timeZone) == nil {
            problems.append(.init(field: "timeZone", message: "is not an IANA time zone (e.g. Asia/Shanghai) or UTC"))
        }
        if let address, address.count > 300 { problems.append(.init(field: "address", message: "must be at most 300 characters")) }
        return problems + (businessHours?.validate() ?? [])
    }
}

struct NewStaff: ValidatedRequest, Sendable {
    let id: String
    let dealerId: String
    let storeId: String?
    let role: StaffRole
    let name: String
    let phone: String

    func validate() -> [FieldProblem] {
        var problems = validateCode(id, field: "id") + validateCode(dealerId, field: "dealerId") + validateName(name, field: "name")
        if Phone(phone) == nil { problems.append(.init(field: "phone", message: "is not a valid phone number")) }
        if role.needsStore, storeId == nil { problems.append(.init(field: "storeId", message: "is required for \(role.rawValue)")) }
        if let storeId { problems += validateCode(storeId, field: "storeId") }
        return problems
    }
}

/// A staff member leaves; their members go to `handoverTo` (an active guide of the same store)
/// or, if none is named, to the store's least-loaded active guide.
struct StaffDeparture: ValidatedRequest, Sendable {
    let handoverTo: String?

    func validate() -> [FieldProblem] { handoverTo.map { validateCode($0, field: "handoverTo") } ?? [] }
}
