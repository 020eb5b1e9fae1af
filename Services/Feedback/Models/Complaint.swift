import AftercareRuntime
import Foundation

enum ComplaintChannel: String, Codable, CaseIterable, Sendable {
    case miniProgram = "mini_program"
    case officialAccount = "official_account"
    case hotline
    case inStore = "in_store"
    case review
}

enum ComplaintCategory: String, Codable, CaseIterable, Sendable {
    case productQuality = "product_quality"
    case deliveryInstallation = "delivery_installation"
    case serviceVisit = "service_visit"
    case staffAttitude = "staff_attitude"
    case other
}

enum ComplaintSeverity: String, Codable, CaseIterable, Sendable {
    case low, medium, high, critical
}

/// A complaint as the API accepts it. Members complain for themselves; staff name the member.
struct OpenComplaintRequest: ValidatedRequest {
    static let maxDescription = 2000

    let memberId: String?
    let channel: String
    let category: String
    let severity: String
    let description: String
    let relatedReference: String?

    func validate() -> [FieldProblem] {
        var problems: [FieldProblem] = []
        func oneOf<T: RawRepresentable & CaseIterable>(_ value: String, _ type: T.Type, field: String) where T.RawValue == String {
            if T(rawValue: value) == nil {
                problems.append(.init(field: field, message: "must be one of \(T.allCases.map(\.rawValue).joined(separator: ", "))"))
            }
        }
        oneOf(channel, ComplaintChannel.self, field: "channel")
        oneOf(category, ComplaintCategory.self, field: "category")
        oneOf(severity, ComplaintSeverity.self, field: "severity")
        if description.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            problems.append(.init(field: "description", message: "must not be empty"))
        } else if description.count > Self.maxDescription {
            problems.append(.init(field: "description", message: "must be at most \(Self.maxDescription) characters"))
        }
        if let memberId, memberId.isEmpty { problems.append(.init(field: "memberId", message: "must not be empty")) }
        if (relatedReference?.count ?? 0) > 100 { problems.append(.init(field: "relatedReference", message: "must be at most 100 characters")) }
        return problems
    }
}
