import AftercareRuntime
import Foundation
import Hummingbird

struct Birthday: Codable, Sendable, Equatable {
    let month: Int
    let day: Int
    let year: Int?

    func validate(field: String) -> [FieldProblem] {
        let lengths = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...12).contains(month) else { return [.init(field: "\(field).month", message: "must be 1 to 12")] }
        var problems: [FieldProblem] = []
        if !(1...lengths[month - 1]).contains(day) { problems.append(.init(field: "\(field).day", message: "is not a day of month \(month)")) }
        if let year, !(1900...2100).contains(year) { problems.append(.init(field: "\(field).year", message: "must be between 1900 and 2100")) }
        return problems
    }
}

struct Address: Codable, Sendable, Equatable {
    let label: String?
    let line: String
    let city: String?
    let postalCode: String?
}

func validateAddresses(_ addresses: [Address]?) -> [FieldProblem] {
    guard let addresses else { return [] }
    var problems: [FieldProblem] = []
    if addresses.count > 10 { problems.append(.init(field: "addresses", message: "must be at most 10")) }
    for (index, address) in addresses.enumerated() where address.line.trimmingCharacters(in: .whitespaces).isEmpty || address.line.count > 300 {
        problems.append(.init(field: "addresses[\(index)].line", message: "must be 1 to 300 characters"))
    }
    return problems
}

/// Joining: through a guide's invite code (binds guide, store and dealer), or by staff in the
/// store (a guide registers their own member; others name the guide).
struct Registration: ValidatedRequest, Sendable {
    let phone: String
    let name: String?
    let birthday: Birthday?
    let inviteCode: String?
    let guideId: String?
    let serviceMessagesConsent: Bool
    let marketingConsent: Bool
    /// The referring member's id, if a member brought this one in.
    let referredBy: UUID?
    let addresses: [Address]?

    func validate() -> [FieldProblem] {
        var problems: [FieldProblem] = []
        if Phone(phone) == nil { problems.append(.init(field: "phone", message: "is not a valid phone number")) }
        if let name, name.count > 100 { problems.append(.init(field: "name", message: "must be at most 100 characters")) }
        if let inviteCode, InviteCode.normalise(inviteCode).count != 8 {
            problems.append(.init(field: "inviteCode", message: "must be 8 characters"))
        }
        return problems + (birthday?.validate(field: "birthday") ?? []) + validateAddresses(addresses)
    }
}

/// A profile change: only the fields present change.
struct ProfileChange: ValidatedRequest, Sendable {
    let name: String?
    let birthday: Birthday?
    let addresses: [Address]?
    let serviceMessagesConsent: Bool?
    let marketingConsent: Bool?

    func validate() -> [FieldProblem] {
        var problems: [FieldProblem] = []
        if let name, name.count > 100 { problems.append(.init(field: "name", message: "must be at most 100 characters")) }
        return problems + (birthday?.validate(field: "birthday") ?? []) + validateAddresses(addresses)
    }

    var changedFields: [String] {
        [
            ("name", name != nil), ("birthday", birthday != nil), ("addresses", addresses != nil),
            ("serviceMessagesConsent", serviceMessagesConsent != nil), ("marketingConsent", marketingConsent != nil),
        ]
        .filter(\.1).map(\.0)
    }
}

struct TagsChange: ValidatedRequest, Sendable {
    let tags: [String]

    func validate() -> [FieldProblem] {
        var problems: [FieldProblem] = []
        if tags.count > 30 { problems.append(.init(field: "tags", message: "must be at most 30")) }
        for (index, tag) in tags.enumerated() where tag.trimmingCharacters(in: .whitespaces).isEmpty || tag.count > 40 {
            problems.append(.init(field: "tags[\(index)]", message: "must be 1 to 40 characters"))
        }
        return problems
    }
}

/// A member as a caller sees them; the phone is masked for roles that do not call members.
struct MemberView: ResponseCodable, Sendable, Equatable {
    let id: UUID
    let phone: String
    let name: String
    let birthday: Birthday?
    let addresses: [Address]
    let serviceMessagesConsent: Bool
    let marketingConsent: Bool
    let tags: [String]
    let guideId: String?
    let storeId: String
    let dealerId: String
    let referredBy: UUID?
    let tier: String
    let pointsBalance: Int64
    let registeredAt: Date
}
