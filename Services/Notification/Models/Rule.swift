import AftercareContracts
import AftercareRuntime
import Foundation

/// How much a message may intrude. Critical staff alerts ignore quiet hours and opt-outs;
/// service messages need the member's service consent; marketing needs marketing consent,
/// respects the daily cap, and is what an unsubscribe reply stops.
enum MessageCategory: String, Codable, Sendable, CaseIterable {
    case critical, service, marketing
}

/// Who a rule addresses, resolved from the event and the projections.
enum RecipientKind: String, Codable, Sendable, CaseIterable {
    /// The member the event is about (`memberId`).
    case member
    /// That member's guide.
    case guide
    /// The staff member a callback task is assigned to (`assigneeId`).
    case assignee
    /// The manager of the store in the event (`storeId`), or of the member's store.
    case storeManager = "store_manager"
    /// The technician a service order's seat is offered to (`technicianId`).
    case technician
}

/// When the message goes out.
enum RuleTiming: String, Codable, Sendable, CaseIterable {
    case immediately
    /// The last day of the event's month, at 10:00 on the recipient's wall clock (the
    /// birthday gift is about to lapse).
    case monthEnd = "month_end"
}

/// One routing rule: an event type to a template, a recipient and channels.
struct Rule: Codable, Sendable, Equatable {
    var id: String
    var eventType: String
    var templateKey: String
    var recipient: RecipientKind
    var channels: [MessageChannel]
    var category: MessageCategory
    var timing: RuleTiming
    var enabled: Bool
}

/// `PUT /api/v1/rules/{id}`: everything but the id.
struct RuleRequest: ValidatedRequest, Sendable {
    var eventType: String
    var templateKey: String
    var recipient: RecipientKind
    var channels: [MessageChannel]
    var category: MessageCategory
    var timing: RuleTiming?
    var enabled: Bool?

    func validate() -> [FieldProblem] {
        var problems: [FieldProblem] = []
        if EventCatalog.variables(of: eventType) == nil {
            problems.append(FieldProblem(field: "eventType", message: "is not an event the notification service receives"))
        }
        if channels.isEmpty { problems.append(FieldProblem(field: "channels", message: "must name at least one channel")) }
        if Set(channels).count != channels.count { problems.append(FieldProblem(field: "channels", message: "must not repeat a channel")) }
        if category == .critical, recipient == .member {
            problems.append(FieldProblem(field: "category", message: "critical is for staff alerts; a member's messages respect their preferences"))
        }
        return problems
    }

    func rule(id: String) -> Rule {
        Rule(
            id: id,
            eventType: eventType,
            templateKey: templateKey,
            recipient: recipient,
            channels: channels,
            category: category,
            timing: timing ?? .immediately,
            enabled: enabled ?? true
        )
    }
}
